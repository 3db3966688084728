"""The board shows an out-of-town trip: where the engineer sleeps, and where the next day
starts (its own server, so the trip does not change the planned demo day of the other tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESK_KEY, DISPATCHER_KEY, open_board
from tests.browser.server import LiveServer, prepare_database, start_server

pytestmark = pytest.mark.browser

ADMIN_KEY = "osk_demo_admin"
MONDAY, TUESDAY = "2026-11-23", "2026-11-24"  # the demo day is Monday 23 November


def call(server: LiveServer, method: str, path: str, key: str, **kwargs: Any) -> Any:
    answer = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=60, **kwargs
    )
    assert answer.status_code < 400, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def trip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    """The demo day with a plant in Hefei (five hours from Hangzhou) promised from a trip and
    planned by a two-day run; yields the server and the area of the engineer sent."""
    server = start_server(prepare_database(tmp_path_factory.mktemp("trips")))
    try:
        site = call(
            server,
            "POST",
            "/v1/sites",
            ADMIN_KEY,
            json={
                "customer_id": 1,
                "name": "Hefei plant",
                "address": "Hefei, Anhui",
                "lat": 31.82,
                "lon": 117.23,
            },
        )
        taken = call(
            server,
            "POST",
            "/v1/requests",
            DESK_KEY,
            json={
                "site_id": site["id"],
                "channel": "phone",
                "tier": "important",
                "external_ref": "CRM-6001",
                "skills": [{"skill": "hvac", "min_level": 2}],
            },
        )
        assert taken["capacity"]["overnight"] is True, taken["capacity"]
        run = call(
            server,
            "POST",
            "/v1/dispatch/runs",
            DISPATCHER_KEY,
            json={"horizon_start": MONDAY, "days": 2, "time_limit_s": 15},
        )
        deadline = time.monotonic() + 300
        status = run["status"]
        while status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            status = call(server, "GET", f"/v1/dispatch/runs/{run['id']}", DISPATCHER_KEY)["status"]
        assert status == "succeeded"
        for area in call(server, "GET", "/v1/service-areas", DISPATCHER_KEY)["items"]:
            plan = call(
                server,
                "GET",
                f"/v1/dispatch/plan?service_area_id={area['id']}&date={MONDAY}",
                DISPATCHER_KEY,
            )
            if any(r["overnight"] for r in plan["routes"]):
                yield server, area["id"]
                return
        pytest.fail("the two-day run sent nobody to Hefei")
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
        assert night.first.inner_text() == "night: near the site of CRM-6001"
        assert page.locator(".night-icon").count() == 1
        page.fill("#date-input", TUESDAY)
        start = page.get_by_test_id("starts-from")
        start.first.wait_for()
        assert start.first.inner_text() == "from near the site of CRM-6001"
        board.problems.assert_none()
