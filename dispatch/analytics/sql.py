"""SQL building blocks the two databases spell differently: minutes between two timestamps,
and the local date of a timestamp at a fixed UTC offset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class minutes_between(FunctionElement[float]):
    """``(end - start)`` in minutes, as a float; NULL when either is NULL."""

    type = Float()
    name = "minutes_between"
    inherit_cache = True


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element: minutes_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 1440.0)"
    )


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element: minutes_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 60.0)"
    )


class local_date(FunctionElement[Any]):
    """The calendar date of a UTC timestamp shifted by ``offset_minutes``."""

    type = Date()
    name = "local_date"
    # The offset is rendered into the SQL text, so a cached statement must not be reused for
    # another offset.
    inherit_cache = False

    def __init__(self, moment: ColumnElement[Any], offset_minutes: int) -> None:
        self.offset_minutes = int(offset_minutes)
        super().__init__(moment)


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"date({compiler.process(moment, **kw)}, '{element.offset_minutes:+d} minutes')"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return (
        f"CAST(({compiler.process(moment, **kw)} AT TIME ZONE 'UTC') "
        f"+ INTERVAL '{element.offset_minutes} minutes' AS DATE)"
    )
