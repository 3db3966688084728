"""The board shows an out-of-town trip: where the engineer sleeps, and where the next day
starts (its own server, so the trip does not change the planned demo day of the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from dispatch.db import make_engine, make_session_factory, unit_of_work
from dispatch.models import Engineer, Shift
from tests.browser.conftest import open_board
from tests.browser.server import LiveServer, prepare_database, start_server

pytestmark = pytest.mark.browser

HOTEL = "Jinjiang Inn, Hefei"
MONDAY, TUESDAY = "2026-11-23", "2026-11-24"  # the demo day is Monday 23 November


@pytest.fixture(scope="module")
def trip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    """The planned demo day with one engineer's Monday ending at a hotel in Hefei, as a run
    that sent them on a trip stores it (planning trips is tested in tests/api/test_trips.py;
    this is about the board showing one); yields the server and the engineer's area."""
    url = prepare_database(tmp_path_factory.mktemp("trips"))
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            shift = session.scalars(
                select(Shift).where(Shift.date == date.fromisoformat(MONDAY)).order_by(Shift.id)
            ).first()
            assert shift is not None, "the demo day has shifts on Monday"
            shift.night_lat, shift.night_lon, shift.night_label = 31.82, 117.23, HOTEL
            engineer = session.get(Engineer, shift.engineer_id)
            assert engineer is not None
            area_id = engineer.service_area_id
    finally:
        engine.dispose()
    server = start_server(url)
    try:
        yield server, area_id
    finally:
        server.stop()


def test_the_board_shows_the_night_away_and_the_next_days_start(browser, trip_server) -> None:
    """On Monday the engineer's row says where they sleep and the map marks it; on Tuesday
    the row says the day starts there."""
    server, area_id = trip_server
    with open_board(browser, server, "board_trip") as board:
        board.sign_in()
        page = board.page
        page.select_option("#area-select", str(area_id))
        night = page.get_by_test_id("overnight")
        night.first.wait_for()
        assert night.count() == 1
        assert night.first.inner_text() == f"night: {HOTEL}"
        assert page.locator(".night-icon").count() == 1
        page.fill("#date-input", TUESDAY)
        start = page.get_by_test_id("starts-from")
        start.first.wait_for()
        assert start.first.inner_text() == f"from {HOTEL}"
        board.problems.assert_none()
