"""Customers and their sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import GeoDep, PagingDep, SessionDep, StaffUser
from api.schemas.common import Id, Page, QueryText
from api.schemas.customers import (
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)
from dispatch.customers import service

router = APIRouter(prefix="/v1", tags=["customers"])


@router.get("/customers", response_model=Page[CustomerRead])
def list_customers(
    session: SessionDep,
    user: StaffUser,
    paging: PagingDep,
    name: Annotated[QueryText | None, Query(description="name contains")] = None,
    vip_tier: Annotated[str | None, Query(pattern="^(none|silver|gold|platinum)$")] = None,
) -> dict:
    """Customers, filtered."""
    page = service.list_customers(
        session, limit=paging.limit, offset=paging.offset, name=name, vip_tier=vip_tier
    )
    return Page.of(page, CustomerRead.model_validate)


@router.post("/customers", response_model=CustomerRead, status_code=status.HTTP_201_CREATED)
def create_customer(body: CustomerCreate, session: SessionDep, user: StaffUser) -> CustomerRead:
    """Add a customer."""
    return CustomerRead.model_validate(service.create_customer(session, **body.model_dump()))


@router.get("/customers/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: Id, session: SessionDep, user: StaffUser) -> CustomerRead:
    """One customer."""
    return CustomerRead.model_validate(service.get_customer_or_raise(session, customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerRead)
def update_customer(
    customer_id: Id, body: CustomerUpdate, session: SessionDep, user: StaffUser
) -> CustomerRead:
    """Change a customer."""
    customer = service.update_customer(
        session,
        customer_id,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
        expected_version=body.version,
    )
    return CustomerRead.model_validate(customer)


@router.delete("/customers/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_customer(customer_id: Id, session: SessionDep, user: StaffUser) -> Response:
    """Remove a customer without sites."""
    service.delete_customer(session, customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sites", response_model=Page[SiteRead])
def list_sites(
    session: SessionDep,
    user: StaffUser,
    paging: PagingDep,
    customer_id: Id | None = None,
    service_area_id: Id | None = None,
    locality: Annotated[str | None, Query(pattern="^(same_city|out_of_town)$")] = None,
) -> dict:
    """Sites, filtered by customer, service area and locality."""
    page = service.list_sites(
        session,
        limit=paging.limit,
        offset=paging.offset,
        customer_id=customer_id,
        service_area_id=service_area_id,
        locality=locality,
    )
    return Page.of(page, SiteRead.model_validate)


@router.post("/sites", response_model=SiteRead, status_code=status.HTTP_201_CREATED)
def create_site(body: SiteCreate, geo: GeoDep, session: SessionDep, user: StaffUser) -> SiteRead:
    """Add a site; it is placed in a service area (same city / out of town) at once."""
    site = service.create_site(session, geo, **body.model_dump())
    return SiteRead.model_validate(site)


@router.get("/sites/{site_id}", response_model=SiteRead)
def get_site(site_id: Id, session: SessionDep, user: StaffUser) -> SiteRead:
    """One site."""
    return SiteRead.model_validate(service.get_site_or_raise(session, site_id))


@router.patch("/sites/{site_id}", response_model=SiteRead)
def update_site(
    site_id: Id, body: SiteUpdate, geo: GeoDep, session: SessionDep, user: StaffUser
) -> SiteRead:
    """Change a site; new coordinates re-classify it."""
    site = service.update_site(
        session,
        geo,
        site_id,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
        expected_version=body.version,
    )
    return SiteRead.model_validate(site)


@router.delete("/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_site(site_id: Id, session: SessionDep, user: StaffUser) -> Response:
    """Remove a site without requests."""
    service.delete_site(session, site_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
