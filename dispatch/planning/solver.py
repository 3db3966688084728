"""Where plans are solved: inline (tests, small jobs) or in a worker process.

OR-Tools holds the GIL while it searches, so a solve on a thread of the API process would stall
every request for the whole time limit. The process solver keeps one warm worker process; the
optimiser's problem and plan are plain picklable data.
"""

from __future__ import annotations

import copyreg
import multiprocessing
import multiprocessing.connection
import os
import threading
import types
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from optimizer import Plan, Problem, SolveParams, solve


def _mappingproxy(data: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(data)


def _reduce_mappingproxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _mappingproxy, (dict(proxy),)


# The optimiser freezes skill maps as read-only proxies, which pickle cannot carry by default.
copyreg.pickle(types.MappingProxyType, _reduce_mappingproxy)


def _exit_with_parent() -> None:
    """In the worker process: exit as soon as the process that started it is gone.

    A killed API process (kill -9, the OOM killer) cannot shut its pool down; without this the
    worker would go on solving a run nobody will publish.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - only ever started as a child
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def lower_priority(nice: int) -> None:
    """Run this process (and what it starts) ``nice`` steps below normal CPU priority.

    Linux schedules each session (a terminal, a service started on its own) as one group,
    whatever its processes' nice values: a solving worker in a session of its own would still
    take half the machine from the API beside it. A session leader therefore lowers its group's
    priority too (``/proc/self/autogroup``); a process sharing its session with the API (the
    embedded solver) must not, or the API would be lowered with it.
    """
    if nice <= 0:
        return
    os.nice(nice)
    if os.getsid(0) == os.getpid():
        try:
            with open("/proc/self/autogroup", "w") as group:
                group.write(str(nice))
        except OSError:  # not Linux, autogroups off, or not allowed: the nice value stands
            pass


def _start_worker(nice: int) -> None:
    _exit_with_parent()
    lower_priority(nice)


def _ready() -> bool:
    # Importing the optimiser loads OR-Tools: the slow part of a worker's first solve.
    import optimizer.model  # noqa: F401

    return True


class Solver(Protocol):
    """Solves an optimiser problem."""

    def solve(self, problem: Problem, params: SolveParams) -> Plan: ...

    def warm(self) -> None: ...

    def close(self) -> None: ...


class InlineSolver:
    """Solve in the calling thread."""

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        return solve(problem, params)

    def warm(self) -> None:
        _ready()

    def close(self) -> None:
        return None


class ProcessSolver:
    """Solve in one long-lived worker process (started on first use, with ``spawn``), ``nice``
    steps below the API's CPU priority (:func:`lower_priority`)."""

    def __init__(self, nice: int = 0) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._nice = nice

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self._nice,),
                )
            return self._pool

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        return self._executor().submit(solve, problem, params).result()

    def warm(self) -> None:
        """Start the worker process and load OR-Tools before the first run needs them."""
        self._executor().submit(_ready).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
