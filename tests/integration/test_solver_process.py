"""The solver's worker process never outlives the process that started it, and yields the CPU
to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatch.planning.solver import ProcessSolver

ROOT = Path(__file__).resolve().parents[2]
PARENT = """
import sys, time
from dispatch.planning.solver import ProcessSolver
solver = ProcessSolver()
solver.warm()
print(*solver._executor()._processes, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (it no longer runs); reap it if it is ours.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_the_worker_exits_when_its_parent_is_killed() -> None:
    """kill -9 of the API process: its solver worker exits within seconds, not minutes."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        (child,) = (int(p) for p in line.split())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the solver worker outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_solver_process_runs_below_the_api_priority() -> None:
    """The embedded solver process runs ``nice`` steps below the API process that starts it."""
    solver = ProcessSolver(nice=5)
    try:
        # os.nice(0) reads the process's nice value without changing it.
        child = solver._executor().submit(os.nice, 0).result(timeout=60)
    finally:
        solver.close()
    assert child == min(19, os.nice(0) + 5)


LEADER = """
from dispatch.planning.solver import lower_priority
lower_priority(7)
import os
print(os.nice(0), open("/proc/self/autogroup").read().split()[-1])
"""


@pytest.mark.skipif(
    not Path("/proc/self/autogroup").exists(), reason="this kernel schedules no session groups"
)
def test_a_worker_in_a_session_of_its_own_lowers_its_session_group() -> None:
    """`onsite worker` started on its own (its own session, as a service or a second terminal
    is) lowers its session's scheduling group too, or its nice value would count for nothing
    against the API's session."""
    out = subprocess.run(
        [sys.executable, "-c", LEADER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    ).stdout.split()
    assert int(out[0]) == min(19, os.nice(0) + 7)
    assert out[1] == "7"
