"""Engineers, their skills and their shifts."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, TimestampMixin, enum_check
from dispatch.models.enums import ShiftExceptionKind, ShiftSource


class Skill(Base):
    """A skill in the catalogue (e.g. ``hvac``); engineers hold it at a level, requests need it."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Engineer(TimestampMixin, Base):
    """A field engineer with a home base, skills and a weekly shift template."""

    __tablename__ = "engineers"
    __table_args__ = (
        CheckConstraint("home_lat BETWEEN -90 AND 90", name="home_lat_range"),
        CheckConstraint("home_lon BETWEEN -180 AND 180", name="home_lon_range"),
        CheckConstraint("max_work_minutes > 0", name="max_work_positive"),
        CheckConstraint("max_visits > 0", name="max_visits_positive"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    service_area_id: Mapped[int] = mapped_column(
        ForeignKey("service_areas.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_work_minutes: Mapped[int] = mapped_column(Integer, default=540)
    max_visits: Mapped[int] = mapped_column(Integer, default=8)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # {"mon": {"start": "08:30", "end": "17:30", "break_start": "11:30", "break_end": "13:30",
    #          "break_minutes": 30}, ...} in the service area's local time; absent day = off.
    weekly_template: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    skills: Mapped[list[EngineerSkill]] = relationship(
        back_populates="engineer", cascade="all, delete-orphan", lazy="selectin"
    )
    exceptions: Mapped[list[ShiftException]] = relationship(
        back_populates="engineer",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ShiftException.date",
    )

    __mapper_args__ = {"version_id_col": version}


class EngineerSkill(Base):
    """An engineer's level (1-5) in one skill."""

    __tablename__ = "engineer_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    engineer_id: Mapped[int] = mapped_column(
        ForeignKey("engineers.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)

    engineer: Mapped[Engineer] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")


class ShiftException(Base):
    """A dated change to the weekly template: leave (no shift) or other hours (overtime)."""

    __tablename__ = "shift_exceptions"
    __table_args__ = (
        UniqueConstraint("engineer_id", "date"),
        CheckConstraint(enum_check("kind", ShiftExceptionKind), name="kind_valid"),
        CheckConstraint(
            "kind = 'leave' OR (start_time IS NOT NULL AND end_time IS NOT NULL)",
            name="hours_unless_leave",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    break_start: Mapped[time | None] = mapped_column(Time)
    break_end: Mapped[time | None] = mapped_column(Time)
    break_minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))

    engineer: Mapped[Engineer] = relationship(back_populates="exceptions")


class Shift(Base):
    """One engineer's working time on one date, materialised from template and exceptions."""

    __tablename__ = "shifts"
    __table_args__ = (
        UniqueConstraint("engineer_id", "date"),
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint(enum_check("source", ShiftSource), name="source_valid"),
        CheckConstraint("break_minutes IS NULL OR break_minutes > 0", name="break_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date, index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    break_start_at: Mapped[datetime | None]
    break_end_at: Mapped[datetime | None]
    break_minutes: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    # When the published plan schedules the break (inside the window above).
    planned_break_start: Mapped[datetime | None]
    planned_break_end: Mapped[datetime | None]
    # Where the engineer sleeps after this day when the published plan sends them on an
    # out-of-town trip (the next day starts there); empty when the day ends at home.
    night_lat: Mapped[float | None] = mapped_column(Float)
    night_lon: Mapped[float | None] = mapped_column(Float)
    night_label: Mapped[str | None] = mapped_column(String(200))
