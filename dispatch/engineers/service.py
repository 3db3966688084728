"""Engineers: who they are, what they can do, when they work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dispatch.common.paging import Page, paginate
from dispatch.engineers import repository
from dispatch.engineers.shifts import (
    DayHours,
    ShiftSpec,
    days,
    shift_on,
    validate_day,
    validate_template,
)
from dispatch.errors import Conflict, InvalidInput, NotFound, check_version
from dispatch.geo_support import check_point, geo_area
from dispatch.models import Engineer, EngineerSkill, ServiceArea, Shift, ShiftException, Skill
from dispatch.models.base import utcnow
from dispatch.models.enums import ShiftExceptionKind
from geo.areas import AreaIndex

MAX_SHIFT_RANGE_DAYS = 92


# --- skills catalogue -------------------------------------------------------------------------


def create_skill(session: Session, *, code: str, name: str) -> Skill:
    """Add a skill to the catalogue."""
    if repository.skills_by_code(session, [code]):
        raise Conflict(f"skill {code!r} already exists", field="code")
    skill = Skill(code=code, name=name)
    session.add(skill)
    session.flush()
    return skill


def list_skills(session: Session) -> Sequence[Skill]:
    """The skill catalogue, by code."""
    from sqlalchemy import select

    return session.scalars(select(Skill).order_by(Skill.code)).all()


def resolve_skills(
    session: Session,
    skills: Sequence[Mapping[str, Any]],
    *,
    field: str = "skills",
    level_key: str = "level",
) -> list[tuple[Skill, int]]:
    """Skill codes with levels -> catalogue skills; unknown or repeated skills name the item."""
    codes = [str(s["skill"]) for s in skills]
    known = repository.skills_by_code(session, codes)
    seen: set[str] = set()
    resolved = []
    for i, item in enumerate(skills):
        code = str(item["skill"])
        if code not in known:
            raise InvalidInput((field, i, "skill"), f"unknown skill {code!r}")
        if code in seen:
            raise InvalidInput((field, i, "skill"), f"skill {code!r} is listed twice")
        seen.add(code)
        level = item[level_key]
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise InvalidInput((field, i, level_key), "skill level must be from 1 to 5")
        resolved.append((known[code], level))
    return resolved


# --- engineers --------------------------------------------------------------------------------


def get_engineer(session: Session, engineer_id: int) -> Engineer | None:
    """The engineer, or None."""
    return session.get(Engineer, engineer_id)


def get_engineer_or_raise(session: Session, engineer_id: int) -> Engineer:
    """The engineer, or NotFound."""
    engineer = session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound("engineer", engineer_id)
    return engineer


def _area_or_raise(session: Session, area_id: int, field: str = "service_area_id") -> ServiceArea:
    area = session.get(ServiceArea, area_id)
    if area is None:
        raise InvalidInput(field, f"service area {area_id} does not exist")
    return area


def list_engineers(
    session: Session,
    *,
    limit: int,
    offset: int,
    only_engineer_id: int | None = None,
    **filters: Any,
) -> Page[Engineer]:
    """Engineers matching the filters, by id."""
    stmt = repository.engineers_query(engineer_id=only_engineer_id, **filters)
    return paginate(session, stmt, limit=limit, offset=offset)


def create_engineer(
    session: Session,
    *,
    name: str,
    home_lat: float,
    home_lon: float,
    service_area_id: int,
    skills: Sequence[Mapping[str, Any]] = (),
    weekly_template: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Engineer:
    """Add an engineer with skills and a weekly shift template."""
    area = _area_or_raise(session, service_area_id)
    check_point(home_lat, home_lon, field="home", index=AreaIndex([geo_area(area)]))
    resolved = resolve_skills(session, skills)
    template = validate_template(weekly_template or {})
    engineer = Engineer(
        name=name,
        home_lat=home_lat,
        home_lon=home_lon,
        service_area_id=service_area_id,
        weekly_template=template,
        **fields,
    )
    engineer.skills = [EngineerSkill(skill=s, level=level) for s, level in resolved]
    session.add(engineer)
    session.flush()
    return engineer


def update_engineer(
    session: Session, engineer_id: int, *, changes: Mapping[str, Any], expected_version: int | None
) -> Engineer:
    """Change an engineer; a changed template re-generates their future shifts."""
    engineer = get_engineer_or_raise(session, engineer_id)
    check_version(engineer, expected_version, "engineer")
    changes = dict(changes)
    if "service_area_id" in changes:
        _area_or_raise(session, changes["service_area_id"])
    if "home_lat" in changes or "home_lon" in changes:
        area = _area_or_raise(session, changes.get("service_area_id", engineer.service_area_id))
        check_point(
            changes.get("home_lat", engineer.home_lat),
            changes.get("home_lon", engineer.home_lon),
            field="home",
            index=AreaIndex([geo_area(area)]),
        )
    if "skills" in changes:
        resolved = resolve_skills(session, changes.pop("skills") or [])
        current = {s.skill_id: s for s in engineer.skills}
        wanted = {skill.id: level for skill, level in resolved}
        engineer.skills = [s for s in engineer.skills if s.skill_id in wanted]
        for skill, level in resolved:
            if skill.id in current:
                current[skill.id].level = level
            else:
                engineer.skills.append(EngineerSkill(skill=skill, level=level))
    if "weekly_template" in changes:
        changes["weekly_template"] = validate_template(changes["weekly_template"] or {})
    for key, value in changes.items():
        setattr(engineer, key, value)
    # Skills live in their own rows; touching the engineer makes every change to the aggregate
    # bump its version, so concurrent editors notice each other.
    engineer.updated_at = utcnow()
    session.flush()
    return engineer


def delete_engineer(session: Session, engineer_id: int) -> None:
    """Remove an engineer who has no visits; otherwise deactivate them instead."""
    from sqlalchemy import exists, select

    from dispatch.models import Visit

    engineer = get_engineer_or_raise(session, engineer_id)
    if session.scalar(select(exists().where(Visit.engineer_id == engineer_id))):
        raise Conflict(f"engineer {engineer_id} has visits; set active=false instead of deleting")
    session.delete(engineer)
    session.flush()


# --- shift exceptions and shifts --------------------------------------------------------------


def set_shift_exception(
    session: Session,
    engineer_id: int,
    *,
    day: date,
    kind: str,
    hours: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> ShiftException:
    """Record leave or other hours on one date (replacing an earlier exception that date)."""
    engineer = get_engineer_or_raise(session, engineer_id)
    try:
        kind_enum = ShiftExceptionKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ShiftExceptionKind)
        raise InvalidInput("kind", f"unknown kind {kind!r}; use one of {allowed}") from None
    parsed: DayHours | None = None
    if kind_enum is not ShiftExceptionKind.LEAVE:
        if not hours:
            raise InvalidInput("start", f"{kind} needs start and end")
        parsed = validate_day(hours, "hours")
    elif hours:
        raise InvalidInput("start", "leave takes no hours")
    existing = next((e for e in engineer.exceptions if e.date == day), None)
    if existing is None:
        existing = ShiftException(date=day)
        engineer.exceptions.append(existing)
    existing.kind = kind_enum.value
    existing.note = note
    existing.start_time = parsed.start if parsed else None
    existing.end_time = parsed.end if parsed else None
    existing.break_start = parsed.break_start if parsed else None
    existing.break_end = parsed.break_end if parsed else None
    existing.break_minutes = parsed.break_minutes if parsed else None
    session.flush()
    return existing


def delete_shift_exception(session: Session, engineer_id: int, *, day: date) -> None:
    """Remove the exception on ``day``: the template applies again."""
    engineer = get_engineer_or_raise(session, engineer_id)
    existing = next((e for e in engineer.exceptions if e.date == day), None)
    if existing is None:
        raise NotFound("shift exception", day.isoformat())
    engineer.exceptions.remove(existing)
    session.flush()


def planned_shifts(
    session: Session, engineers: Sequence[Engineer], start: date, end: date
) -> dict[int, list[tuple[ShiftSpec, tuple[datetime | None, datetime | None]]]]:
    """Each engineer's shifts from ``start`` to ``end`` computed from template and exceptions,
    with any break a published plan scheduled; reads only, so it is safe on any request path."""
    stored = {
        (s.engineer_id, s.date): (s.planned_break_start, s.planned_break_end)
        for s in repository.shifts_between(session, [e.id for e in engineers], start, end)
    }
    out: dict[int, list[tuple[ShiftSpec, tuple[datetime | None, datetime | None]]]] = {}
    areas: dict[int, ServiceArea] = {}
    for engineer in engineers:
        area = areas.get(engineer.service_area_id) or session.get(
            ServiceArea, engineer.service_area_id
        )
        assert area is not None
        areas[area.id] = area
        by_date = {e.date: _exception_hours(e) for e in engineer.exceptions}
        for day in days(start, end):
            spec = shift_on(
                day,
                template=engineer.weekly_template,
                exception=by_date.get(day),
                timezone=area.timezone,
            )
            if spec is not None:
                planned = stored.get((engineer.id, day), (None, None))
                out.setdefault(engineer.id, []).append((spec, planned))
    return out


def _exception_hours(exc: ShiftException) -> DayHours | bool:
    if exc.kind == ShiftExceptionKind.LEAVE.value:
        return False
    assert exc.start_time is not None and exc.end_time is not None
    return DayHours(exc.start_time, exc.end_time, exc.break_start, exc.break_end, exc.break_minutes)


def generate_shifts(
    session: Session, engineer_ids: Sequence[int], start: date, end: date
) -> list[Shift]:
    """Materialise the engineers' shifts from ``start`` to ``end`` (inclusive).

    Stored rows are brought in line with the current template and exceptions (updated in place,
    added or removed), so they always follow them; a break the plan scheduled is kept while it
    still fits the day's break window. The result is what planning reads.
    """
    if end < start:
        raise InvalidInput("to", "the range must end on or after its start")
    if (end - start).days >= MAX_SHIFT_RANGE_DAYS:
        raise InvalidInput("to", f"at most {MAX_SHIFT_RANGE_DAYS} days at a time")
    result: list[Shift] = []
    stored = {
        (s.engineer_id, s.date): s
        for s in repository.shifts_between(session, engineer_ids, start, end)
    }
    for engineer_id in engineer_ids:
        engineer = get_engineer_or_raise(session, engineer_id)
        area = session.get(ServiceArea, engineer.service_area_id)
        assert area is not None
        by_date = {e.date: _exception_hours(e) for e in engineer.exceptions}
        for day in days(start, end):
            spec = shift_on(
                day,
                template=engineer.weekly_template,
                exception=by_date.get(day),
                timezone=area.timezone,
            )
            shift = stored.get((engineer_id, day))
            if spec is None:
                if shift is not None:
                    session.delete(shift)
                continue
            if shift is None:
                shift = _insert_shift(session, engineer_id, spec)
            shift.start_at = spec.start_at
            shift.end_at = spec.end_at
            shift.break_start_at = spec.break_start_at
            shift.break_end_at = spec.break_end_at
            shift.break_minutes = spec.break_minutes
            shift.source = spec.source
            if shift.planned_break_start is not None and not (
                spec.break_start_at is not None
                and spec.break_end_at is not None
                and shift.planned_break_end is not None
                and spec.break_start_at <= shift.planned_break_start
                and shift.planned_break_end <= spec.break_end_at
            ):
                shift.planned_break_start = shift.planned_break_end = None
            result.append(shift)
    session.flush()
    return result


def _insert_shift(session: Session, engineer_id: int, spec: ShiftSpec) -> Shift:
    """Insert the day's shift, or take the row a concurrent writer inserted first."""
    from sqlalchemy import select
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {
        "engineer_id": engineer_id,
        "date": spec.date,
        "start_at": spec.start_at,
        "end_at": spec.end_at,
        "break_start_at": spec.break_start_at,
        "break_end_at": spec.break_end_at,
        "break_minutes": spec.break_minutes,
        "source": spec.source,
    }
    session.execute(
        insert(Shift)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["engineer_id", "date"])
    )
    shift = session.scalar(
        select(Shift).where(Shift.engineer_id == engineer_id, Shift.date == spec.date)
    )
    assert shift is not None
    return shift


def shifts_for(session: Session, engineer_id: int, start: date, days_: int = 7) -> list[Shift]:
    """One engineer's shifts over ``days_`` days from ``start``."""
    return generate_shifts(session, [engineer_id], start, start + timedelta(days=days_ - 1))
