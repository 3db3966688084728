"""Re-plans the domain starts by itself: an absence that moved visits, an engineer who
declined one. Each is an area run over the affected days, queued through the runner after
the change commits, as a dispatcher's Plan now would be, with the re-plan time limit intake's
own re-plans use (``ONSITE_REPLAN_TIME_LIMIT_S``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from dispatch.errors import InvalidInput
from dispatch.planning.runner import JobRunner, submit_after_commit
from dispatch.planning.runs import create_run

MAX_REPLAN_DAYS = 14
"""A re-plan covers at most this many days from the first affected one (the runs' horizon);
visits moved further ahead wait for the dispatcher's next run."""


def queue_replan(
    session: Session,
    runner: JobRunner | None,
    *,
    area_id: int,
    days: Sequence[date],
    reason: str,
    time_limit_s: int,
    now: datetime,
) -> int | None:
    """Queue a run of the area from the first to the last of ``days`` and return its id; None
    when those days leave nothing to plan (every shift there has ended, or nobody works them):
    the requests then wait unassigned, and their alerts tell the desk."""
    first, last = min(days), max(days)
    try:
        run = create_run(
            session,
            area_ids=[area_id],
            horizon_start=first,
            days=min((last - first).days + 1, MAX_REPLAN_DAYS),
            time_limit_s=time_limit_s,
            actor=f"auto: {reason}",
            now=now,
        )
    except InvalidInput:
        return None  # nothing to plan there; the change itself still stands
    if runner is not None:
        submit_after_commit(session, runner, run.id)
    return run.id


__all__ = ["MAX_REPLAN_DAYS", "queue_replan"]
