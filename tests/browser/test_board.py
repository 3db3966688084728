"""The dispatcher board in headless Chromium against a live server on the planned demo day.

Every test ends by asserting that the page logged no console error and no request failed
or was answered with an error (except the deliberate wrong key).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import DESK_KEY, DISPATCHER_KEY, Board
from tests.browser.server import DEMO_NOW

pytestmark = pytest.mark.browser

AREA_ID = 1  # Shanghai, the first area in the picker
DAY = "2026-11-23"  # DEMO_NOW is Monday 08:30 in Shanghai
RUN_TIMEOUT_MS = 60_000


def api(board: Board, method: str, path: str, key: str = DISPATCHER_KEY, **kwargs: Any) -> Any:
    """Call the live server directly, for ground truth and set-up."""
    answer = httpx.request(
        method,
        board.server.url + path,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )
    answer.raise_for_status()
    return answer.json()


def day_plan(board: Board) -> dict[str, Any]:
    return api(board, "GET", f"/v1/dispatch/plan?service_area_id={AREA_ID}&date={DAY}")


def new_request(board: Board, *, service_minutes: int) -> dict[str, Any]:
    """A request the service desk just took: promised, on nobody's route yet."""
    sites = api(
        board,
        "GET",
        f"/v1/sites?service_area_id={AREA_ID}&locality=same_city&limit=1",
        key=DESK_KEY,
    )
    site_id = sites["items"][0]["id"]
    return api(
        board,
        "POST",
        "/v1/requests",
        key=DESK_KEY,
        json={
            "site_id": site_id,
            "channel": "phone",
            "tier": "general",
            "service_minutes": service_minutes,
            "description": "browser test: controller fault",
            # The customer can only receive us this afternoon: the request belongs to DAY.
            "availability": [{"start": f"{DAY}T05:00:00Z", "end": f"{DAY}T09:00:00Z"}],
        },
    )


def test_sign_in_refuses_a_wrong_key_then_accepts_the_dispatcher(board: Board) -> None:
    """A wrong key shows a 401 error and stays on sign-in; the dispatcher key opens the board
    on the area's today by the server clock, and signing out returns to sign-in."""
    page = board.page
    board.problems.allow(401, r"/v1/me$")
    board.open()
    page.fill("#signin-key", "osk_wrong_key")
    page.click("#signin-button")
    error = page.get_by_test_id("signin-error")
    error.wait_for()
    assert "401" in error.inner_text()
    assert page.locator("#app").is_hidden()
    board.screenshot("sign_in_wrong_key")

    page.fill("#signin-key", DISPATCHER_KEY)
    page.click("#signin-button")
    page.locator("#app").wait_for(state="visible")
    page.locator("[data-testid=visit-bar]").first.wait_for()
    assert "demo dispatcher" in page.locator("#whoami").inner_text()
    assert page.input_value("#date-input") == DAY  # server "now", not the browser's clock
    assert page.evaluate("sessionStorage.getItem('onsite.apiKey')") == DISPATCHER_KEY
    board.screenshot("sign_in_board")

    page.click("#signout")
    page.locator("#signin").wait_for(state="visible")
    assert page.evaluate("sessionStorage.getItem('onsite.apiKey')") is None
    board.problems.assert_none()


