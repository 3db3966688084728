"""Paged lists: one shape for every list a service returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with the total count matching the filters."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, stmt: Select[Any], *, limit: int, offset: int) -> Page[Any]:
    """Run ``stmt`` for one page and count all rows it would return."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.limit(limit).offset(offset)).unique().all()
    return Page(items=items, total=total, limit=limit, offset=offset)
