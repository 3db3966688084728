"""Customers and their sites; sites are placed in a service area and a locality by geo/."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dispatch.common.paging import Page, paginate
from dispatch.errors import Conflict, InvalidInput, NotFound, check_version
from dispatch.geo_support import GeoContext
from dispatch.models import Customer, RepairRequest, Site
from dispatch.sla.service import check_contract


def get_customer_or_raise(session: Session, customer_id: int) -> Customer:
    """The customer, or NotFound."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def list_customers(
    session: Session,
    *,
    limit: int,
    offset: int,
    name: str | None = None,
    vip_tier: str | None = None,
) -> Page[Customer]:
    """Customers, filtered by name (contains) and VIP tier."""
    stmt = select(Customer).order_by(Customer.id)
    if name:
        stmt = stmt.where(Customer.name.ilike(f"%{name}%"))
    if vip_tier:
        stmt = stmt.where(Customer.vip_tier == vip_tier)
    return paginate(session, stmt, limit=limit, offset=offset)


def _unique_customer_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Customer.id).where(Customer.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a customer named {name!r} already exists", field="name")


def create_customer(session: Session, *, name: str, **fields: Any) -> Customer:
    """Add a customer (with ``sla_contract``, their requests are promised under that
    contract's policy)."""
    _unique_customer_name(session, name)
    if fields.get("sla_contract") is not None:
        check_contract(session, fields["sla_contract"])
    customer = Customer(name=name, **fields)
    session.add(customer)
    session.flush()
    return customer


def update_customer(
    session: Session, customer_id: int, *, changes: Mapping[str, Any], expected_version: int | None
) -> Customer:
    """Change a customer."""
    customer = get_customer_or_raise(session, customer_id)
    check_version(customer, expected_version, "customer")
    if "name" in changes:
        _unique_customer_name(session, changes["name"], exclude_id=customer_id)
    if changes.get("sla_contract") is not None:
        check_contract(session, changes["sla_contract"])
    for key, value in changes.items():
        setattr(customer, key, value)
    session.flush()
    return customer


def delete_customer(session: Session, customer_id: int) -> None:
    """Remove a customer without sites."""
    customer = get_customer_or_raise(session, customer_id)
    if session.scalar(select(exists().where(Site.customer_id == customer_id))):
        raise Conflict(f"customer {customer_id} still has sites; delete them first")
    session.delete(customer)
    session.flush()


# --- sites ------------------------------------------------------------------------------------


def get_site_or_raise(session: Session, site_id: int) -> Site:
    """The site, or NotFound."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("site", site_id)
    return site


def list_sites(
    session: Session,
    *,
    limit: int,
    offset: int,
    customer_id: int | None = None,
    service_area_id: int | None = None,
    locality: str | None = None,
) -> Page[Site]:
    """Sites, filtered by customer, area and locality."""
    stmt = select(Site).order_by(Site.id)
    if customer_id is not None:
        stmt = stmt.where(Site.customer_id == customer_id)
    if service_area_id is not None:
        stmt = stmt.where(Site.service_area_id == service_area_id)
    if locality:
        stmt = stmt.where(Site.locality == locality)
    return paginate(session, stmt, limit=limit, offset=offset)


def _place(session: Session, geo: GeoContext, site: Site) -> None:
    placement = geo.classify(session, site.lat, site.lon)
    site.service_area_id = placement.area_id
    site.locality = placement.locality.value
    site.base_area_id = placement.base_area_id
    site.travel_from_base_s = placement.travel_from_base_s


def _coordinates(
    geo: GeoContext, lat: float | None, lon: float | None, address: str
) -> tuple[float, float]:
    if lat is None and lon is None:
        return geo.geocode(address, field="address")
    if lat is None or lon is None:
        raise InvalidInput("lat" if lat is None else "lon", "give both lat and lon, or neither")
    return lat, lon


def create_site(
    session: Session,
    geo: GeoContext,
    *,
    customer_id: int,
    name: str,
    address: str,
    lat: float | None = None,
    lon: float | None = None,
    **fields: Any,
) -> Site:
    """Add a site; it is classified into a service area and locality at once."""
    if session.get(Customer, customer_id) is None:
        raise InvalidInput("customer_id", f"customer {customer_id} does not exist")
    if session.scalar(select(Site.id).where(Site.customer_id == customer_id, Site.name == name)):
        raise Conflict(f"customer {customer_id} already has a site named {name!r}", field="name")
    lat, lon = _coordinates(geo, lat, lon, address)
    geo.check_point(session, lat, lon, field=())
    site = Site(customer_id=customer_id, name=name, address=address, lat=lat, lon=lon, **fields)
    _place(session, geo, site)
    session.add(site)
    session.flush()
    return site


def update_site(
    session: Session,
    geo: GeoContext,
    site_id: int,
    *,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Site:
    """Change a site; moved coordinates re-classify it."""
    site = get_site_or_raise(session, site_id)
    check_version(site, expected_version, "site")
    changes = dict(changes)
    if "name" in changes and session.scalar(
        select(Site.id).where(
            Site.customer_id == site.customer_id, Site.name == changes["name"], Site.id != site_id
        )
    ):
        raise Conflict(f"the customer already has a site named {changes['name']!r}", field="name")
    moved = "lat" in changes or "lon" in changes
    if moved:
        lat = changes.get("lat", site.lat)
        lon = changes.get("lon", site.lon)
        geo.check_point(session, lat, lon, field=())
    for key, value in changes.items():
        setattr(site, key, value)
    if moved:
        _place(session, geo, site)
    session.flush()
    return site


def delete_site(session: Session, site_id: int) -> None:
    """Remove a site no request refers to."""
    site = get_site_or_raise(session, site_id)
    if session.scalar(select(exists().where(RepairRequest.site_id == site_id))):
        raise Conflict(f"site {site_id} has repair requests and cannot be deleted")
    session.delete(site)
    session.flush()
