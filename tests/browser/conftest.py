"""Browser fixtures: one live server on the planned demo day, one headless Chromium, and a
fresh browser context per test that records console errors and failed requests.

The tests need Debian's Chromium (``/usr/bin/chromium``, or the path in ``ONSITE_CHROMIUM``)
and the ``playwright`` Python package; they never download a browser.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import LiveServer, prepare_database, start_server

CHROMIUM = Path(os.environ.get("ONSITE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}

DISPATCHER_KEY = "osk_demo_dispatcher"
DESK_KEY = "osk_demo_service_desk"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            f"Chromium not found at {CHROMIUM} (install Debian's chromium package or set "
            "ONSITE_CHROMIUM to its path)"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a migrated SQLite database with the demo day planned, at a fixed time."""
    url = prepare_database(tmp_path_factory.mktemp("board"))
    server = start_server(url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; Playwright gives it a fresh temporary profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """Console errors, page errors and failed requests seen during a test."""

    seen: list[str] = field(default_factory=list)
    allowed: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)

    def allow(self, status: int, url_pattern: str) -> None:
        """Expect an error answer (e.g. a deliberate wrong key) and its console line."""
        self.allowed.append((status, re.compile(url_pattern)))

    def _is_allowed(self, status: int, url: str) -> bool:
        return any(s == status and p.search(url) for s, p in self.allowed)

    def on_response(self, response: Any) -> None:
        if response.status >= 400 and not self._is_allowed(response.status, response.url):
            self.seen.append(f"HTTP {response.status} {response.request.method} {response.url}")

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        # Chromium logs every error answer as "Failed to load resource: ... status of 401";
        # the answer itself is judged in on_response, with its URL.
        status = re.search(r"status of (\d{3})", text)
        url = (message.location or {}).get("url", "")
        if status and self._is_allowed(int(status.group(1)), url):
            return
        self.seen.append(f"console error: {text} ({url})")

    def on_page_error(self, error: Any) -> None:
        self.seen.append(f"page error: {error}")

    def on_request_failed(self, request: Any) -> None:
        if "ERR_ABORTED" in (request.failure or "") and request.url.endswith("/v1/stream"):
            return  # the board closes its own live stream (signing out): not a failure
        self.seen.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def assert_none(self) -> None:
        assert self.seen == [], "the board logged errors or failed requests:\n" + "\n".join(
            self.seen
        )


@dataclass
class Board:
    """A page on the live board, with the problems it recorded."""

    page: Any
    server: LiveServer
    problems: Problems

    def open(self, path: str = "/") -> None:
        self.page.goto(self.server.url + path)

    def sign_in(self, key: str = DISPATCHER_KEY, *, opened: bool = False) -> None:
        """Sign in (on the page already open when ``opened``) and wait until the plan is drawn."""
        if not opened:
            self.open()
        self.page.fill("#signin-key", key)
        self.page.click("#signin-button")
        self.page.locator("#app").wait_for(state="visible")
        self.page.locator("[data-testid=visit-bar]").first.wait_for()

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def open_board(
    browser: Any,
    server: LiveServer,
    name: str,
    *,
    viewport: dict[str, int] | None = None,
    locale: str = "en-GB",
) -> Iterator[Board]:
    """A fresh browser context (1366x768 unless told, English unless told) on ``server`` that
    records problems (and dialogs); its screenshot is saved as ``name`` at the end."""
    context = browser.new_context(
        viewport=viewport or VIEWPORT, accept_downloads=True, locale=locale
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = Problems()
    page.on("response", problems.on_response)
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    page.on("dialog", lambda dialog: problems.seen.append(f"dialog opened: {dialog.message}"))
    here = Board(page, server, problems)
    try:
        yield here
    finally:
        try:
            here.screenshot(name)
        finally:
            context.close()


@pytest.fixture
def board(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Board]:
    """A fresh browser context on the board, named after the test."""
    with open_board(browser, live_server, request.node.name) as here:
        yield here
