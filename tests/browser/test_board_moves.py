"""Moving visits on the board (drag with a live preview, undo, several at once), finding them
(search and filters) and seeing several days, in headless Chromium on the planned demo day.

Each test leaves the day as it found it (it undoes its moves), so the order tests run in does
not matter.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.browser.conftest import Board
from tests.browser.test_board import day_plan

pytestmark = pytest.mark.browser


def movable(plan: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(route, visit) pairs of visits a dispatcher may still move, busiest routes first."""
    routes = sorted(plan["routes"], key=lambda r: -len(r["visits"]))
    return [(r, v) for r in routes for v in r["visits"] if v["status"] in ("planned", "accepted")]


def where(board: Board, request_id: int) -> tuple[int, str | None, str]:
    """The engineer, locked time and lock of a request's visit, from the server."""
    for route in day_plan(board)["routes"]:
        for v in route["visits"]:
            if v["request_id"] == request_id:
                return route["engineer"]["id"], v["locked_arrival"], v["lock"]
    raise AssertionError(f"request {request_id} is on no route")


def drag(board: Board, source: Any, target: Any, *, x: float, settle: bool = True) -> None:
    """Drag ``source`` over ``target`` at ``x`` (0-1 across it) and hold it there until the
    preview has the server's answer, then drop."""
    page = board.page
    box = source.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + box["height"] / 2)
    page.mouse.down()
    tbox = target.bounding_box()
    page.mouse.move(tbox["x"] + tbox["width"] * x, tbox["y"] + tbox["height"] / 2, steps=8)
    if settle:
        page.wait_for_function(
            "() => { const p = document.querySelector('[data-testid=move-preview]');"
            " return p && !p.hidden && /ETA|预计到达/.test(p.textContent)"
            " && !/checking|正在检查/.test(p.textContent); }"
        )
    page.mouse.up()


def said(board: Board, pattern: str) -> str:
    """Wait until the board's move status matches ``pattern`` (a regular expression)."""
    board.page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('[data-testid=move-status]').textContent)",
        arg=pattern,
    )
    return str(board.page.get_by_test_id("move-status").inner_text())


def bar_of(board: Board, request_id: int, kind: str = "service-bar") -> Any:
    return board.page.locator(f"[data-testid={kind}][data-request-id='{request_id}']")


def track_of(board: Board, engineer_id: int) -> Any:
    return board.page.locator(
        f"[data-testid=engineer-row][data-engineer-id='{engineer_id}'] .tl-track"
    )


def confirm_if_asked(board: Board, ref: str) -> None:
    """Accept the warnings dialog when the move has warnings: wait until either the dialog is
    open or the move is reported (the check may still be on its way when the drop lands)."""
    page = board.page
    page.wait_for_function(
        "ref => document.querySelector('#confirm-dialog[open]')"
        " || document.querySelector('[data-testid=move-status]').textContent.includes(ref)",
        arg=ref,
    )
    if page.locator("#confirm-dialog[open]").count():
        page.locator("#confirm-ok").click()


def test_drag_a_visit_to_a_colleague_with_a_preview_then_undo(board: Board) -> None:
    """Dragging a planned visit onto another engineer's row previews the ETA and warnings from
    the server before the drop, moves it on the drop (after confirming any warnings), and Undo
    puts it back with the engineer and lock it had."""
    plan = day_plan(board)
    route, visit = movable(plan)[0]
    # The colleague on a neighbouring row (rows follow the plan's order) with a shift that
    # day: both rows are on screen together, so the pointer can carry the visit across.
    rows = plan["routes"]
    mine = next(i for i, r in enumerate(rows) if r["engineer"]["id"] == route["engineer"]["id"])
    other = min(
        (r for i, r in enumerate(rows) if i != mine and r["shift"]),
        key=lambda r: abs(rows.index(r) - mine),
    )
    before = where(board, visit["request_id"])
    board.sign_in()
    page = board.page
    bar = bar_of(board, visit["request_id"])
    target = track_of(board, other["engineer"]["id"])
    bar.scroll_into_view_if_needed()
    target.scroll_into_view_if_needed()
    drag(board, bar, target, x=0.5)
    confirm_if_asked(board, visit["external_ref"])
    assert other["engineer"]["name"] in said(board, re.escape(visit["external_ref"]))
    assert where(board, visit["request_id"])[0] == other["engineer"]["id"]
    # On the colleague's row now, and undoable.
    page.locator(
        f"[data-testid=engineer-row][data-engineer-id='{other['engineer']['id']}'] "
        f"[data-testid=service-bar][data-request-id='{visit['request_id']}']"
    ).wait_for()
    page.get_by_test_id("undo").click()
    said(board, "Undone")
    assert where(board, visit["request_id"]) == before
    assert page.get_by_test_id("undo").is_hidden()
    board.problems.assert_none()


