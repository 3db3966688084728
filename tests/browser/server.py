"""A live Onsite server on the planned demo day at a fixed time, for browser tests.

Also runnable by hand (``python -m tests.browser.server [port]``) to look at the board on
the same data the tests see.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app
from dispatch.clock import FixedClock
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.planning.runner import InProcessRunner
from dispatch.planning.solver import InlineSolver
from dispatch.settings import Settings
from tests.fixtures.demo_day import load_demo_day, plan_demo_day

# Monday 08:30 in Shanghai: the demo's requests arrived over the six hours before.
DEMO_NOW = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


@dataclass
class LiveServer:
    """A uvicorn server running in a background thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(directory: Path, *, now: datetime = DEMO_NOW) -> str:
    """A migrated SQLite database holding the demo data with today and tomorrow planned."""
    url = f"sqlite:///{directory / 'board.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            load_demo_day(session, now)
        plan_demo_day(factory, now=now, time_limit_s=5)
    finally:
        engine.dispose()
    return url


def start_server(url: str, *, now: datetime = DEMO_NOW, port: int | None = None) -> LiveServer:
    """Serve the app on ``url`` with a fixed clock and in-process inline runs."""
    # New requests wait for the dispatcher here (not booked at intake): the board's tests
    # assign waiting requests by hand.
    app = create_app(
        Settings(
            database_url=url, solver="inline", assign_on_intake=False, webhook_delivery="thread"
        )
    )
    clock = FixedClock(now)
    app.state.clock = clock
    app.state.runner = InProcessRunner(
        app.state.session_factory, app.state.geo, InlineSolver(), clock
    )
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="board-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the server thread stopped while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return LiveServer(base, server, thread)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.should_exit = True
    raise RuntimeError(f"the server did not answer {base}/healthz within 30 s")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    with tempfile.TemporaryDirectory() as tmp:
        live = start_server(prepare_database(Path(tmp)), port=port)
        print(f"board at {live.url}/ (key osk_demo_dispatcher); Ctrl-C stops", flush=True)
        try:
            while live.thread.is_alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            live.stop()


if __name__ == "__main__":
    main()
