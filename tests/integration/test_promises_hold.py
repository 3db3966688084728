"""What keeps promises: rush hours in the plan, plans aiming for the plan-by time, engineers
planned from where they are, and intake that does not push promises already made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.errors import InvalidInput
from dispatch.geo_support import GeoContext
from dispatch.models import Visit
from dispatch.planning.capacity import (
    URGENT_AMPLE_S,
    URGENT_ROOM_S,
    CapacityIndex,
    _choose,
    _Diversions,
)
from dispatch.planning.problem import build_problem, job_key
from dispatch.planning.snapshot import plan_versions, read_snapshot
from dispatch.promise import policy_to_dict
from dispatch.requests.intake import IntakeSettings, take_request
from dispatch.sla import service as sla
from optimizer import InsertionOption, Job, Priority
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site

MONDAY_8 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def _engineer_problem(session: Session, **area_fields: object):
    area = create_area(session, **area_fields)  # type: ignore[arg-type]
    create_engineer(session, area=area, name=f"Engineer of {area.name}")
    snapshot = read_snapshot(
        session, area_ids=[area.id], horizon_start=MONDAY_8.date(), days=1, now=MONDAY_8
    )
    return build_problem(snapshot, GeoContext())


def test_the_plan_drives_slower_in_the_rush_hour(session: Session) -> None:
    """An area's rush hours reach the plan: legs set off at 08:00 local are slower than at
    noon, the search matrix carries the mean, and an area without rush hours has none."""
    built = _engineer_problem(session)
    engineer = built.problem.engineers[0]
    eight, noon = 8, 12  # hours from the local midnight epoch
    assert engineer.traffic[eight] > engineer.traffic[noon]
    assert engineer.traffic[eight] * built.traffic_factor == pytest.approx(1.4)
    assert built.traffic_factor > 1.0
    calm = _engineer_problem(
        session, name="Calm", center=(30.3, 120.2), travel_profile={"rush_hours": []}
    )
    assert calm.traffic_factor == 1.0 and set(calm.problem.engineers[0].traffic) == {1.0}


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"rush_hours": [[25, 1.2]]}, ["travel_profile", "rush_hours"]),
        ({"rush_hours": [[8, 0]]}, ["travel_profile", "rush_hours"]),
        ({"rush_hours": [["8", 1.2]]}, ["travel_profile", "rush_hours", 0]),
        ({"rush_days": [9]}, ["travel_profile", "rush_days"]),
        ({"speed": 3}, ["travel_profile", "speed"]),
    ],
)
def test_a_bad_travel_profile_is_refused_by_field(
    session: Session, profile: dict[str, object], field: list[object]
) -> None:
    """Rush hours out of range, a bad multiplier or an unknown key are refused, naming it."""
    with pytest.raises(InvalidInput) as caught:
        create_area(session, travel_profile=profile)
    assert list(caught.value.loc)[: len(field)] == field


def test_calibrated_promises_plan_by_a_time_inside_the_window(session: Session) -> None:
    """Under calibrated windows the promise carries a plan-by time inside its window, and the
    plan's soft deadline for the visit is that time, not the window's end."""
    area = create_area(session)
    create_engineer(session, area=area)
    current = sla.active_policy(session).policy
    sla.publish_policy(
        session,
        name=current.name,
        rules=policy_to_dict(current)["rules"],
        max_service_travel_s=current.max_service_travel_s,
        window_minutes=current.window_minutes,
        min_lead_minutes=current.min_lead_minutes,
        priority_rules=None,
        note=None,
        actor="test",
        window={"mode": "calibrated"},
    )
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    request = take_request(
        session,
        now=MONDAY_8,
        actor="test",
        geo=GeoContext(),
        capacity=CapacityIndex(),
        settings=IntakeSettings(assign_on_intake=False),
        site_id=site.id,
        channel="phone",
        tier="general",
        service_minutes=45,
    ).request
    assert request.plan_by is not None
    assert request.window_start <= request.plan_by <= request.window_end
    snapshot = read_snapshot(
        session, area_ids=[area.id], horizon_start=MONDAY_8.date(), days=1, now=MONDAY_8
    )
    built = build_problem(snapshot, GeoContext())
    job = built.problem.job(job_key(request.id))
    assert job is not None and job.promise_due == built.seconds(request.plan_by)


def _option(engineer: str, start: int, cost: int, late: tuple[str, ...] = ()) -> InsertionOption:
    return InsertionOption(engineer, 0, 0, start, start, 0, 0, late, 60 * len(late), 0, cost)


def test_intake_keeps_promises_already_made() -> None:
    """A new request takes a slot that delays no promised visit when one meets its SLA or,
    short of that, a later clean one; only urgent requests push others, to meet their SLA or
    else to be there soonest."""
    pushing = _option("e1", 100, 10, ("r1",))
    clean_late = _option("e2", 900, 5)
    clean_on_time = _option("e3", 200, 50)
    assert (
        _choose([pushing, clean_on_time], [pushing, clean_on_time], urgent=False) == clean_on_time
    )
    assert _choose([pushing, clean_late], [pushing], urgent=False) == clean_late
    assert _choose([pushing, clean_late], [pushing], urgent=True) == pushing
    assert _choose([pushing], [], urgent=False) == pushing
    assert _choose([pushing, clean_late], [], urgent=False) == clean_late
    assert _choose([pushing, clean_late], [], urgent=True) == pushing


def _book(session: Session, request_id: int, engineer_id: int) -> None:
    """Put the request into the engineer's route today, as an automatic insertion does."""
    from dispatch.planning import manual

    manual.assign(
        session,
        GeoContext(),
        request_id=request_id,
        engineer_id=engineer_id,
        day=MONDAY_8.date(),
        position=None,
        dry_run=False,
        accept_warnings=True,
        actor="test",
        now=MONDAY_8,
        lock=False,
    )


