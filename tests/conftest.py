"""Database fixtures: a migrated database per backend, each test inside a rolled-back transaction.

SQLite always runs. PostgreSQL runs when ``ONSITE_TEST_POSTGRES_URL`` is set; then a server that
does not answer fails the run loudly instead of skipping. Each run gets its own PostgreSQL
database, created and dropped here, so parallel runs and leftovers cannot interfere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dispatch.db import make_engine, make_session_factory, migrate

POSTGRES_ENV = "ONSITE_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get(POSTGRES_ENV):
        return f"database backends: sqlite, postgres ({POSTGRES_ENV} is set)"
    return f"database backends: sqlite only (set {POSTGRES_ENV} to run PostgreSQL too)"


def postgres_admin_url() -> str:
    url = os.environ[POSTGRES_ENV]
    return url


def create_postgres_database(prefix: str = "onsite_test") -> str:
    """Create a fresh, empty database on the test server and return its URL."""
    admin = make_url(postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the variable is set: an unreachable server is a failure
        pytest.fail(
            f"{POSTGRES_ENV} is set but PostgreSQL does not answer at "
            f"{admin.render_as_string(hide_password=True)}: {exc}",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    admin = make_url(postgres_admin_url())
    name = make_url(url).database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextmanager
def migrated_factory(backend: str, tmp_dir: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh, migrated database of ``backend``, dropped afterwards (for
    tests whose transactions must really commit, as concurrent processes' do)."""
    url = fresh_database_url(backend, tmp_dir)
    migrate(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)


def fresh_database_url(backend: str, tmp_dir: Path) -> str:
    """An empty database of ``backend`` (the caller migrates it)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'onsite-{uuid.uuid4().hex[:8]}.db'}"
    return create_postgres_database()


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the current backend, migrated with Alembic (never create_all)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp(backend))
    migrate(url)
    yield url
    if backend == "postgres":
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions sharing one connection whose outer transaction is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session