def test_drag_a_visit_along_its_row_keeps_it_at_the_new_time(board: Board) -> None:
    """Dropping a visit later on its own row times it from the dropped time (a time lock the
    board marks on the bar); Ctrl+Z undoes it."""
    plan = day_plan(board)
    route, visit = movable(plan)[-1]  # a quiet route's visit: room to move later
    before = where(board, visit["request_id"])
    board.sign_in()
    page = board.page
    bar = bar_of(board, visit["request_id"])
    row = track_of(board, route["engineer"]["id"])
    bar.scroll_into_view_if_needed()
    bbox = bar.bounding_box()
    rbox = row.bounding_box()
    # An hour or so later: a bit to the right of where the bar is now.
    x = min(0.9, (bbox["x"] - rbox["x"]) / rbox["width"] + 0.08)
    drag(board, bar, row, x=x)
    confirm_if_asked(board, visit["external_ref"])
    said(board, re.escape(visit["external_ref"]))
    engineer, locked, lock = where(board, visit["request_id"])
    assert engineer == route["engineer"]["id"] and lock == "both" and locked is not None
    # The bar, redrawn from the new plan, is marked as locked.
    page.locator(
        f"[data-testid=service-bar][data-request-id='{visit['request_id']}'].locked"
    ).wait_for()
    old_start = datetime.fromisoformat(visit["planned_start"])
    assert datetime.fromisoformat(locked) > old_start
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("Control+z")
    said(board, "Undone")
    assert where(board, visit["request_id"]) == before
    board.problems.assert_none()


def test_several_visits_selected_together_are_unassigned_and_put_back(board: Board) -> None:
    """Ctrl-click selects several visits; the visit panel offers to unassign them all (after
    one confirmation) and Undo puts each back with its engineer."""
    plan = day_plan(board)
    pairs = movable(plan)[:3]
    ids = [v["request_id"] for _, v in pairs]
    before = {rid: where(board, rid) for rid in ids}
    board.sign_in()
    page = board.page
    for i, rid in enumerate(ids):
        bar_of(board, rid, "visit-bar").dispatch_event("click", {"ctrlKey": i > 0})
    assert "3" in page.get_by_test_id("chosen-count").inner_text()
    page.get_by_test_id("chosen-unassign").click()
    page.locator("#confirm-ok").click()
    said(board, "3 visits unassigned")
    unassigned = {u["request_id"] for u in day_plan(board)["unassigned"]}
    assert set(ids) <= unassigned
    page.get_by_test_id("undo").click()
    said(board, "Undone")
    assert {rid: where(board, rid)[0] for rid in ids} == {rid: b[0] for rid, b in before.items()}
    board.problems.assert_none()


def test_search_and_filters_narrow_the_timeline_and_the_lists(board: Board) -> None:
    """Typing a reference leaves only its engineer's row with the visit bright; an engineer's
    name shows that row; a tier filter dims visits of other tiers; clearing shows all again."""
    plan = day_plan(board)
    route, visit = movable(plan)[0]
    board.sign_in()
    page = board.page
    rows = page.locator("[data-testid=engineer-row]:visible")
    everyone = rows.count()
    page.get_by_test_id("search").fill(visit["external_ref"])
    page.wait_for_function("() => document.querySelectorAll('.tl-row.filtered-out').length > 0")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-engineer-id") == str(route["engineer"]["id"])
    bar = bar_of(board, visit["request_id"])
    assert "dim" not in (bar.get_attribute("class") or "")
    assert "1 of" in page.get_by_test_id("find-count").inner_text()
    page.get_by_test_id("search").fill(route["engineer"]["name"])
    assert rows.count() == 1
    page.get_by_test_id("search").fill("")
    assert rows.count() == everyone
    tier = visit["tier"]
    page.get_by_test_id("filter-tier").select_option(tier)
    others = [v for r in plan["routes"] for v in r["visits"] if v["tier"] != tier]
    if others:
        assert "dim" in (bar_of(board, others[0]["request_id"]).get_attribute("class") or "")
    page.get_by_test_id("filter-tier").select_option("")
    assert page.get_by_test_id("find-count").inner_text() == ""
    board.problems.assert_none()


def test_the_multi_day_view_shows_each_day_and_opens_a_visit_on_its_day(board: Board) -> None:
    """With 3 days chosen the board shows a column per day (the demo plans today and
    tomorrow); clicking a visit of the second day opens that day's timeline with it selected."""
    today = day_plan(board)["date"]
    board.sign_in()
    page = board.page
    page.get_by_test_id("days-select").select_option("3")
    page.get_by_test_id("multiday-day").nth(2).wait_for()
    assert page.get_by_test_id("timeline").is_hidden()
    days = [d.get_attribute("data-day") for d in page.get_by_test_id("multiday-day").all()]
    assert len(days) == 3 and days[0] == today
    second = page.locator(f"[data-testid=multiday-visit][data-day='{days[1]}']")
    if second.count():
        rid = second.first.get_attribute("data-request-id")
        second.first.click()
        page.get_by_test_id("timeline").wait_for()
        assert page.locator("#date-input").input_value() == days[1]
        page.locator(f"[data-testid=visit-bar][data-request-id='{rid}'].selected").wait_for()
    board.problems.assert_none()