def _booked(
    session: Session, site_id: int, engineer_id: int, *, tier: str = "general", minutes: int = 30
) -> Any:
    """A request for the site taken at 08:00 and put into the engineer's route today."""
    request = take_request(
        session,
        now=MONDAY_8,
        actor="test",
        site_id=site_id,
        channel="phone",
        tier=tier,
        service_minutes=minutes,
    ).request
    _book(session, request.id, engineer_id)
    return request


def _report(
    session: Session, engineer_id: int, visit_id: int, steps: tuple[tuple[str, int], ...]
) -> None:
    """The engineer's app reports each (event, minutes after 08:00) in turn."""
    from dispatch.field import service as field

    for kind, minutes in steps:
        field.report_visit_event(
            session,
            GeoContext(),
            engineer_id=engineer_id,
            visit_id=visit_id,
            type_=kind,
            at=None,
            now=MONDAY_8 + timedelta(minutes=minutes),
            actor="test",
        )


def test_an_engineer_is_planned_from_the_visit_just_completed(session: Session) -> None:
    """Without a position ping, an engineer who completed a visit is where that visit was."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    request = _booked(session, site.id, engineer.id)
    visit = session.scalars(select(Visit).where(Visit.request_id == request.id)).one()
    _report(
        session,
        engineer.id,
        visit.id,
        (("accepted", 0), ("en_route", 0), ("arrived", 20), ("completed", 60)),
    )
    later = MONDAY_8 + timedelta(minutes=70)
    snapshot = read_snapshot(
        session, area_ids=[area.id], horizon_start=MONDAY_8.date(), days=1, now=later
    )
    position = snapshot.engineers[0].position
    assert position is not None and position[:2] == pytest.approx((31.25, 121.49))


def test_a_visit_running_over_lasts_until_now_in_the_plan(session: Session) -> None:
    """An engineer on site past the visit's planned time is not planned to have left in the
    past: the visit lasts at least until now, so the next leg sets off from now at earliest."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    request = _booked(session, site.id, engineer.id)
    visit = session.scalars(select(Visit).where(Visit.request_id == request.id)).one()
    _report(session, engineer.id, visit.id, (("accepted", 0), ("en_route", 0), ("arrived", 20)))

    def service_s(minutes_after_arrival: int) -> int:
        now = MONDAY_8 + timedelta(minutes=20 + minutes_after_arrival)
        snapshot = read_snapshot(
            session, area_ids=[area.id], horizon_start=MONDAY_8.date(), days=1, now=now
        )
        job = build_problem(snapshot, GeoContext()).problem.job(job_key(request.id))
        assert job is not None and job.in_progress is not None
        return job.service_s

    assert service_s(10) == 30 * 60  # still within its planned half hour
    assert service_s(75) == 75 * 60  # 45 minutes over: it lasts until now at least