def test_map_and_timeline_show_the_planned_day(board: Board) -> None:
    """Route lines and one marker per visit are on the map, coloured by promise state; the
    timeline has one row per engineer, one window bar per visit, breaks, travel and ETAs."""
    plan = day_plan(board)
    visits = [v for r in plan["routes"] for v in r["visits"]]
    assert visits, "the demo day should have planned visits"
    board.sign_in()
    page = board.page

    working = sum(1 for r in plan["routes"] if r["visits"])
    assert page.locator("path.route-line").count() == working > 0
    markers = page.locator("path.visit-marker")
    assert markers.count() == len(visits)
    for state in ("on_time", "at_risk", "late"):
        expected = sum(1 for v in visits if v["promise_state"] == state)
        assert page.locator(f"path.visit-marker.state-{state}").count() == expected
    fill = page.locator("path.visit-marker.state-late").first.get_attribute("fill")
    assert fill == "#dc2626"

    assert page.get_by_test_id("engineer-row").count() == len(plan["routes"])
    bars = page.get_by_test_id("visit-bar")
    assert bars.count() == len(visits)
    assert page.get_by_test_id("service-bar").count() == len(visits)
    assert page.get_by_test_id("eta-marker").count() == len(visits)
    assert page.get_by_test_id("break-bar").count() > 0
    assert page.get_by_test_id("travel-bar").count() > 0

    # A visit bar sits inside its row, over a non-empty width.
    first = visits[0]
    bar = page.locator(f"[data-testid=visit-bar][data-request-id='{first['request_id']}']")
    assert bar.get_attribute("data-state") == first["promise_state"]
    box = bar.bounding_box()
    assert box is not None and box["width"] > 0

    # Clicking a visit's bar where it shows opens the visit's details in the area's local time.
    # One engineer's promised windows may overlap, and the sticky hour axis covers the row under
    # it, so the test clicks, as a dispatcher would, a bar whose middle is not covered.
    clicked = None
    for visit in visits:
        bar = page.locator(f"[data-testid=visit-bar][data-request-id='{visit['request_id']}']")
        bar.evaluate("el => el.scrollIntoView({block: 'center', inline: 'center'})")
        box = bar.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        on_top = page.evaluate(
            """([x, y, id]) => {
                const el = document.elementFromPoint(x, y);
                const bar = el && el.closest("[data-testid=visit-bar]");
                return !!bar && bar.dataset.requestId === String(id);
            }""",
            [x, y, visit["request_id"]],
        )
        if on_top:
            clicked = visit
            page.mouse.click(x, y)
            break
    assert clicked is not None, "every visit bar is covered at its middle"
    details = page.get_by_test_id("visit-details")
    assert clicked["external_ref"] in details.inner_text()
    assert page.locator("#tab-visit").get_attribute("aria-selected") == "true"
    board.screenshot("map_and_timeline_visit")
    board.problems.assert_none()


def test_the_map_names_its_areas_explains_its_marks_and_shows_reported_positions(
    board: Board,
) -> None:
    """Each service area carries its name, a legend says what the marks mean, and an engineer
    who reported a position shows there, with the time of the report."""
    areas = api(board, "GET", "/v1/service-areas.geojson")["features"]
    me = api(board, "GET", "/v1/me", key="osk_demo_engineer")
    api(
        board,
        "POST",
        "/v1/me/location",
        key="osk_demo_engineer",
        json={"lat": 31.22, "lon": 121.46},
    )
    board.sign_in()
    page = board.page
    labels = page.locator(".area-label")
    assert labels.count() == len(areas)
    assert {labels.nth(i).inner_text() for i in range(labels.count())} == {
        f["properties"]["name"] for f in areas
    }
    legend = page.get_by_test_id("map-legend")
    assert "last reported position" in legend.inner_text()
    plan = day_plan(board)
    reported = [r for r in plan["routes"] if r["engineer"]["position"]]
    assert [r["engineer"]["id"] for r in reported] == [me["engineer_id"]]
    assert page.get_by_test_id("engineer-position").count() == 1
    board.problems.assert_none()


def test_alerts_panel_lists_the_areas_alerts(board: Board) -> None:
    """The header count and the alerts panel match GET /v1/alerts for the area."""
    alerts = api(board, "GET", f"/v1/alerts?service_area_id={AREA_ID}&limit=500")["items"]
    board.sign_in()
    page = board.page
    page.wait_for_function(
        "n => document.getElementById('alerts-count').textContent === String(n)", arg=len(alerts)
    )
    page.get_by_test_id("alerts-count").click()
    items = page.get_by_test_id("alert-item")
    assert items.count() == len(alerts)
    if alerts:
        assert alerts[0]["message"] in items.first.inner_text()
    board.problems.assert_none()


