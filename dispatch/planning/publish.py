"""Publishing a plan: one short transaction that checks nothing changed since the snapshot.

Either every visit of the plan is written and the scope's plan version moves on, or nothing is
(``StalePlan`` is raised and the caller re-reads and re-solves, or gives up with the reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dispatch.models import Engineer, PlanScope, RepairRequest, RequestEvent, Shift, Visit
from dispatch.models.enums import LockKind, RequestStatus, VisitStatus
from dispatch.planning.problem import Built, engineer_key, engineer_of, job_key, request_of
from dispatch.planning.snapshot import (
    active_visits,
    locked_scopes,
    remember_locked,
    request_fingerprint,
)
from optimizer import Plan


class StalePlan(Exception):
    """The world changed while the plan was being computed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def lock_scopes(session: Session, area_ids: Sequence[int]) -> dict[int, PlanScope]:
    """The scopes' rows, created when missing and locked for this transaction (PostgreSQL).

    A missing row is inserted with ON CONFLICT DO NOTHING, then every row is read with its
    lock: two transactions creating the first plan of an area at once (two bookings, or a
    booking and a run) then wait for each other instead of one failing on the primary key.
    """

    def locked() -> dict[int, PlanScope]:
        return {
            s.service_area_id: s
            for s in session.scalars(
                select(PlanScope).where(PlanScope.service_area_id.in_(area_ids)).with_for_update()
            )
        }

    held = locked_scopes(session, area_ids)
    if held is not None:  # locked earlier in this transaction: the locks last until its end
        return held
    existing = locked()
    missing = [a for a in dict.fromkeys(area_ids) if a not in existing]
    if missing:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(PlanScope)
            .values([{"service_area_id": a, "plan_version": 0} for a in missing])
            .on_conflict_do_nothing(index_elements=["service_area_id"])
        )
        existing = locked()
    remember_locked(session, existing)
    return existing


def bump_plan_version(session: Session, area_ids: Sequence[int]) -> dict[int, int]:
    """Move the areas' plan versions on (any change to published visits does)."""
    scopes = lock_scopes(session, area_ids)
    for scope in scopes.values():
        scope.plan_version += 1
    session.flush()
    return {a: s.plan_version for a, s in scopes.items()}


def record_break(shift: Shift | None, built: Built, start: int | None, end: int | None) -> None:
    """Keep the break the plan scheduled on the engineer-day (None: no break placed)."""
    if shift is None:
        return
    if start is not None and end is not None and shift.break_start_at is not None:
        # On a trip's drive the plan may stop for lunch before the window opens, i.e. on the
        # road: the engineer takes it when the window opens, during the drive that follows.
        late = built.seconds(shift.break_start_at) - start
        if late > 0:
            start, end = start + late, end + late
    shift.planned_break_start = built.instant(start) if start is not None else None
    shift.planned_break_end = built.instant(end) if end is not None else None


def first_name(name: str) -> str:
    return name.split()[-1] if " " in name else name


def _event(
    session: Session, request_id: int, type_: str, at: datetime, actor: str, **payload: Any
) -> None:
    session.add(
        RequestEvent(request_id=request_id, type=type_, at=at, actor=actor, payload=payload)
    )


def _lock_broken(
    session: Session, visit: Visit, reason: str, *, now: datetime, actor: str, run_id: int | None
) -> None:
    """Release the visit's lock and say so on the request's timeline."""
    _event(
        session,
        visit.request_id,
        "lock_broken",
        now,
        actor,
        lock=visit.lock,
        previous_engineer_id=visit.engineer_id,
        run_id=run_id,
        reason=reason,
    )
    visit.lock = LockKind.NONE.value
    visit.locked_arrival = None


def back_to_unassigned(request: RepairRequest) -> None:
    """An assigned request whose visit is gone waits again (acknowledged or promised)."""
    if request.status == RequestStatus.ASSIGNED.value:
        request.status = (
            RequestStatus.ACKNOWLEDGED.value
            if request.acknowledged_at is not None
            else RequestStatus.PROMISED.value
        )