def test_a_capacity_context_sees_an_engineer_set_off(session: Session) -> None:
    """The capacity view is rebuilt when an engineer reports setting off, though the plan did
    not change: an urgent call's quote a moment later knows the visit is under way (and would
    not divert the engineer from it); another quote takes a view up to a minute old."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    request = _booked(session, site.id, engineer.id)
    visit = session.scalars(select(Visit).where(Visit.request_id == request.id)).one()
    geo = GeoContext()
    first, second = CapacityIndex(), CapacityIndex()

    def under_way(capacity: CapacityIndex, seconds: int, *, urgent: bool) -> bool:
        now = MONDAY_8 + timedelta(seconds=seconds)
        context = capacity.context(session, geo, area.id, now, fresh=urgent)
        job = context.built.problem.job(job_key(request.id))
        assert job is not None
        return job.in_progress is not None

    assert not under_way(first, 0, urgent=False)
    assert not under_way(second, 0, urgent=False)
    _report(session, engineer.id, visit.id, (("accepted", 0), ("en_route", 0)))
    assert not under_way(first, 30, urgent=False)
    assert under_way(first, 30, urgent=True)
    assert under_way(second, 90, urgent=False)


def test_new_promises_leave_the_day_room_to_run_late(session: Session) -> None:
    """Capacity offers no slot in the last 45 minutes of a shift (the headroom), while runs
    still plan to its end."""
    from dispatch.planning.capacity import HEADROOM

    area = create_area(session)
    create_engineer(session, area=area)
    context = CapacityIndex().context(session, GeoContext(), area.id, MONDAY_8)
    run = _engineer_problem(session, name="Other", center=(30.3, 120.2))
    offered = context.built.problem.engineers[0].shifts[0]
    planned = run.problem.engineers[0].shifts[0]
    assert planned.end - offered.end == HEADROOM.total_seconds()


@pytest.mark.parametrize("lengths", [(450,), (210, 210)], ids=["one-set-aside", "two-set-aside"])
def test_an_urgent_call_on_a_full_day_diverts_the_engineer(
    session: Session, lengths: tuple[int, ...]
) -> None:
    """When the day is full, an urgent request is promised within its 2 h from the engineer
    sent there next, first in the route, whether that sets one promised visit aside or two
    (the re-plan its booking queues gives them to colleagues); a general one waits for
    capacity."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    customer = create_customer(session)
    capacity, geo = CapacityIndex(), GeoContext()
    spots = ((31.21, 121.45), (31.25, 121.49))
    for i, (minutes, at) in enumerate(zip(lengths, spots[: len(lengths)], strict=True)):
        site = create_site(session, customer=customer, at=at, name=f"Plant {i}")
        _booked(session, site.id, engineer.id, minutes=minutes)
    site = create_site(session, customer=customer, at=(31.23, 121.47), name="Urgent plant")
    fields = {"site_id": site.id, "channel": "phone", "service_minutes": 30}
    calm = take_request(
        session, now=MONDAY_8, actor="test", geo=geo, capacity=capacity, tier="general", **fields
    )
    assert calm.prediction is not None and not calm.prediction.diverted
    assert calm.prediction.day != MONDAY_8.date()
    urgent = take_request(
        session,
        now=MONDAY_8,
        actor="test",
        geo=geo,
        capacity=capacity,
        settings=IntakeSettings(replan_on_urgent=False),
        tier="urgent",
        **{**fields, "site_id": site.id},
    )
    prediction = urgent.prediction
    assert prediction is not None
    assert prediction.diverted and prediction.within_sla
    assert prediction.engineer_id == engineer.id
    assert urgent.request.window_end <= MONDAY_8 + timedelta(hours=2)
    first = session.scalars(
        select(Visit).where(Visit.engineer_id == engineer.id).order_by(Visit.sequence)
    ).first()
    assert first is not None and first.request_id == urgent.request.id


