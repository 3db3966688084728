"""SQL for engineers, skills and shifts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dispatch.models import Engineer, EngineerSkill, Shift, Skill


def skills_by_code(session: Session, codes: Iterable[str]) -> dict[str, Skill]:
    codes = set(codes)
    if not codes:
        return {}
    return {s.code: s for s in session.scalars(select(Skill).where(Skill.code.in_(codes)))}


def engineers_query(
    *,
    service_area_id: int | None = None,
    active: bool | None = None,
    skill: str | None = None,
    min_level: int | None = None,
    name: str | None = None,
    engineer_id: int | None = None,
) -> Select[Any]:
    stmt = select(Engineer).order_by(Engineer.id)
    if engineer_id is not None:
        stmt = stmt.where(Engineer.id == engineer_id)
    if service_area_id is not None:
        stmt = stmt.where(Engineer.service_area_id == service_area_id)
    if active is not None:
        stmt = stmt.where(Engineer.active == active)
    if name:
        stmt = stmt.where(Engineer.name.ilike(f"%{name}%"))
    if skill:
        held = (
            select(EngineerSkill.engineer_id)
            .join(Skill)
            .where(Skill.code == skill, EngineerSkill.level >= (min_level or 1))
        )
        stmt = stmt.where(Engineer.id.in_(held))
    return stmt


def shifts_between(
    session: Session, engineer_ids: Sequence[int], start: date, end: date
) -> list[Shift]:
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.engineer_id.in_(engineer_ids), Shift.date >= start, Shift.date <= end)
            .order_by(Shift.engineer_id, Shift.date)
        )
    )
