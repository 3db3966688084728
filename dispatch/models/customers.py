"""Customers and their sites."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, TimestampMixin, enum_check
from dispatch.models.enums import Locality, VipTier


class Customer(TimestampMixin, Base):
    """A company (or person) that owns equipment and asks for repairs."""

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint(enum_check("vip_tier", VipTier), name="vip_tier_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vip_tier: Mapped[str] = mapped_column(String(16), default=VipTier.NONE.value)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    # zh-CN or en: the language of messages to the customer (None: the default, zh-CN).
    language: Mapped[str | None] = mapped_column(String(16))
    # The name of the SLA contract the customer's requests are promised under (the latest
    # version of that contract policy); None: the active policy.
    sla_contract: Mapped[str | None] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    sites: Mapped[list[Site]] = relationship(back_populates="customer", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}


class Site(TimestampMixin, Base):
    """Where the work happens; classified into a service area and a locality by geo/."""

    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("customer_id", "name"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint(enum_check("locality", Locality), name="locality_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Filled by classification: the area containing the site (if any), same city / out of town,
    # and the base area that serves it with the travel time from there.
    service_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_areas.id", ondelete="SET NULL"), index=True
    )
    locality: Mapped[str] = mapped_column(String(16))
    base_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_areas.id", ondelete="SET NULL")
    )
    travel_from_base_s: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    customer: Mapped[Customer] = relationship(back_populates="sites")

    __mapper_args__ = {"version_id_col": version}