def test_an_urgent_call_no_route_can_take_diverts_the_engineer(session: Session) -> None:
    """An urgent call that fits no route as it is (the day is full and the customer is there
    today only) still diverts the engineer rather than go unplaced, unbooked and unplanned."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    customer = create_customer(session)
    site = create_site(session, customer=customer, at=(31.21, 121.45), name="Plant")
    _booked(session, site.id, engineer.id, minutes=480)
    site = create_site(session, customer=customer, at=(31.23, 121.47), name="Urgent plant")
    urgent = _urgent_call(
        session,
        MONDAY_8,
        CapacityIndex(),
        site_id=site.id,
        channel="phone",
        service_minutes=30,
        availability=[{"start": MONDAY_8, "end": MONDAY_8 + timedelta(hours=3)}],
    )
    prediction = urgent.prediction
    assert prediction is not None and prediction.diverted and prediction.within_sla
    assert prediction.engineer_id == engineer.id
    visit = session.scalars(select(Visit).where(Visit.request_id == urgent.request.id)).one()
    assert visit.engineer_id == engineer.id
    assert visit.planned_arrival <= MONDAY_8 + timedelta(hours=2)


def test_an_urgent_call_diverts_a_colleague_rather_than_break_another_urgent_promise(
    session: Session,
) -> None:
    """Of two engineers who would each set one promise aside, the one nearer the urgent call
    is not diverted when that would make his own urgent visit late: the one whose general
    visit is set aside goes, and the first urgent promise stays in its window."""
    area = create_area(session)
    near = create_engineer(session, area=area, name="Near", home=(31.235, 121.475))
    other = create_engineer(session, area=area, name="Other", home=(31.16, 121.40))
    customer = create_customer(session)
    capacity = CapacityIndex()

    def booked(at: tuple[float, float], tier: str, minutes: int, engineer_id: int) -> Any:
        site = create_site(session, customer=customer, at=at, name=f"Plant at {at}")
        return _booked(session, site.id, engineer_id, tier=tier, minutes=minutes)

    first = booked((31.32, 121.56), "urgent", 60, near.id)  # far out: after it, no room
    booked((31.165, 121.405), "general", 480, other.id)  # a full day
    site = create_site(session, customer=customer, at=(31.23, 121.47), name="Urgent plant")
    urgent = _urgent_call(
        session, MONDAY_8, capacity, site_id=site.id, channel="phone", service_minutes=90
    )
    prediction = urgent.prediction
    assert prediction is not None and prediction.diverted and prediction.within_sla
    assert prediction.engineer_id == other.id
    visit = session.scalars(select(Visit).where(Visit.request_id == first.id)).one()
    assert visit.engineer_id == near.id and visit.planned_arrival <= first.window_end


def test_a_second_urgent_call_only_his_engineer_can_reach_waits_for_the_first(
    session: Session,
) -> None:
    """When the only engineer who could reach an urgent call in time would make his own urgent
    visit late, he is not diverted: the first urgent customer keeps the promise made, and the
    second is told honestly that the engineer comes after it."""
    area = create_area(session)
    near = create_engineer(session, area=area, name="Near", home=(31.235, 121.475))
    customer = create_customer(session)
    far = create_site(session, customer=customer, at=(31.32, 121.56), name="Far plant")
    first = _booked(session, far.id, near.id, tier="urgent", minutes=60)
    site = create_site(session, customer=customer, at=(31.23, 121.47), name="Urgent plant")
    urgent = _urgent_call(
        session, MONDAY_8, CapacityIndex(), site_id=site.id, channel="phone", service_minutes=90
    )
    prediction = urgent.prediction
    assert prediction is not None and prediction.engineer_id == near.id
    assert not prediction.within_sla and prediction.reason == "late"
    visits = session.scalars(
        select(Visit).where(Visit.engineer_id == near.id).order_by(Visit.sequence)
    ).all()
    assert [v.request_id for v in visits] == [first.id, urgent.request.id]
    assert visits[0].planned_arrival <= first.window_end
    window = (urgent.request.window_start, urgent.request.window_end)
    assert window[0] <= visits[1].planned_arrival <= window[1]
    assert window[1] > MONDAY_8 + timedelta(hours=2)  # past the SLA, and said so


def test_an_urgent_call_that_would_wait_hours_for_another_diverts_the_engineer_all_the_same(
    session: Session,
) -> None:
    """When the only engineer who could reach an urgent call in time holds an urgent visit
    that lasts hours, the call does not wait for it: he goes there first, as a dispatcher
    would send him for a stopped line (the long visit's lunch break waits for it, so the route
    takes the call in front of it without a diversion), and the re-plan sorts out the other."""
    area = create_area(session)
    near = create_engineer(session, area=area, name="Near", home=(31.235, 121.475))
    customer = create_customer(session)
    far = create_site(session, customer=customer, at=(31.32, 121.56), name="Far plant")
    _booked(session, far.id, near.id, tier="urgent", minutes=300)
    site = create_site(session, customer=customer, at=(31.23, 121.47), name="Urgent plant")
    urgent = _urgent_call(
        session, MONDAY_8, CapacityIndex(), site_id=site.id, channel="phone", service_minutes=90
    )
    prediction = urgent.prediction
    assert prediction is not None and prediction.within_sla
    assert prediction.engineer_id == near.id and prediction.position == 0


def _run_and_reload(
    session: Session,
    session_factory: sessionmaker[Session],
    geo: GeoContext,
    area_id: int,
    now: datetime,
    horizon_start: Any,
    request_id: int,
) -> Visit:
    """Run a two-day plan of the area at ``now`` and return the request's visit afresh."""
    from dispatch.clock import FixedClock
    from dispatch.planning.runs import create_run, execute_run
    from dispatch.planning.solver import InlineSolver

    run_id = create_run(
        session,
        area_ids=[area_id],
        horizon_start=horizon_start,
        days=2,
        time_limit_s=1,
        actor="test",
        now=now,
    ).id
    session.commit()
    execute_run(session_factory, geo, InlineSolver(), run_id, clock=FixedClock(now))
    session.expire_all()
    return session.scalars(select(Visit).where(Visit.request_id == request_id)).one()


