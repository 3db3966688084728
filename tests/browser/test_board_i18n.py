"""The board in Chinese and English, and on a laptop, a tablet and a phone, in headless
Chromium on the planned demo day (each screenshot is saved under test-artifacts)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Board, open_board
from tests.browser.server import LiveServer

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_language_switch_turns_the_board_and_the_servers_messages_chinese(
    board: Board,
) -> None:
    """Switching to 中文 translates the page and what is drawn from data (the day, the
    summary, the tabs) and asks the server for Chinese (alert texts); switching back restores
    English; the choice is remembered across a reload."""
    board.sign_in()
    page = board.page
    assert page.locator("#tab-unassigned").inner_text().startswith("Unassigned")
    page.get_by_test_id("lang-select").select_option("zh-CN")
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert page.locator("#tab-unassigned").inner_text().startswith("待派")
    assert "月" in page.get_by_test_id("date-label").inner_text()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=plan-summary]').textContent.includes('次上门')"
    )
    page.locator("#tab-alerts").click()
    first_alert = page.get_by_test_id("alert-item").first
    first_alert.wait_for()
    page.wait_for_function(
        "() => /[\\u4e00-\\u9fff]/.test(document.querySelector('[data-testid=alert-item] p + p')"
        "?.textContent || '')"
    )
    board.screenshot("board_zh_CN")
    page.reload()
    page.locator("#app").wait_for(state="visible")
    page.locator("[data-testid=visit-bar]").first.wait_for()
    assert page.locator("#tab-unassigned").inner_text().startswith("待派")
    page.get_by_test_id("lang-select").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator("#tab-unassigned").inner_text().startswith("Unassigned")
    board.screenshot("board_en")
    board.problems.assert_none()


def test_a_chinese_browser_opens_the_board_in_chinese(
    browser: Any, live_server: LiveServer
) -> None:
    """With no choice made yet, the browser's language decides: a zh-CN browser sees the
    sign-in page and the board in Chinese."""
    with open_board(browser, live_server, "board_zh_browser", locale="zh-CN") as board:
        board.open()
        board.page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        assert board.page.locator("#signin-button").inner_text() == "登录"
        board.sign_in(opened=True)
        assert HAN.search(board.page.locator("#timeline-title").inner_text())
        board.problems.assert_none()


@pytest.mark.parametrize(
    ("width", "height"), [(1280, 800), (1024, 768), (390, 844)], ids=["laptop", "tablet", "phone"]
)
def test_the_board_fits_a_laptop_a_tablet_and_a_phone(
    browser: Any, live_server: LiveServer, width: int, height: int
) -> None:
    """At each size the page has no horizontal overflow (the timeline scrolls in its own
    box), and the map, the timeline, the panels and Plan now are all on the page."""
    name = f"layout_{width}x{height}"
    with open_board(
        browser, live_server, name, viewport={"width": width, "height": height}
    ) as board:
        board.sign_in()
        page = board.page
        page.wait_for_timeout(300)
        scroll, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{scroll} px of page in a {client} px window"
        for selector in ("#map", "#timeline", ".tabs", "[data-testid=plan-now]"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["width"] > 0, selector
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, selector
        if width >= 1024:
            # A laptop and a tablet show the day on one screen: the timeline starts on it.
            assert page.locator("#timeline").bounding_box()["y"] < height  # type: ignore[index]
        board.problems.assert_none()
