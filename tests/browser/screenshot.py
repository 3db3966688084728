"""Write docs/board.png and docs/board.zh.png: the board at 1366x768, in English and in
Chinese, at 14:30 on a demo day the simulator has played up to then (the morning's visits
done, the afternoon's planned, engineers' positions reported), as ``make run`` shows it.

Run once by hand, never by the test suite: ``python -m tests.browser.screenshot [DIR]``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from simulation.demo import load_demo
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DISPATCHER_KEY, VIEWPORT
from tests.browser.server import start_server

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Monday 23 November 2026, 14:30 in Shanghai: a believable hour of the working day.
AT = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
SHOTS = {"board.png": "en-GB", "board.zh.png": "zh-CN"}


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        load_demo(url, now=AT, history_days=2)
        live = start_server(url, now=AT)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                for name, locale in SHOTS.items():
                    context = browser.new_context(viewport=VIEWPORT, locale=locale)
                    page = context.new_page()
                    page.goto(live.url + "/")
                    page.fill("#signin-key", DISPATCHER_KEY)
                    page.click("#signin-button")
                    page.locator("[data-testid=visit-bar]").first.wait_for()
                    # An engineer on site: the visit's details beside the map and timeline.
                    busy = page.locator("[data-testid=service-bar][data-status=arrived]")
                    chosen = busy if busy.count() else page.locator("[data-testid=service-bar]")
                    chosen.first.dispatch_event("click")
                    page.mouse.move(0, 767)
                    page.wait_for_timeout(800)  # let the map settle after fitting the area
                    out.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out / name))
                    context.close()
                    print(f"wrote {out / name}")
                browser.close()
        finally:
            live.stop()


if __name__ == "__main__":
    main()