def _urgent_call(session: Session, now: datetime, capacity: CapacityIndex, **fields: Any) -> Any:
    """An urgent call taken at ``now``, without the background re-plan."""
    return take_request(
        session,
        now=now,
        actor="test",
        geo=GeoContext(),
        capacity=capacity,
        settings=IntakeSettings(replan_on_urgent=False),
        tier="urgent",
        **fields,
    )


def test_an_urgent_call_late_in_the_shift_is_served_today_in_overtime(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """An urgent call the engineer can reach before the end of the shift is promised today
    even though the work runs past it, and the re-plan keeps it today, within the policy's
    urgent overtime; a general call at the same time waits for the next day."""
    area = create_area(session)
    engineer = create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    capacity, geo = CapacityIndex(), GeoContext()
    late = MONDAY_8 + timedelta(hours=8, minutes=15)  # 16:15 local, the shift ends at 17:00
    fields = {"site_id": site.id, "channel": "phone", "service_minutes": 90}
    calm = take_request(
        session, now=late, actor="test", geo=geo, capacity=capacity, tier="general", **fields
    )
    assert calm.prediction is not None and calm.prediction.day != late.date()
    urgent = _urgent_call(session, late, capacity, **fields)
    assert urgent.prediction is not None and urgent.prediction.within_sla
    assert urgent.request.window_end <= late + timedelta(hours=2)
    session.commit()
    visit = _run_and_reload(
        session, session_factory, geo, area.id, late, late.date(), urgent.request.id
    )
    assert (visit.engineer_id, visit.date) == (engineer.id, late.date())
    assert visit.planned_arrival <= late + timedelta(hours=2)
    shift_end = MONDAY_8 + timedelta(hours=9)
    assert shift_end < visit.planned_end <= shift_end + timedelta(minutes=120)


def test_an_urgent_call_after_the_last_arrival_on_shift_waits_for_the_morning(
    session: Session,
) -> None:
    """Overtime is for finishing urgent work, not for starting it: an urgent call whose
    engineer could only arrive after the shift has ended is not promised today."""
    area = create_area(session)
    create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    # 16:58 local, the site some 6 minutes away, the shift to 17:00 (an urgent call has no
    # lead: at 16:50 the engineer would still be there on shift, and is sent).
    late = MONDAY_8 + timedelta(hours=8, minutes=58)
    urgent = _urgent_call(
        session, late, CapacityIndex(), site_id=site.id, channel="phone", service_minutes=30
    )
    assert urgent.prediction is not None and not urgent.prediction.within_sla
    assert urgent.prediction.day != late.date()


def _timed_routes(index: CapacityIndex, area_id: int) -> dict[tuple[str, int], list[Any]]:
    context = index._contexts[area_id]
    return {
        (r.engineer_id, r.day): [(v.job_id, v.arrival, v.start) for v in r.visits]
        for r in context.routes
    }


def test_a_booking_at_intake_updates_the_capacity_it_was_quoted_from(session: Session) -> None:
    """Each request booked at intake is added to the area's capacity after commit instead of
    a rebuild: the context then matches the plan's new version and times its routes exactly
    as a context built afresh from the database does."""
    area = create_area(session)
    for i, home in enumerate(((31.20, 121.45), (31.26, 121.50))):
        create_engineer(session, area=area, name=f"Engineer {i}", home=home)
    customer = create_customer(session)
    capacity, geo = CapacityIndex(), GeoContext()
    early = MONDAY_8 - timedelta(hours=1)
    points = [(31.21, 121.46), (31.25, 121.49), (31.22, 121.51), (31.27, 121.44), (31.24, 121.47)]
    for i, at in enumerate(points):
        site = create_site(session, customer=customer, at=at, name=f"Site {i}")
        taken = take_request(
            session,
            now=early,
            actor="test",
            geo=geo,
            capacity=capacity,
            site_id=site.id,
            channel="phone",
            tier="general",
            service_minutes=45,
            availability=[{"start": MONDAY_8, "end": MONDAY_8 + timedelta(hours=8)}],
        )
        assert taken.inserted and taken.prediction is not None
        session.commit()
        version = capacity._contexts[area.id].key[0]
        assert version == plan_versions(session, [area.id])[area.id]
        fresh = CapacityIndex()
        fresh.context(session, geo, area.id, early)
        assert _timed_routes(capacity, area.id) == _timed_routes(fresh, area.id)
    booked = sum(len(r) for r in _timed_routes(capacity, area.id).values())
    assert booked == len(points)


def test_intake_bookings_are_reservations_until_a_run_publishes_them(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """What intake booked binds the next run only by its window (no stability cost: nobody
    has been shown it); once a run publishes it, later runs keep it stable."""
    area = create_area(session)
    create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.49))
    capacity, geo = CapacityIndex(), GeoContext()
    early = MONDAY_8 - timedelta(hours=1)
    taken = take_request(
        session,
        now=early,
        actor="test",
        geo=geo,
        capacity=capacity,
        site_id=site.id,
        channel="phone",
        tier="general",
        service_minutes=45,
    )
    assert taken.inserted
    session.commit()

    def promised() -> bool:
        snapshot = read_snapshot(
            session, area_ids=[area.id], horizon_start=MONDAY_8.date(), days=2, now=early
        )
        job = build_problem(snapshot, geo).problem.job(job_key(taken.request.id))
        assert job is not None and job.previous is not None
        return job.promised

    visit = session.scalars(select(Visit).where(Visit.request_id == taken.request.id)).one()
    assert visit.reserved and not promised()
    visit = _run_and_reload(
        session, session_factory, geo, area.id, early, MONDAY_8.date(), taken.request.id
    )
    assert not visit.reserved and promised()