def test_alerts_can_be_filtered_sorted_acknowledged_and_answered(board: Board) -> None:
    """The kind filter lists each kind with its count and shows only that kind; acknowledging
    an alert from its card records who has it; "Record first response" on a first-response
    alert records the request's first response."""
    alerts = api(board, "GET", f"/v1/alerts?service_area_id={AREA_ID}&limit=500")["items"]
    open_alerts = [a for a in alerts if a["state"] == "open"]
    if not open_alerts:
        pytest.skip("the demo day has no open alert in this area")
    board.sign_in()
    page = board.page
    page.get_by_test_id("alerts-count").click()
    page.get_by_test_id("alert-item").first.wait_for()
    kinds: dict[str, int] = {}
    for a in alerts:
        kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
    options = page.locator("#alerts-kind option")
    assert options.count() == len(kinds) + 1
    kind, count = max(kinds.items(), key=lambda kv: (kv[1], kv[0]))
    page.select_option("#alerts-kind", kind)
    items = page.get_by_test_id("alert-item")
    assert items.count() == count
    assert {items.nth(i).get_attribute("data-kind") for i in range(count)} == {kind}
    page.select_option("#alerts-kind", "")
    page.select_option("#alerts-sort", "newest")
    assert page.get_by_test_id("alert-item").count() == len(alerts)

    target = open_alerts[0]
    card = page.locator(f"[data-testid=alert-item][data-alert-id='{target['id']}']")
    card.get_by_test_id("alert-acknowledge").click()
    card.get_by_test_id("alert-acknowledged").wait_for()
    assert "demo dispatcher" in card.get_by_test_id("alert-acknowledged").inner_text()
    after = api(board, "GET", f"/v1/alerts?service_area_id={AREA_ID}&limit=500")["items"]
    assert next(a for a in after if a["id"] == target["id"])["state"] == "acknowledged"

    first = next((a for a in alerts if a["kind"] == "first_response_due"), None)
    if first is not None:
        card = page.locator(f"[data-testid=alert-item][data-alert-id='{first['id']}']")
        card.get_by_test_id("alert-first-response").click()
        expect_text = f"{first['external_ref']}: first response recorded."
        page.wait_for_function(
            "t => document.getElementById('alerts-status').textContent === t", arg=expect_text
        )
        request = api(board, "GET", f"/v1/requests/{first['request_id']}")
        assert request["acknowledged_at"] is not None
        card.get_by_test_id("alert-responded").wait_for()
        assert card.get_by_test_id("alert-first-response").count() == 0
    board.problems.assert_none()


def test_plan_now_runs_and_shows_before_and_after_kpis(board: Board) -> None:
    """ "Plan now" starts a run for the area and day, follows it to succeeded, shows the KPIs
    before and after, and redraws the new plan version."""
    board.sign_in()
    page = board.page
    before = day_plan(board)["plan_version"]
    page.get_by_test_id("plan-now").click()
    status = page.get_by_test_id("run-status")
    page.wait_for_function(
        "() => ['succeeded', 'failed'].includes("
        "document.querySelector('[data-testid=run-status]').dataset.status)",
        timeout=RUN_TIMEOUT_MS,
    )
    assert status.get_attribute("data-status") == "succeeded", status.inner_text()
    kpis = page.get_by_test_id("run-kpis")
    rows = kpis.locator("tbody tr")
    assert rows.count() == 8
    assigned = kpis.locator("tr[data-kpi=assigned] td")
    # Every figure carries its unit.
    assert re.fullmatch(r"\d+ visits?", assigned.nth(1).inner_text())  # before
    assert re.fullmatch(r"\d+ visits?", assigned.nth(2).inner_text())  # after
    travel = kpis.locator("tr[data-kpi=travel_minutes] td").nth(2).inner_text()
    assert re.fullmatch(r"[\d,.]+ min", travel), travel
    after = day_plan(board)["plan_version"]
    assert after > before
    page.wait_for_function(
        "v => document.getElementById('plan-summary').textContent.includes('plan v' + v)",
        arg=after,
    )
    assert page.get_by_test_id("plan-now").is_enabled()
    board.screenshot("plan_now_kpis")
    board.problems.assert_none()


