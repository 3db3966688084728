"""Service areas: boundaries (GeoJSON in and out) and calendars."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.deps import AdminUser, PagingDep, SessionDep, StaffOrEngineer
from api.schemas.areas import AreaCreate, AreaFeatures, AreaRead, AreaUpdate
from api.schemas.common import Id, Page, QueryText
from dispatch.areas import service

router = APIRouter(prefix="/v1", tags=["service areas"])


@router.get("/service-areas", response_model=Page[AreaRead])
def list_areas(
    session: SessionDep,
    user: StaffOrEngineer,
    paging: PagingDep,
    name: Annotated[QueryText | None, Query(description="name contains")] = None,
    engineers_based: bool | None = None,
) -> dict[str, Any]:
    """Service areas, filtered."""
    page = service.list_areas(
        session,
        limit=paging.limit,
        offset=paging.offset,
        name=name,
        engineers_based=engineers_based,
    )
    return Page.of(page, AreaRead.model_validate)


@router.get("/service-areas.geojson", response_model=AreaFeatures)
def areas_geojson(session: SessionDep, user: StaffOrEngineer) -> dict[str, Any]:
    """Every service area as one GeoJSON FeatureCollection (for maps)."""
    return service.areas_feature_collection(session)


@router.post("/service-areas", response_model=AreaRead, status_code=status.HTTP_201_CREATED)
def create_area(body: AreaCreate, session: SessionDep, user: AdminUser) -> AreaRead:
    """Add a service area."""
    data = body.model_dump()
    return AreaRead.model_validate(service.create_area(session, **data))


@router.get("/service-areas/{area_id}", response_model=AreaRead)
def get_area(area_id: Id, session: SessionDep, user: StaffOrEngineer) -> AreaRead:
    """One service area."""
    return AreaRead.model_validate(service.get_area_or_raise(session, area_id))


@router.patch("/service-areas/{area_id}", response_model=AreaRead)
def update_area(area_id: Id, body: AreaUpdate, session: SessionDep, user: AdminUser) -> AreaRead:
    """Change a service area (send ``version`` to guard against concurrent edits)."""
    area = service.update_area(
        session,
        area_id,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
        expected_version=body.version,
    )
    return AreaRead.model_validate(area)


@router.delete("/service-areas/{area_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_area(area_id: Id, session: SessionDep, user: AdminUser) -> Response:
    """Remove a service area without engineers."""
    service.delete_area(session, area_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
