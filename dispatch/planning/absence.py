"""Absences move work: when an engineer's hours change (leave, sickness, other hours, a new
weekly template) or they are deactivated, the visits their new days no longer hold go back
to the plan, each with a timeline entry saying why, and the area is re-planned for those days
through the runner (the re-plan's unassigned requests and late ETAs raise the usual alerts).
Visits under way (en route, on site) are never moved."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.engineers.service import generate_shifts, get_engineer_or_raise
from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RequestEvent, ServiceArea, Visit
from dispatch.planning import manual
from dispatch.planning.replan import queue_replan
from dispatch.planning.runner import JobRunner
from dispatch.planning.snapshot import MOVABLE


def _today(session: Session, engineer: Engineer, now: datetime) -> date:
    area = session.get(ServiceArea, engineer.service_area_id)
    zone = ZoneInfo(area.timezone) if area is not None else None
    return now.astimezone(zone).date() if zone is not None else now.date()


def days_with_work(session: Session, engineer_id: int, now: datetime) -> list[date]:
    """The days from today on on which the engineer holds visits that could still move."""
    engineer = get_engineer_or_raise(session, engineer_id)
    today = _today(session, engineer, now)
    return sorted(
        set(
            session.scalars(
                select(Visit.date).where(
                    Visit.engineer_id == engineer_id,
                    Visit.date >= today,
                    Visit.status.in_(MOVABLE),
                )
            )
        )
    )


def move_work(
    session: Session,
    geo: GeoContext,
    runner: JobRunner | None,
    *,
    engineer_id: int,
    days: Iterable[date],
    reason: str,
    actor: str,
    now: datetime,
    time_limit_s: int,
) -> tuple[list[int], int | None]:
    """Take off the engineer's routes on ``days`` every movable visit their hours there no
    longer hold (all of them on a day off, or for an inactive engineer; those outside the new
    hours otherwise), note why on each request, and queue a re-plan of the area for those
    days. Returns the requests moved and the run (None when nothing moved)."""
    engineer = get_engineer_or_raise(session, engineer_id)
    today = _today(session, engineer, now)
    wanted = sorted(d for d in set(days) if d >= today)
    if not wanted:
        return [], None
    shifts = (
        {s.date: s for s in generate_shifts(session, [engineer_id], wanted[0], wanted[-1])}
        if engineer.active
        else {}
    )
    moved: list[int] = []
    for day in wanted:
        shift = shifts.get(day)
        visits = session.scalars(
            select(Visit)
            .where(
                Visit.engineer_id == engineer_id,
                Visit.date == day,
                Visit.status.in_(MOVABLE),
            )
            .order_by(Visit.sequence)
        ).all()
        for visit in visits:
            if (
                shift is not None
                and visit.planned_start >= shift.start_at
                and visit.planned_end <= shift.end_at
            ):
                continue  # the new hours still hold it
            request_id = visit.request_id
            manual.unassign(session, geo, visit.id, actor=actor, now=now)
            session.add(
                RequestEvent(
                    request_id=request_id,
                    type="moved_for_absence",
                    at=now,
                    actor=actor,
                    payload={"engineer_id": engineer_id, "date": day.isoformat(), "reason": reason},
                )
            )
            moved.append(request_id)
    if not moved:
        return [], None
    session.flush()
    run_id = queue_replan(
        session,
        runner,
        area_id=engineer.service_area_id,
        days=wanted,
        reason=reason,
        time_limit_s=time_limit_s,
        now=now,
    )
    return moved, run_id


__all__ = ["days_with_work", "move_work"]