def test_the_picker_ranks_qualified_engineers_and_hides_the_others_unless_asked(
    board: Board,
) -> None:
    """ "Rank engineers" orders the picker as POST /v1/dispatch/candidates does, each with its
    ETA and drive; the unqualified appear only when asked for."""
    request = new_request(board, service_minutes=30)
    rid = request["id"]
    ranked = api(board, "POST", "/v1/dispatch/candidates", json={"request_id": rid, "date": DAY})
    fit = [c for c in ranked if c["qualified"] and c["available"]]
    rest = [c for c in ranked if not (c["qualified"] and c["available"])]
    board.sign_in()
    page = board.page
    item = page.locator(f"[data-testid=unassigned-item][data-request-id='{rid}']")
    item.wait_for()
    item.get_by_test_id("assign-rank").click()
    item.get_by_test_id("assign-show-all").wait_for()
    options = item.get_by_test_id("assign-engineer").locator("option")
    assert options.count() == len(fit) + 1  # the placeholder first
    values = [options.nth(i).get_attribute("value") for i in range(1, options.count())]
    assert values == [str(c["engineer_id"]) for c in fit]
    if fit:
        assert "ETA" in options.nth(1).inner_text() and "min drive" in options.nth(1).inner_text()
    item.get_by_test_id("assign-show-all").check()
    options = item.get_by_test_id("assign-engineer").locator("option")
    assert options.count() == len(fit) + len(rest) + 1
    board.problems.assert_none()


def test_assign_an_unassigned_request_by_pick_with_warnings_confirmed(board: Board) -> None:
    """Check shows the API's warnings and ETA; cancelling the confirmation changes nothing;
    confirming assigns the request, which leaves the list and appears on the engineer's row."""
    request = new_request(board, service_minutes=240)
    rid = request["id"]
    plan = day_plan(board)
    checks = {
        r["engineer"]["id"]: api(
            board,
            "POST",
            "/v1/dispatch/assignments",
            json={
                "request_id": rid,
                "engineer_id": r["engineer"]["id"],
                "date": DAY,
                "dry_run": True,
            },
        )
        for r in plan["routes"]
        if r["shift"]
    }
    warned = [(e, c) for e, c in checks.items() if c["warnings"]]
    assert warned, "a four-hour job on a full day should warn for some engineer"
    engineer_id, check = warned[0]

    board.sign_in()
    page = board.page
    item = page.locator(f"[data-testid=unassigned-item][data-request-id='{rid}']")
    item.wait_for()
    assert item.get_by_test_id("unassigned-reason").inner_text().startswith("not_planned")
    item.get_by_test_id("assign-engineer").select_option(str(engineer_id))
    item.get_by_test_id("assign-check").click()
    warnings = item.get_by_test_id("assign-warnings")
    warnings.wait_for()
    assert warnings.locator("li").count() == len(check["warnings"])
    assert check["warnings"][0]["message"] in warnings.inner_text()
    assert item.get_by_test_id("check-eta").inner_text() != "–"
    board.screenshot("assign_check_warnings")

    # Cancel first: nothing is committed.
    item.get_by_test_id("assign-commit").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    assert not any(v["request_id"] == rid for r in day_plan(board)["routes"] for v in r["visits"])

    # Then confirm.
    item.get_by_test_id("assign-commit").click()
    page.get_by_test_id("confirm-assign").click()
    status = page.get_by_test_id("assign-status")
    page.locator("[data-testid=assign-status]:is(.ok, .bad)").wait_for()
    assert "assigned to" in status.inner_text(), status.inner_text()
    item.wait_for(state="detached")
    row = page.locator(f"[data-testid=engineer-row][data-engineer-id='{engineer_id}']")
    row.locator(f"[data-testid=visit-bar][data-request-id='{rid}']").wait_for()
    assert any(
        v["request_id"] == rid
        for r in day_plan(board)["routes"]
        if r["engineer"]["id"] == engineer_id
        for v in r["visits"]
    )
    board.screenshot("assign_done")
    board.problems.assert_none()


def test_drag_onto_an_engineer_row_checks_that_engineer(board: Board) -> None:
    """Dropping an unassigned request on an engineer's row runs the check for that engineer."""
    rid = new_request(board, service_minutes=30)["id"]
    board.sign_in()
    page = board.page
    item = page.locator(f"[data-testid=unassigned-item][data-request-id='{rid}']")
    row = page.get_by_test_id("engineer-row").nth(1)
    engineer_id = row.get_attribute("data-engineer-id")
    item.drag_to(row.locator(".tl-track"))
    item.get_by_test_id("check-result").wait_for()
    assert item.get_by_test_id("assign-engineer").input_value() == engineer_id
    board.problems.assert_none()


