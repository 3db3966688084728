"""``onsite import requests FILE.csv``: every row through the same intake as the API, every bad
row named by line and column, a dry run that stores nothing, a second import that adds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli import app
from dispatch.models import RepairRequest
from dispatch.settings import get_settings
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site


@pytest.fixture
def factory(backend: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with migrated_factory(backend, tmp_path) as made:
        yield made


@pytest.fixture
def cli(factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONSITE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _sites(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
        create_engineer(session, area=area, name="Base Wei", home=(31.23, 121.47))
        customer = create_customer(session, name="Acme Foods")
        ids = [
            create_site(session, customer=customer, at=(31.21 + 0.02 * i, 121.45), name=f"P{i}").id
            for i in range(2)
        ]
        session.commit()
        return ids


def _stored(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(RepairRequest)) or 0)


def _file(tmp_path: Path, a: int, b: int) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text(
        "external_ref,site_id,channel,tier,skills,availability,service_minutes\n"
        f"IMP-1,{a},phone,general,,,45\n"
        f"IMP-2,{a},fax,general,,,45\n"
        f"IMP-3,{b},email,,electrical:two,,\n"
        f"IMP-4,999999,phone,general,,,\n"
        f"IMP-5,{b},online,important,,2026-12-30T09:00:00+08:00/2026-12-30T12:00:00+08:00,\n",
        encoding="utf-8",
    )
    return path


def test_a_dry_run_names_every_bad_row_and_stores_nothing(
    cli: CliRunner, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The dry run reports each bad row by its line and column (bad channel, unreadable skills,
    unknown site), counts the rows that would be created, exits 1 and stores no request."""
    a, b = _sites(factory)
    result = cli.invoke(app, ["import", "requests", str(_file(tmp_path, a, b)), "--dry-run"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("line 3, channel:") for line in lines), result.output
    assert any(line.startswith("line 4, skills:") for line in lines), result.output
    assert any(line.startswith("line 5, site_id:") for line in lines), result.output
    summary = json.loads(lines[-1])
    assert summary == {
        "created": 0,
        "dry_run": True,
        "existing": 0,
        "file": str(tmp_path / "requests.csv"),
        "refused": 3,
        "would_create": 2,
    }
    assert _stored(factory) == 0


def test_an_import_takes_the_good_rows_and_a_second_adds_nothing(
    cli: CliRunner, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The import stores the two good rows with their promises; importing the same file again
    answers them as already there and stores nothing more."""
    a, b = _sites(factory)
    path = _file(tmp_path, a, b)
    first = cli.invoke(app, ["import", "requests", str(path)])
    assert first.exit_code == 1, first.output
    assert json.loads(first.output.splitlines()[-1])["created"] == 2
    with factory() as session:
        stored = session.scalars(select(RepairRequest).order_by(RepairRequest.id)).all()
        assert [r.external_ref for r in stored] == ["IMP-1", "IMP-5"]
        assert all(r.window_start is not None and r.window_end is not None for r in stored)
        # Promised inside the customer's availability (09:00-12:00 on 30 December, UTC+8).
        opens, closes = datetime(2026, 12, 30, 1, tzinfo=UTC), datetime(2026, 12, 30, 4, tzinfo=UTC)
        assert opens <= stored[1].window_start < stored[1].window_end <= closes
    again = cli.invoke(app, ["import", "requests", str(path)])
    summary = json.loads(again.output.splitlines()[-1])
    assert (summary["created"], summary["existing"], summary["refused"]) == (0, 2, 3)
    assert _stored(factory) == 2


def test_a_file_with_an_unknown_column_is_refused_before_any_row(
    cli: CliRunner, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A header naming an unknown column (or lacking channel) stops the import with exit code
    2 and names the column; nothing is stored."""
    a, _ = _sites(factory)
    path = tmp_path / "bad.csv"
    path.write_text(f"site_id,colour\n{a},red\n", encoding="utf-8")
    result = cli.invoke(app, ["import", "requests", str(path)])
    assert result.exit_code == 2
    assert "line 1, colour: unknown column" in result.output
    assert "line 1, channel: required column is missing" in result.output
    assert _stored(factory) == 0
