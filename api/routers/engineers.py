"""Engineers, their skills and shifts; the skill catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.deps import (
    ClockDep,
    DispatcherUser,
    GeoDep,
    IntakeDep,
    PagingDep,
    RunnerDep,
    SessionDep,
    StaffOrEngineer,
    StaffOrOwnEngineer,
)
from api.schemas.common import Day, Id, Page, QueryText
from api.schemas.engineers import (
    EngineerCreate,
    EngineerRead,
    EngineerUpdate,
    ShiftExceptionCreate,
    ShiftExceptionRead,
    ShiftRead,
    SkillCreate,
    SkillRead,
)
from dispatch.engineers import service
from dispatch.models.enums import Role
from dispatch.planning import absence

router = APIRouter(prefix="/v1", tags=["engineers"])


@router.get("/skills", response_model=list[SkillRead])
def list_skills(session: SessionDep, user: StaffOrEngineer) -> list[SkillRead]:
    """The skill catalogue."""
    return [SkillRead.model_validate(s) for s in service.list_skills(session)]


@router.post("/skills", response_model=SkillRead, status_code=status.HTTP_201_CREATED)
def create_skill(body: SkillCreate, session: SessionDep, user: DispatcherUser) -> SkillRead:
    """Add a skill to the catalogue."""
    return SkillRead.model_validate(service.create_skill(session, code=body.code, name=body.name))


@router.get("/engineers", response_model=Page[EngineerRead])
def list_engineers(
    session: SessionDep,
    user: StaffOrEngineer,
    paging: PagingDep,
    service_area_id: Id | None = None,
    active: bool | None = None,
    skill: Annotated[QueryText | None, Query(description="holds this skill")] = None,
    min_level: Annotated[int | None, Query(ge=1, le=5)] = None,
    name: Annotated[QueryText | None, Query(description="name contains")] = None,
) -> dict[str, Any]:
    """Engineers, filtered; an engineer key sees only itself."""
    only = user.engineer_id if user.role is Role.ENGINEER else None
    page = service.list_engineers(
        session,
        limit=paging.limit,
        offset=paging.offset,
        only_engineer_id=only,
        service_area_id=service_area_id,
        active=active,
        skill=skill,
        min_level=min_level,
        name=name,
    )
    return Page.of(page, EngineerRead.of)


@router.post("/engineers", response_model=EngineerRead, status_code=status.HTTP_201_CREATED)
def create_engineer(
    body: EngineerCreate, session: SessionDep, user: DispatcherUser
) -> EngineerRead:
    """Add an engineer."""
    data = body.model_dump(exclude={"home", "skills", "weekly_template"})
    engineer = service.create_engineer(
        session,
        home_lat=body.home.lat,
        home_lon=body.home.lon,
        skills=[s.model_dump() for s in body.skills],
        weekly_template=body.weekly_template.model_dump(exclude_none=True),
        **data,
    )
    return EngineerRead.of(engineer)


@router.get("/engineers/{engineer_id}", response_model=EngineerRead)
def get_engineer(engineer_id: Id, session: SessionDep, user: StaffOrOwnEngineer) -> EngineerRead:
    """One engineer."""
    return EngineerRead.of(service.get_engineer_or_raise(session, engineer_id))


@router.patch("/engineers/{engineer_id}", response_model=EngineerRead)
def update_engineer(
    engineer_id: Id,
    body: EngineerUpdate,
    session: SessionDep,
    geo: GeoDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: DispatcherUser,
) -> EngineerRead:
    """Change an engineer (send ``version`` to guard against concurrent edits). Deactivating
    them, or changing their weekly hours, moves the visits their days no longer hold back to
    the plan and re-plans the area for those days."""
    changes = body.model_dump(exclude_unset=True, exclude={"version", "home"})
    if body.home is not None:
        changes |= {"home_lat": body.home.lat, "home_lon": body.home.lon}
    if body.weekly_template is not None:
        changes["weekly_template"] = body.weekly_template.model_dump(exclude_none=True)
    engineer = service.update_engineer(
        session, engineer_id, changes=changes, expected_version=body.version
    )
    if changes.get("active") is False or "weekly_template" in changes:
        now = clock.now()
        absence.move_work(
            session,
            geo,
            runner,
            engineer_id=engineer_id,
            days=absence.days_with_work(session, engineer_id, now),
            reason="engineer deactivated" if changes.get("active") is False else "hours changed",
            actor=user.actor,
            now=now,
            time_limit_s=settings.replan_time_limit_s,
        )
    return EngineerRead.of(engineer)


@router.delete("/engineers/{engineer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_engineer(engineer_id: Id, session: SessionDep, user: DispatcherUser) -> Response:
    """Remove an engineer without visits (otherwise deactivate them)."""
    service.delete_engineer(session, engineer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/engineers/{engineer_id}/shift-exceptions", response_model=list[ShiftExceptionRead])
def list_shift_exceptions(
    engineer_id: Id, session: SessionDep, user: StaffOrOwnEngineer
) -> list[ShiftExceptionRead]:
    """Leave and overtime recorded for an engineer."""
    engineer = service.get_engineer_or_raise(session, engineer_id)
    return [ShiftExceptionRead.model_validate(e) for e in engineer.exceptions]


@router.put("/engineers/{engineer_id}/shift-exceptions", response_model=ShiftExceptionRead)
def set_shift_exception(
    engineer_id: Id,
    body: ShiftExceptionCreate,
    session: SessionDep,
    geo: GeoDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: DispatcherUser,
) -> ShiftExceptionRead:
    """Record leave or other hours on a date (replaces that date's exception). Visits that
    day's new hours no longer hold go back to the plan, and the area is re-planned for it."""
    exc = service.set_shift_exception(
        session,
        engineer_id,
        day=body.date,
        kind=body.kind,
        hours=body.hours.model_dump(exclude_none=True) if body.hours else None,
        note=body.note,
    )
    read = ShiftExceptionRead.model_validate(exc)
    moved, run_id = absence.move_work(
        session,
        geo,
        runner,
        engineer_id=engineer_id,
        days=[body.date],
        reason=f"{body.kind}" + (f": {body.note}" if body.note else ""),
        actor=user.actor,
        now=clock.now(),
        time_limit_s=settings.replan_time_limit_s,
    )
    read.moved_request_ids, read.replan_run_id = moved, run_id
    return read


@router.delete(
    "/engineers/{engineer_id}/shift-exceptions/{day}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_shift_exception(
    engineer_id: Id, day: Day, session: SessionDep, user: DispatcherUser
) -> Response:
    """Drop a date's exception; the weekly template applies again."""
    service.delete_shift_exception(session, engineer_id, day=day)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/engineers/{engineer_id}/shifts", response_model=list[ShiftRead])
def list_shifts(
    engineer_id: Id,
    session: SessionDep,
    user: StaffOrOwnEngineer,
    start: Annotated[Day, Query(alias="from")],
    days: Annotated[int, Query(ge=1, le=92)] = 7,
) -> list[ShiftRead]:
    """The engineer's shifts for ``days`` days from ``from``, from template and exceptions."""
    return [
        ShiftRead.model_validate(s) for s in service.shifts_for(session, engineer_id, start, days)
    ]