def follow_plan(request: RepairRequest, start: datetime) -> None:
    """The promise's risk flag follows the plan: a visit planned inside the window clears it,
    one planned after the window raises it with the reason."""
    late = request.window_end is not None and start > request.window_end
    if late:
        assert request.window_end is not None
        request.at_risk = True
        request.risk_reason = (
            f"planned arrival {start.isoformat()} is after the promised window "
            f"(ends {request.window_end.isoformat()})"
        )
    else:
        request.at_risk = False
        request.risk_reason = None


def check_unchanged(
    session: Session, built: Built, *, siblings_since: Callable[[], int] | None = None
) -> dict[int, RepairRequest]:
    """Raise StalePlan when a scope's plan or one of the snapshot's requests changed.

    ``siblings_since`` (a geographic part of an area's run) counts the publishes of the same
    run's other parts of the area since the snapshot was read, asked once the scope is locked:
    each moved the version on by one, over engineers and requests disjoint from this part's, so
    they are the one change to the plan this part may publish over.
    """
    snapshot = built.snapshot
    scopes = lock_scopes(session, snapshot.area_ids)
    allowed = siblings_since() if siblings_since is not None else 0
    for area_id, version in snapshot.plan_versions.items():
        if scopes[area_id].plan_version != version + allowed:
            raise StalePlan(
                f"the plan of service area {area_id} changed while solving "
                f"(version {version} -> {scopes[area_id].plan_version})"
            )
    ids = [j.request_id for j in snapshot.jobs]
    requests = {
        r.id: r for r in session.scalars(select(RepairRequest).where(RepairRequest.id.in_(ids)))
    }
    visits = active_visits(session, ids)
    for job in snapshot.jobs:
        request = requests.get(job.request_id)
        if (
            request is None
            or request_fingerprint(request, visits.get(job.request_id)) != job.fingerprint
        ):
            raise StalePlan(f"request {job.external_ref} changed while solving")
    return requests