def test_an_urgent_call_is_planned_with_room_before_its_due_when_an_engineer_can_give_it(
    session: Session,
) -> None:
    """An urgent call on a day whose booked work holds the only engineer past the call's
    due is planned at least 15 minutes before the due, first in the route."""
    from dispatch.planning.capacity import URGENT_ROOM_S

    area = create_area(session)
    engineer = create_engineer(session, area=area, home=(31.23, 121.47))
    customer = create_customer(session)
    capacity, geo = CapacityIndex(), GeoContext()
    near = create_site(session, customer=customer, at=(31.235, 121.475), name="Booked plant")
    booked = take_request(
        session,
        now=MONDAY_8,
        actor="test",
        site_id=near.id,
        channel="phone",
        tier="general",
        service_minutes=95,
        availability=[{"start": MONDAY_8, "end": MONDAY_8 + timedelta(hours=9)}],
    ).request
    _book(session, booked.id, engineer.id)
    site = create_site(session, customer=customer, at=(31.24, 121.48), name="Urgent plant")
    urgent = take_request(
        session,
        now=MONDAY_8,
        actor="test",
        geo=geo,
        capacity=capacity,
        settings=IntakeSettings(replan_on_urgent=False),
        site_id=site.id,
        channel="phone",
        tier="urgent",
        service_minutes=30,
    )
    prediction, request = urgent.prediction, urgent.request
    assert prediction is not None and prediction.within_sla
    assert request.arrival_due is not None
    assert prediction.eta <= request.arrival_due - timedelta(seconds=URGENT_ROOM_S)
    first = session.scalars(
        select(Visit).where(Visit.engineer_id == engineer.id).order_by(Visit.sequence)
    ).first()
    assert first is not None and first.request_id == request.id


