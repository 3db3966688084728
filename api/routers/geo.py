"""Travel times between points, as the planner sees them."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DispatcherUser, GeoDep
from api.schemas.geo import TravelTimesQuery, TravelTimesRead
from dispatch.geo_support import travel_times

router = APIRouter(prefix="/v1", tags=["geography"])


@router.post("/travel-times", response_model=TravelTimesRead)
def post_travel_times(body: TravelTimesQuery, geo: GeoDep, user: DispatcherUser) -> TravelTimesRead:
    """A travel-time and distance matrix for up to 100 points."""
    result = travel_times(geo, [(p.lat, p.lon) for p in body.points], departure=body.departure)
    return TravelTimesRead(**result)