def publish(
    session: Session,
    built: Built,
    plan: Plan,
    *,
    run_id: int | None,
    actor: str,
    now: datetime,
    siblings_since: Callable[[], int] | None = None,
) -> list[dict[str, Any]]:
    """Write ``plan`` for the snapshot's scope; returns the routes in brief."""
    requests = check_unchanged(session, built, siblings_since=siblings_since)
    snapshot = built.snapshot
    versions = bump_plan_version(session, snapshot.area_ids)
    visits = active_visits(session, list(requests))
    names = dict(session.execute(select(Engineer.id, Engineer.name)).all())
    engineer_area = {e.id: e.area_id for e in snapshot.engineers}
    summary = []
    planned_ids: set[int] = set()
    shifts = {
        (s.engineer_id, s.date): s
        for s in session.scalars(
            select(Shift).where(
                Shift.engineer_id.in_([e.id for e in snapshot.engineers]),
                Shift.date >= snapshot.horizon_start,
                Shift.date <= snapshot.horizon_end,
            )
        )
    }
    for request_id in sorted(built.broken_locks):
        visit = visits.get(request_id)
        if visit is not None and visit.lock != LockKind.NONE.value:
            reason = "the locked engineer does not work in the planned days"
            _lock_broken(session, visit, reason, now=now, actor=actor, run_id=run_id)
    for route in plan.routes:
        engineer_id = engineer_of(route.engineer_id)
        day = built.date_of(route.day)
        record_break(shifts.get((engineer_id, day)), built, route.break_start, route.break_end)
        summary.append(
            {
                "engineer_id": engineer_id,
                "date": day.isoformat(),
                "visits": [request_of(v.job_id) for v in route.visits],
                "travel_s": route.travel_s,
            }
        )
        version = versions.get(engineer_area.get(engineer_id, -1), max(versions.values()))
        for sequence, stop in enumerate(route.visits):
            request_id = request_of(stop.job_id)
            planned_ids.add(request_id)
            request = requests[request_id]
            # The engineer reaches the site at ``arrival`` and starts at ``start`` (waiting for
            # the window in between, maybe on the break); the ETA people see is the start.
            arrival = built.instant(stop.arrival)
            start = built.instant(stop.start)
            visit = visits.get(request_id)
            if visit is not None and visit.status in (
                VisitStatus.EN_ROUTE.value,
                VisitStatus.ARRIVED.value,
            ):
                visit.sequence = sequence
                if visit.status == VisitStatus.EN_ROUTE.value:
                    visit.eta = start
                visit.plan_version = version
                continue
            if visit is None:
                visit = Visit(request_id=request_id, status=VisitStatus.PLANNED.value, lock="none")
                session.add(visit)
                _event(
                    session,
                    request_id,
                    "assigned",
                    now,
                    actor,
                    engineer_id=engineer_id,
                    engineer=first_name(names.get(engineer_id, "")),
                    planned_arrival=start.isoformat(),
                    run_id=run_id,
                )
            elif visit.engineer_id != engineer_id:
                # Another engineer: their acceptance does not carry over.
                visit.status = VisitStatus.PLANNED.value
                visit.accepted_at = None
                _event(
                    session,
                    request_id,
                    "reassigned",
                    now,
                    actor,
                    engineer_id=engineer_id,
                    engineer=first_name(names.get(engineer_id, "")),
                    previous_engineer_id=visit.engineer_id,
                    planned_arrival=start.isoformat(),
                    run_id=run_id,
                )
            visit.engineer_id = engineer_id
            visit.date = day
            visit.sequence = sequence
            visit.planned_arrival = arrival
            visit.planned_start = start
            visit.planned_end = start + timedelta(seconds=request.service_minutes * 60)
            visit.travel_seconds = stop.travel_s
            visit.eta = start
            visit.run_id = run_id
            visit.reserved = False
            visit.plan_version = version
            if request.status in (RequestStatus.PROMISED.value, RequestStatus.ACKNOWLEDGED.value):
                request.status = RequestStatus.ASSIGNED.value
            request.predicted_arrival = start
            follow_plan(request, start)
    _record_nights(built, plan, shifts)
    reasons = {u.job_id: u for u in plan.unassigned}
    for job in snapshot.jobs:
        if job.request_id in planned_ids:
            continue
        request = requests[job.request_id]
        visit = visits.get(job.request_id)
        why = reasons.get(f"r{job.request_id}")
        if visit is None or visit.status in (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value):
            request.predicted_arrival = None
            request.at_risk = True
            request.risk_reason = (
                f"not planned: {why.message}" if why else "not planned by the last run"
            )[:500]
        if visit is not None and visit.status in (
            VisitStatus.PLANNED.value,
            VisitStatus.ACCEPTED.value,
        ):
            if visit.lock != LockKind.NONE.value:
                # The search found no place for the locked visit (its window can no longer
                # be met, say): the lock goes with the visit, and the timeline says so. (A
                # lock the snapshot already released is NONE by now.)
                reason = "no plan keeps the locked visit" + (f": {why.message}" if why else "")
                _lock_broken(session, visit, reason, now=now, actor=actor, run_id=run_id)
            session.delete(visit)
            back_to_unassigned(request)
            _event(
                session,
                job.request_id,
                "unassigned",
                now,
                actor,
                run_id=run_id,
                reason=why.reason.value if why else None,
                message=why.message if why else None,
            )
    session.flush()
    return summary


def _record_nights(built: Built, plan: Plan, shifts: Mapping[tuple[int, date], Shift]) -> None:
    """Where each engineer sleeps after each day the run decided: at the lodging of a trip the
    plan makes, at home otherwise (the nights before and after the horizon stay as they were)."""
    snapshot = built.snapshot
    if not snapshot.decide_nights:
        return
    for (_, day), shift in shifts.items():
        if day < snapshot.horizon_end:
            shift.night_lat = shift.night_lon = shift.night_label = None
    for trip in plan.trips:
        lat, lon = built.points[trip.lodging]
        for key in range(trip.first_day, trip.last_day):
            shift = shifts.get((engineer_of(trip.engineer_id), built.date_of(key)))
            if shift is not None:
                shift.night_lat, shift.night_lon = lat, lon
                shift.night_label = built.lodging_names.get(trip.lodging, "")[:200]


