"""Data is text, never markup: names planted with HTML and script in every field the board shows
render as literal text, create no element and run nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESK_KEY, DISPATCHER_KEY, Board, open_board
from tests.browser.server import LiveServer, prepare_database, start_server

pytestmark = pytest.mark.browser

ADMIN_KEY = "osk_demo_admin"
DAY = "2026-11-23"
AREA_ID = 1
# Each payload counts in window.__xss if it ever runs, and leaves an element if it is parsed.
PAYLOADS = {
    "customer": '<img src=x id=xss-customer onerror="window.__xss=(window.__xss||0)+1">',
    "site": '"><svg id=xss-site onload="window.__xss=(window.__xss||0)+1">',
    "address": "<script id=xss-address>window.__xss=(window.__xss||0)+1</script> 1 Rd",
    "engineer": '<b id=xss-engineer onmouseover="window.__xss=1">Li</b>',
    "ref": "<i id=xss-ref>CASE</i>",
    "description": "<iframe id=xss-description srcdoc='<script>parent.__xss=1</script>'>",
}


def _call(url: str, method: str, path: str, key: str, **kwargs: Any) -> Any:
    answer = httpx.request(
        method, url + path, headers={"Authorization": f"Bearer {key}"}, timeout=60, **kwargs
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo day plus an engineer, customer, site and requests named with markup, planned."""
    server = start_server(prepare_database(tmp_path_factory.mktemp("hostile")))
    url = server.url
    engineer = _call(
        url,
        "POST",
        "/v1/engineers",
        DISPATCHER_KEY,
        json={
            "name": PAYLOADS["engineer"],
            "home": {"lat": 31.23, "lon": 121.47},
            "service_area_id": AREA_ID,
            "skills": [{"skill": "hvac", "level": 5}, {"skill": "electrical", "level": 5}],
            "weekly_template": {
                d: {"start": "08:00", "end": "20:00"} for d in ("mon", "tue", "wed", "thu", "fri")
            },
        },
    )
    customer = _call(url, "POST", "/v1/customers", DESK_KEY, json={"name": PAYLOADS["customer"]})
    site = _call(
        url,
        "POST",
        "/v1/sites",
        DESK_KEY,
        json={
            "customer_id": customer["id"],
            "name": PAYLOADS["site"],
            "address": PAYLOADS["address"],
            "lat": 31.232,
            "lon": 121.472,
        },
    )
    for i, hours in enumerate(((2, 4), (5, 7), (8, 10))):
        _call(
            url,
            "POST",
            "/v1/requests",
            DESK_KEY,
            json={
                "site_id": site["id"],
                "channel": "phone",
                "tier": "general",
                "service_minutes": 30,
                "external_ref": f"{PAYLOADS['ref']}-{i}",
                "description": PAYLOADS["description"],
                "availability": [
                    {"start": f"{DAY}T0{hours[0]}:00:00Z", "end": f"{DAY}T{hours[1]:02d}:00:00Z"}
                ],
            },
        )
    run = _call(
        url,
        "POST",
        "/v1/dispatch/runs",
        DISPATCHER_KEY,
        json={"scope": {"service_area_ids": [AREA_ID]}, "horizon_start": DAY, "time_limit_s": 5},
    )
    for _ in range(120):
        status = _call(url, "GET", f"/v1/dispatch/runs/{run['id']}", DISPATCHER_KEY)["status"]
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert status == "succeeded"
    assert engineer["id"]
    yield server
    server.stop()


@pytest.fixture
def hostile_board(browser: Any, hostile_server: LiveServer) -> Iterator[Board]:
    with open_board(browser, hostile_server, "xss_hostile_names") as board:
        yield board


def _nothing_ran(board: Board) -> None:
    page = board.page
    assert page.evaluate("window.__xss") is None, "a planted script ran"
    planted = page.evaluate("document.querySelectorAll('[id^=xss-]').length")
    assert planted == 0, "planted markup became elements"
    assert page.title() == "Onsite dispatch board"


def test_hostile_names_render_as_text_everywhere(hostile_board: Board) -> None:
    """Map tooltips, timeline, visit panel, unassigned list, alerts and analytics show the
    planted names literally and no planted element or script exists."""
    board = hostile_board
    page = board.page
    plan = _call(
        board.server.url,
        "GET",
        f"/v1/dispatch/plan?service_area_id={AREA_ID}&date={DAY}",
        DISPATCHER_KEY,
    )
    hostile = [
        v for r in plan["routes"] for v in r["visits"] if v["customer"] == PAYLOADS["customer"]
    ]
    assert hostile, "the run should have planned the planted requests"
    board.sign_in()
    # The map: every visit's tooltip, opened as a hover would.
    tips = page.evaluate(
        """() => [...document.querySelectorAll('path.visit-marker')].map(el => {
            el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
            const open = document.querySelectorAll('.leaflet-tooltip');
            const text = open.length ? open[open.length - 1].textContent : '';
            el.dispatchEvent(new MouseEvent('mouseout', {bubbles: true}));
            return text;
        })"""
    )
    assert any(PAYLOADS["customer"] in t and PAYLOADS["ref"] in t for t in tips), tips[:3]
    _nothing_ran(board)
    # The timeline row of the planted engineer and the visit panel of a planted visit.
    assert PAYLOADS["engineer"] in page.get_by_test_id("timeline").inner_text()
    bar = page.locator(f"[data-testid=visit-bar][data-request-id='{hostile[0]['request_id']}']")
    bar.dispatch_event("click")
    details = page.get_by_test_id("visit-details")
    details.get_by_text(PAYLOADS["ref"], exact=False).first.wait_for()
    assert PAYLOADS["address"] in details.inner_text()
    _nothing_ran(board)
    # The other panels and the analytics page, grouped by engineer.
    page.click("#tab-unassigned")
    page.get_by_test_id("alerts-count").click()
    page.click("#nav-analytics")
    page.locator("#an-group").select_option("engineer")
    page.click("#an-show")
    page.get_by_test_id("sla-table").locator("table").wait_for()
    _nothing_ran(board)
    board.problems.assert_none()
