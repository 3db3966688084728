"""Write docs/board.png: the board at 1366x768 on the planned demo day (for the README).

Run once by hand, never by the test suite: ``python -m tests.browser.screenshot``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DISPATCHER_KEY, VIEWPORT
from tests.browser.server import prepare_database, start_server

OUT = Path(__file__).resolve().parents[2] / "docs" / "board.png"


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    with tempfile.TemporaryDirectory() as tmp:
        live = start_server(prepare_database(Path(tmp)))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(live.url + "/")
                page.fill("#signin-key", DISPATCHER_KEY)
                page.click("#signin-button")
                page.locator("[data-testid=visit-bar]").first.wait_for()
                # A late visit selected: its details show beside the map and the timeline.
                page.locator("[data-testid=visit-bar][data-state=late]").first.click()
                page.mouse.move(0, 767)
                page.wait_for_timeout(500)  # let the map settle after fitting the area
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            live.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