def plan_kpis(built: Built, plan: Plan) -> dict[str, Any]:
    """The figures dispatchers compare before and after a run."""
    # Late is judged against the promised window, as the plan in force is (the optimiser's
    # lateness counts from the plan-by time, which may be earlier).
    ends = {job_key(j.request_id): built.seconds(j.window_end) for j in built.snapshot.jobs}
    late = [
        v.start - ends[v.job_id]
        for r in plan.routes
        for v in r.visits
        if v.job_id in ends and v.start > ends[v.job_id]
    ]
    assigned = sum(len(r.visits) for r in plan.routes)
    return {
        "assigned": assigned,
        "unassigned": len(plan.unassigned),
        "late_visits": len(late),
        "late_minutes": round(sum(late) / 60, 1),
        # Door to door: every leg of a used route, the drive home included (as it is paid for).
        "travel_minutes": round(sum(r.travel_s for r in plan.routes if r.visits) / 60, 1),
        "promises_kept": assigned - len(late),
        "promises_at_risk": len(late) + len(plan.unassigned),
        "engineers_used": len({r.engineer_id for r in plan.routes if r.visits}),
        # The optimiser's objective for this plan, and for the plan in force re-timed in the
        # same problem (None when there was none, or it no longer honours the hard rules).
        "objective": plan.cost,
        "objective_in_force": plan.warm_start_cost,
    }


def current_kpis(session: Session, built: Built) -> dict[str, Any]:
    """The same figures for the plan in force before the run."""
    snapshot = built.snapshot
    ids = [j.request_id for j in snapshot.jobs]
    visits = active_visits(session, ids)
    windows = {j.request_id: j.window_end for j in snapshot.jobs}
    late = []
    for request_id, visit in visits.items():
        eta = visit.current_eta
        if eta > windows[request_id]:
            late.append((eta - windows[request_id]).total_seconds())
    return {
        "assigned": len(visits),
        "unassigned": len(ids) - len(visits),
        "late_visits": len(late),
        "late_minutes": round(sum(late) / 60, 1),
        "travel_minutes": round(
            (sum(v.travel_seconds for v in visits.values()) + _drives_home(built, visits.values()))
            / 60,
            1,
        ),
        "promises_kept": len(visits) - len(late),
        "promises_at_risk": len(late) + len(ids) - len(visits),
        "engineers_used": len({v.engineer_id for v in visits.values()}),
    }


def _drives_home(built: Built, visits: Iterable[Visit]) -> int:
    """Seconds of the drive home after each engineer-day's last visit in force (the stored
    visits keep only the legs into them), departing when that visit ends."""
    problem = built.problem
    last: dict[tuple[int, date], Visit] = {}
    for visit in visits:
        key = (visit.engineer_id, visit.date)
        if key not in last or visit.sequence > last[key].sequence:
            last[key] = visit
    total = 0
    for (engineer_id, day), visit in last.items():
        engineer = problem.engineer(engineer_key(engineer_id))
        shift = None
        if engineer is not None:
            shift = next((s for s in engineer.shifts if s.day == built.day_key(day)), None)
        job = problem.job(job_key(visit.request_id))
        if engineer is None or shift is None or job is None:
            continue
        site = job.location
        leave = built.seconds(visit.current_eta + (visit.planned_end - visit.planned_start))
        total += engineer.leg_duration(problem.durations[site][shift.end_location], leave)
    return total


def unassigned_summary(built: Built, plan: Plan) -> list[dict[str, Any]]:
    """Each unassigned request with the optimiser's reason."""
    refs = {j.request_id: j.external_ref for j in built.snapshot.jobs}
    return [
        {
            "request_id": request_of(u.job_id),
            "external_ref": refs.get(request_of(u.job_id)),
            "reason": u.reason.value,
            "message": u.message,
        }
        for u in plan.unassigned
    ]
