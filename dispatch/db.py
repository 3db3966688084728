"""Engine, sessions and the unit of work. Whoever opens the unit of work commits it."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from dispatch.errors import Conflict, Unavailable

ROOT = Path(__file__).resolve().parent.parent
SessionFactory: TypeAlias = sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions on its own schedule, which breaks SAVEPOINT and transactional
    # DDL; hand transaction control to SQLAlchemy (BEGIN is emitted in _sqlite_begin).
    dbapi_connection.isolation_level = None
    # SQLite ignores foreign keys unless asked on every connection; WAL lets readers run beside a
    # writer, and busy_timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    # IMMEDIATE takes the write lock up front: a transaction that read first and writes later
    # would otherwise fail at once with "database is locked" when another writer committed in
    # between (SQLite cannot upgrade a stale snapshot); this way writers queue on busy_timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the per-dialect settings Onsite relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 10}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after it),
    and write the outbox's events with the changes they tell of."""
    from dispatch.notify.events import install

    install()
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


Row = TypeVar("Row")


def held_by_id(
    session: Session, model: type[Row], ids: Iterable[int]
) -> tuple[dict[int, Row], list[int]]:
    """The rows the session holds, current (not expired), by primary key; and the ids it
    does not."""
    found: dict[int, Row] = {}
    missing: list[int] = []
    for id_ in dict.fromkeys(ids):
        held = session.identity_map.get(identity_key(model, id_))
        if held is not None and not inspect(held).expired:
            found[id_] = held
        else:
            missing.append(id_)
    return found, missing


def load_by_id(session: Session, model: type[Row], ids: Iterable[int]) -> dict[int, Row]:
    """Rows by primary key: those the session holds as they are, the rest in one query.

    The result holds them: the session's own references are weak, so rows loaded and let go
    would be loaded again by the next ``session.get``.
    """
    found, missing = held_by_id(session, model, ids)
    if missing:
        key = inspect(model).primary_key[0]
        rows = session.scalars(select(model).where(key.in_(missing)))
        found.update((inspect(r).identity[0], r) for r in rows)
    return found


def translate_db_error(exc: Exception) -> Exception:
    """Turn a database error the domain can explain into a domain error."""
    if isinstance(exc, StaleDataError):
        return Conflict("the object was changed by someone else meanwhile; reload and retry")
    if isinstance(exc, IntegrityError):
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        return Conflict(f"the change clashes with existing data: {detail}")
    if isinstance(exc, OperationalError):
        return Unavailable("the database is busy or unreachable; retry shortly")
    return exc


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except (IntegrityError, StaleDataError, OperationalError) as exc:
        session.rollback()
        raise translate_db_error(exc) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def safe_url(url: str) -> str:
    """``url`` with any password masked, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def alembic_config(url: str) -> Any:
    """An Alembic config pointing at ``migrations/`` for ``url``."""
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def reset_database(url: str) -> None:
    """Empty the database at ``url`` (every table dropped), then migrate it afresh."""
    from sqlalchemy import MetaData

    engine = make_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            tables.drop_all(connection)
    finally:
        engine.dispose()
    migrate(url)


@functools.cache
def head_revision() -> str | None:
    """The newest migration revision shipped with this code (read once: it cannot change)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def database_status(engine: Engine) -> dict[str, Any]:
    """Reachability and migration revision, for the health check."""
    head = head_revision()
    try:
        # Autocommit: a health probe must not queue behind a writer for the database lock.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT 1"))
            try:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:
                current = None
    except OperationalError as exc:
        return {
            "reachable": False,
            "error": str(exc.orig).splitlines()[0],
            "revision": None,
            "head": head,
            "up_to_date": False,
        }
    return {"reachable": True, "revision": current, "head": head, "up_to_date": current == head}
