"""Dispatch runs and the visits they plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, TimestampMixin, enum_check
from dispatch.models.enums import LockKind, RunStatus, VisitStatus


class DispatchRun(TimestampMixin, Base):
    """One optimisation run over a scope and horizon, executed by a worker."""

    __tablename__ = "dispatch_runs"
    __table_args__ = (CheckConstraint(enum_check("status", RunStatus), name="status_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED.value)
    # {"service_area_ids": [1, 2]} or {"all": true}
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    horizon_start: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer, default=1)
    time_limit_s: Mapped[int] = mapped_column(Integer, default=30)
    requested_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    kpis_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kpis_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unassigned: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The published routes in brief: [{"engineer_id", "date", "visits": [request ids]}].
    plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds spent loading the snapshot, solving and publishing (last attempt).
    timings: Mapped[dict[str, float] | None] = mapped_column(JSON)
    plan_version: Mapped[int | None] = mapped_column(Integer)
    # Who is executing the run ("host:pid:start"), until when the claim holds unless renewed by
    # the owner's heartbeat, and how often an expired claim was taken over.
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    recoveries: Mapped[int] = mapped_column(Integer, default=0)
    # When the run was last handed to the cluster's broker (None: not yet, or to do again).
    handed_at: Mapped[datetime | None]
    # A run over several areas on a cluster is split into one part (a run of its own) per area,
    # solved by different workers at once; the run then counts its parts and settles when the
    # last one has finished.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispatch_runs.id", ondelete="CASCADE"), index=True
    )
    part_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parts: Mapped[list[DispatchRun]] = relationship(
        order_by="DispatchRun.id", lazy="selectin", join_depth=1
    )
    # What the dispatcher should know about the result: broken locks, the plan kept, ...
    notes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class Visit(TimestampMixin, Base):
    """A planned (or performed) stop of an engineer at a request's site."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(enum_check("status", VisitStatus), name="status_valid"),
        CheckConstraint(enum_check("lock", LockKind), name="lock_valid"),
        CheckConstraint("sequence >= 0", name="sequence_non_negative"),
        Index("ix_visits_engineer_date_sequence", "engineer_id", "date", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("repair_requests.id", ondelete="CASCADE"), index=True
    )
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="RESTRICT"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_runs.id", ondelete="SET NULL"))
    date: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    planned_arrival: Mapped[datetime]
    planned_start: Mapped[datetime]
    planned_end: Mapped[datetime]
    travel_seconds: Mapped[int] = mapped_column(Integer, default=0)
    eta: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(24), default=VisitStatus.PLANNED.value)
    lock: Mapped[str] = mapped_column(String(16), default=LockKind.NONE.value)
    locked_arrival: Mapped[datetime | None]
    # Booked into a route by intake to hold the capacity it quoted, and not yet published by a
    # run or set by a dispatcher: no engineer has been shown it, so a run may move it freely
    # (the customer's window still binds it).
    reserved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    accepted_at: Mapped[datetime | None]
    en_route_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cannot_complete_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_eta(self) -> datetime:
        """When the engineer is (or was) at the site: the arrival once reported, else the live
        ETA, else the planned start. Every view of a visit uses this one rule."""
        return self.arrived_at or self.eta or self.planned_start


class PlanScope(Base):
    """The published plan's version per service area; publishing checks and bumps it."""

    __tablename__ = "plan_scopes"

    service_area_id: Mapped[int] = mapped_column(
        ForeignKey("service_areas.id", ondelete="CASCADE"), primary_key=True
    )
    plan_version: Mapped[int] = mapped_column(Integer, default=0)
    running_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispatch_runs.id", ondelete="SET NULL")
    )


class VisitEvent(Base):
    """One progress report from an engineer's app. Rows are only ever added."""

    __tablename__ = "visit_events"
    __table_args__ = (Index("ix_visit_events_visit_at", "visit_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))


class LocationPing(Base):
    """An engineer's reported position."""

    __tablename__ = "location_pings"
    __table_args__ = (
        Index("ix_location_pings_engineer_at", "engineer_id", "at"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
