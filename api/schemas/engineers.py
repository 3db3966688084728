"""Engineers, skills and shifts over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import (
    Day,
    Id,
    InputModel,
    Name,
    OutputModel,
    Point,
    PointRead,
    UpdateModel,
    Version,
)

SkillCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:30"])]


class SkillCreate(InputModel):
    code: SkillCode
    name: Name


class SkillRead(OutputModel):
    id: int
    code: str
    name: str


class SkillLevel(InputModel):
    skill: SkillCode
    level: Annotated[int, Field(ge=1, le=5, description="1 = trainee ... 5 = expert")]


class DayHours(InputModel):
    start: HHMM
    end: HHMM
    break_start: HHMM | None = None
    break_end: HHMM | None = None
    break_minutes: Annotated[int, Field(gt=0, le=240)] | None = None


class WeeklyTemplate(InputModel):
    mon: DayHours | None = None
    tue: DayHours | None = None
    wed: DayHours | None = None
    thu: DayHours | None = None
    fri: DayHours | None = None
    sat: DayHours | None = None
    sun: DayHours | None = None


class EngineerBase(InputModel):
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True
    max_work_minutes: Annotated[int, Field(gt=0, le=24 * 60)] = 540
    max_visits: Annotated[int, Field(gt=0, le=100)] = 8
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class EngineerCreate(EngineerBase):
    name: Name
    home: Point
    service_area_id: Id
    skills: Annotated[list[SkillLevel], Field(max_length=100)] = []
    weekly_template: WeeklyTemplate = WeeklyTemplate()


class EngineerUpdate(UpdateModel):
    nullable = frozenset({"version", "phone", "email", "capacity"})

    name: Name | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    max_work_minutes: Annotated[int, Field(gt=0, le=24 * 60)] | None = None
    max_visits: Annotated[int, Field(gt=0, le=100)] | None = None
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    home: Point | None = None
    service_area_id: Id | None = None
    skills: Annotated[list[SkillLevel], Field(max_length=100)] | None = None
    weekly_template: WeeklyTemplate | None = None
    version: Version | None = Field(default=None, description="the version you read; 409 if stale")


class EngineerSkillRead(OutputModel):
    skill: str
    level: int


class EngineerRead(OutputModel):
    id: int
    name: str
    phone: str | None
    email: str | None
    home: PointRead
    service_area_id: int
    active: bool
    max_work_minutes: int
    max_visits: int
    capacity: int | None
    skills: list[EngineerSkillRead]
    weekly_template: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, engineer: Any) -> EngineerRead:
        return cls(
            id=engineer.id,
            name=engineer.name,
            phone=engineer.phone,
            email=engineer.email,
            home=PointRead(lat=engineer.home_lat, lon=engineer.home_lon),
            service_area_id=engineer.service_area_id,
            active=engineer.active,
            max_work_minutes=engineer.max_work_minutes,
            max_visits=engineer.max_visits,
            capacity=engineer.capacity,
            skills=[
                EngineerSkillRead(skill=s.skill.code, level=s.level)
                for s in sorted(engineer.skills, key=lambda s: s.skill.code)
            ],
            weekly_template=engineer.weekly_template,
            version=engineer.version,
            created_at=engineer.created_at,
            updated_at=engineer.updated_at,
        )


class ShiftExceptionCreate(InputModel):
    date: Day
    kind: Annotated[str, Field(pattern="^(leave|overtime|changed)$")]
    hours: DayHours | None = None
    note: str | None = Field(default=None, max_length=200)


class ShiftExceptionRead(OutputModel):
    date: dt.date
    kind: str
    start_time: dt.time | None
    end_time: dt.time | None
    break_start: dt.time | None
    break_end: dt.time | None
    break_minutes: int | None
    note: str | None
    moved_request_ids: list[int] = Field(
        default=[], description="requests taken off the engineer's route that day (re-planned)"
    )
    replan_run_id: int | None = Field(
        default=None, description="the run re-planning them (GET /v1/dispatch/runs/{id})"
    )


class ShiftRead(OutputModel):
    engineer_id: int
    date: dt.date
    start_at: dt.datetime
    end_at: dt.datetime
    break_start_at: dt.datetime | None
    break_end_at: dt.datetime | None
    break_minutes: int | None
    source: str
