"""Migrations: round trip on a fresh database, and models agree with migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dispatch.db import alembic_config, head_revision, make_engine
from dispatch.models import Base
from tests.conftest import drop_postgres_database, fresh_database_url


def test_upgrade_downgrade_upgrade_round_trip(backend: str, tmp_path: Path) -> None:
    """upgrade head -> downgrade base -> upgrade head works and leaves every table in place."""
    url = fresh_database_url(backend, tmp_path)
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        command.upgrade(config, "head")
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)


def test_models_and_migrations_agree(engine) -> None:  # type: ignore[no-untyped-def]
    """Autogenerate against the migrated database finds no difference from the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