def test_an_urgent_call_is_not_held_behind_the_engineers_break(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """An engineer whose break would have to come first (its window closes before the urgent
    work could end) is sent at once and the break waits: the urgent customer is promised the
    2 h from the engineer diverted from a full day, and the re-plan keeps the visit there."""
    area = create_area(session, half=0.6)
    engineer = create_engineer(session, area=area, home=(31.23, 121.47))
    customer = create_customer(session)
    plant = create_site(session, customer=customer, at=(31.22, 121.46), name="Plant")
    _booked(session, plant.id, engineer.id, minutes=480)  # the whole day
    far = create_site(session, customer=customer, at=(31.62, 121.47), name="Urgent plant")
    now = MONDAY_8 + timedelta(hours=3, minutes=40)  # 11:40 local; the break 12:00-13:00
    urgent = _urgent_call(
        session, now, CapacityIndex(), site_id=far.id, channel="phone", service_minutes=90
    )
    prediction = urgent.prediction
    assert prediction is not None and prediction.within_sla, prediction
    assert prediction.engineer_id == engineer.id
    assert prediction.eta is not None and prediction.eta <= now + timedelta(hours=2)
    session.commit()
    visit = _run_and_reload(
        session, session_factory, GeoContext(), area.id, now, now.date(), urgent.request.id
    )
    assert (visit.engineer_id, visit.date) == (engineer.id, now.date())
    assert visit.planned_arrival <= now + timedelta(hours=2)


def test_an_urgent_diversion_with_ample_room_beats_one_without_overtime() -> None:
    """Of two engineers who could reach an urgent call without setting anything aside, the one
    arriving with ample room before the due is sent even if the work takes him into overtime;
    between two with ample room (or two without), the one needing no overtime still goes."""
    due = 10 * 3600
    job = Job(id="new", location=0, service_s=3600, promise_due=due, priority=Priority.URGENT)
    early = _option("early", due - URGENT_AMPLE_S - 600, 50)  # 55 min ahead, shift ends first
    fine = _option("fine", due - URGENT_ROOM_S - 300, 10)  # 20 min ahead, no overtime

    def chosen(*options: InsertionOption) -> str:
        diversions = object.__new__(_Diversions)
        diversions.job, diversions.options, diversions.routes = job, list(options), ()
        diversions.shift_end = {("early", 0): due - 3000, ("fine", 0): due + 4 * 3600}
        diversions._aside = {o: (0, 0) for o in options}
        found = diversions.best(due - URGENT_ROOM_S)
        assert found is not None
        return found[0].engineer_id

    assert chosen(early, fine) == "early"
    roomy = _option("fine", due - URGENT_AMPLE_S - 60, 10)  # no overtime, ample room too
    assert chosen(early, roomy) == "fine"