def test_analytics_page_shows_kpis_heatmap_and_trend(board: Board) -> None:
    """The analytics page loads the KPI table, a full stage x channel heatmap and the daily
    trend chart for the last week, and downloads the KPI CSV with the key."""
    board.sign_in()
    page = board.page
    page.click("#nav-analytics")
    page.locator("#view-analytics").wait_for()
    today = DEMO_NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()  # the area's days
    assert page.input_value("#an-from") == (today - timedelta(days=7)).isoformat()
    assert page.input_value("#an-to") == (today + timedelta(days=1)).isoformat()
    table = page.get_by_test_id("sla-table")
    table.locator("tbody tr.group").first.wait_for()
    assert table.locator("tfoot tr.total").count() == 1
    heat = api(board, "GET", "/v1/analytics/heatmap?from=2026-11-16&to=2026-11-24&tz=Asia/Shanghai")
    cells = page.get_by_test_id("heatmap-cell")
    assert cells.count() == len(heat["stages"]) * len(heat["channels"])
    assert page.locator("[data-testid=heatmap-cell][data-median]").count() > 0
    trend = api(
        board,
        "GET",
        "/v1/analytics/sla?from=2026-11-16&to=2026-11-24&group_by=day&tz=Asia/Shanghai",
    )
    chart = page.get_by_test_id("trend-chart")
    bars = chart.locator("[data-testid=trend-bar]")
    assert bars.count() == 8  # one per day of the range, empty days included
    heights = [
        float(h) for h in bars.evaluate_all("bars => bars.map(b => b.getAttribute('height'))")
    ]
    assert sum(1 for h in heights if h > 0) == sum(1 for g in trend["groups"] if g["requests"]) > 0
    rated = [g for g in trend["groups"] if g["on_time_rate"] is not None]
    assert chart.locator("circle.trend-dot").count() == len(rated)
    assert bool(chart.get_by_test_id("trend-line").get_attribute("d")) == bool(rated)

    with page.expect_download() as download_info:
        page.get_by_test_id("csv-sla").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = download.path().read_text(encoding="utf-8")
    assert text.splitlines()[0].count(",") >= 3
    board.screenshot("analytics")
    board.problems.assert_none()


def test_keyboard_reaches_sign_in_and_plan_now(board: Board) -> None:
    """With the keyboard alone: Tab reaches the key field and the sign-in button, Enter signs
    in, Tab reaches "Plan now" with a visible focus ring, and Enter starts a run."""
    page = board.page
    board.open()
    page.locator("#signin").wait_for()
    page.mouse.click(5, 5)  # start keyboard navigation from the top of the page
    focused = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
        if focused[-1] == "signin-button":
            break
    assert "signin-key" in focused and focused[-1] == "signin-button", focused
    page.focus("#signin-key")
    page.keyboard.type(DISPATCHER_KEY)
    page.keyboard.press("Enter")
    page.locator("[data-testid=visit-bar]").first.wait_for()

    # From the header's left end: the views, the area, the date's fields, then the button.
    page.mouse.click(20, 26)
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "plan-now":
            break
    assert page.evaluate("document.activeElement.id") == "plan-now"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-status]').dataset.status === 'succeeded'",
        timeout=RUN_TIMEOUT_MS,
    )
    board.problems.assert_none()


def test_a_progress_report_reaches_an_open_board_within_two_seconds(board: Board) -> None:
    """With the board open and its live stream up, an engineer's report posted through the API
    makes the board reload that day's plan within 2 s, with no reload of the page."""
    plan = day_plan(board)
    visit = next(
        (r["engineer"]["id"], v["visit_id"])
        for r in plan["routes"]
        for v in r["visits"]
        if v.get("status") == "planned"
    )
    engineer_id, visit_id = visit
    key = api(
        board,
        "POST",
        "/v1/api-keys",
        key="osk_demo_admin",
        json={"role": "engineer", "name": "live test", "engineer_id": engineer_id},
    )["key"]
    board.sign_in()
    page = board.page
    page.wait_for_function("() => document.body.dataset.live === 'on'", timeout=10_000)
    page.evaluate("window.__stillTheSamePage = true")
    with page.expect_request(re.compile(r"/v1/dispatch/plan\?"), timeout=2_000):
        api(board, "POST", f"/v1/me/visits/{visit_id}/events", key=key, json={"type": "accepted"})
    assert page.evaluate("window.__stillTheSamePage") is True


def test_unassign_in_the_visit_panel_moves_the_request_to_the_unassigned_list(
    board: Board,
) -> None:
    """Unassigning from the visit panel takes the visit off the timeline, opens the unassigned
    list with the request in it and says so there, with no script error."""
    plan = day_plan(board)
    visit = next(v for r in plan["routes"] for v in r["visits"] if v["status"] == "planned")
    board.sign_in()
    page = board.page
    # Selected as the map or a bar would select it (bars may overlap: the click itself is
    # tested in test_map_and_timeline_show_the_planned_day).
    page.locator(
        f"[data-testid=visit-bar][data-request-id='{visit['request_id']}']"
    ).dispatch_event("click")
    page.get_by_test_id("visit-unassign").click()
    page.locator("#confirm-ok").click()
    item = page.locator(f"[data-testid=unassigned-item][data-request-id='{visit['request_id']}']")
    item.wait_for()
    assert item.is_visible()
    assert (
        f"{visit['external_ref']} unassigned." in page.get_by_test_id("assign-status").inner_text()
    )
    assert (
        page.locator(f"[data-testid=visit-bar][data-request-id='{visit['request_id']}']").count()
        == 0
    )
    board.problems.assert_none()


def test_done_work_is_drawn_where_it_happened_and_a_past_day_offers_no_plan_now(
    board: Board,
) -> None:
    """A visit the engineer reported done this morning is drawn from its arrival to its
    completion (its title says when) and styled apart from planned work; on a past day "Plan
    now" is not offered, and back on today it is."""
    from datetime import datetime

    zone = ZoneInfo("Asia/Shanghai")
    times = {"accepted": "07:40", "en_route": "07:45", "arrived": "08:02", "completed": "08:21"}
    first = datetime.fromisoformat(f"{DAY}T{times['accepted']}:00").replace(tzinfo=zone)
    plan = day_plan(board)
    engineer_id, visit = next(
        (r["engineer"]["id"], v) for r in plan["routes"] for v in r["visits"]
        if v["status"] == "planned"
        # a request taken before the engineer could accept it
        and datetime.fromisoformat(
            api(board, "GET", f"/v1/requests/{v['request_id']}", key=DESK_KEY)["received_at"]
        ) < first
    )  # fmt: skip
    key = api(
        board,
        "POST",
        "/v1/api-keys",
        key="osk_demo_admin",
        json={"role": "engineer", "name": "done test", "engineer_id": engineer_id},
    )["key"]
    for kind, at in times.items():
        moment = datetime.fromisoformat(f"{DAY}T{at}:00").replace(tzinfo=zone)
        api(
            board,
            "POST",
            f"/v1/me/visits/{visit['visit_id']}/events",
            key=key,
            json={"type": kind, "at": moment.isoformat()},
        )
    board.sign_in()
    page = board.page
    bar = page.locator(f"[data-testid=service-bar][data-request-id='{visit['request_id']}']")
    bar.wait_for()
    title = bar.get_attribute("title") or ""
    assert "done" in title and "08:02" in title and "08:21" in title, title
    assert "status-completed" in (bar.get_attribute("class") or "")
    assert page.locator("#plan-now").is_visible()
    page.fill("#date-input", "2026-11-22")
    page.dispatch_event("#date-input", "change")
    page.locator("#plan-now").wait_for(state="hidden")
    page.fill("#date-input", DAY)
    page.dispatch_event("#date-input", "change")
    page.locator("#plan-now").wait_for(state="visible")
    board.problems.assert_none()


def test_the_api_docs_render_with_no_way_out_to_the_internet(board: Board) -> None:
    """/docs draws Swagger UI over Onsite's OpenAPI document with every request to a host other
    than the server refused, as on a closed network."""
    page = board.page
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(board.server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    board.open("/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="Onsite").wait_for()
    page.locator(".opblock").first.wait_for()
    assert outside == []
    board.screenshot("api_docs_offline")
    board.problems.assert_none()
