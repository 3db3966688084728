"""The domain's use of geo/: placing sites, checking coordinates, travel matrices, geocoding.

Areas and bases are read from the database and kept in memory until they change (a cheap
fingerprint query tells), so classifying a site costs one small query and a vectorised lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.errors import InvalidInput, Unavailable
from dispatch.models import Engineer, ServiceArea
from dispatch.models.enums import Locality
from dispatch.settings import Settings
from geo.areas import AreaIndex, nearest_base
from geo.areas import ServiceArea as GeoArea
from geo.errors import GeoError, ProviderError
from geo.geojson import parse_geometry
from geo.matrix import MatrixProvider, TravelMatrix
from geo.model import ModelProvider


@dataclass(frozen=True)
class Placement:
    """Where a site is: its area (if any), locality, and the base that serves it."""

    area_id: int | None
    locality: Locality
    base_area_id: int | None
    travel_from_base_s: int | None


@dataclass(frozen=True)
class _AreaSnapshot:
    fingerprint: tuple[Any, ...]
    index: AreaIndex
    ids: tuple[int, ...]
    based: tuple[bool, ...]


@dataclass(frozen=True)
class _BaseSnapshot:
    fingerprint: tuple[Any, ...]
    points: tuple[tuple[float, float], ...]
    area_ids: tuple[int, ...]


def geo_area(area: ServiceArea) -> GeoArea:
    """The geo/ view of a stored service area."""
    return GeoArea(
        key=str(area.id),
        name=area.name,
        geometry=parse_geometry(area.boundary, field="boundary"),
        engineers_based=area.engineers_based,
    )


def _swapped_hint(lat: float, lon: float, index: AreaIndex) -> str | None:
    if abs(lon) > 90 or len(index) == 0:
        return None
    if index.classify([(lat, lon)])[0] >= 0:
        return None
    hit = int(index.classify([(lon, lat)])[0])
    if hit < 0:
        return None
    return index.areas[hit].name


class GeoContext:
    """Geography for the services: one per process, safe to share between threads."""

    def __init__(
        self,
        provider: MatrixProvider | None = None,
        geocoder: Any | None = None,
        *,
        point_provider: MatrixProvider | None = None,
    ) -> None:
        # ``provider`` builds planning matrices (cached, many points reused); one-off questions
        # about a single site go to ``point_provider`` uncached, because a cache keyed by points
        # would grow a full row and column for every new site.
        self.provider: MatrixProvider = provider or ModelProvider()
        self.point_provider: MatrixProvider = point_provider or self.provider
        self.geocoder = geocoder
        self._lock = threading.Lock()
        self._areas: _AreaSnapshot | None = None
        self._bases: _BaseSnapshot | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> GeoContext:
        """Build the provider (model or OSRM, cached) and the optional geocoder from settings."""
        from geo.cache import CachedProvider

        provider: MatrixProvider = ModelProvider()
        if settings.travel_provider == "osrm":
            from geo.osrm import OsrmProvider

            if not settings.osrm_url:
                raise InvalidInput("ONSITE_OSRM_URL", "set the OSRM server URL to use OSRM")
            provider = OsrmProvider(
                settings.osrm_url,
                profile=settings.osrm_profile,
                fallback=ModelProvider() if settings.osrm_fallback_to_model else None,
            )
        geocoder = None
        if settings.geocoding_enabled:
            from geo.geocoding import Geocoder, GeocoderConfig

            geocoder = Geocoder(
                GeocoderConfig(
                    enabled=True,
                    domain=settings.nominatim_url,
                    scheme=settings.nominatim_scheme,
                    user_agent=settings.geocoding_user_agent,
                    min_delay_s=settings.geocoding_min_delay_s,
                )
            )
        cached = CachedProvider(provider, max_bytes=settings.travel_cache_mb * 1_000_000)
        return cls(cached, geocoder, point_provider=provider)

    # --- snapshots ----------------------------------------------------------------------------

    def areas(self, session: Session) -> _AreaSnapshot:
        """The service areas as a spatial index, rebuilt only when an area changed."""
        fingerprint = tuple(
            session.execute(
                select(
                    func.count(), func.max(ServiceArea.updated_at), func.sum(ServiceArea.version)
                )
            ).one()
        )
        snap = self._areas
        if snap is not None and snap.fingerprint == fingerprint:
            return snap
        rows = session.scalars(select(ServiceArea).order_by(ServiceArea.id)).all()
        snap = _AreaSnapshot(
            fingerprint=fingerprint,
            index=AreaIndex(geo_area(a) for a in rows),
            ids=tuple(a.id for a in rows),
            based=tuple(a.engineers_based for a in rows),
        )
        with self._lock:
            self._areas = snap
        return snap

    def bases(self, session: Session) -> _BaseSnapshot:
        """Active engineers' home bases, reloaded only when engineers changed."""
        fingerprint = tuple(
            session.execute(
                select(func.count(), func.max(Engineer.updated_at), func.sum(Engineer.version))
            ).one()
        )
        snap = self._bases
        if snap is not None and snap.fingerprint == fingerprint:
            return snap
        rows = session.execute(
            select(Engineer.home_lat, Engineer.home_lon, Engineer.service_area_id)
            .where(Engineer.active.is_(True))
            .order_by(Engineer.id)
        ).all()
        snap = _BaseSnapshot(
            fingerprint=fingerprint,
            points=tuple((r[0], r[1]) for r in rows),
            area_ids=tuple(r[2] for r in rows),
        )
        with self._lock:
            self._bases = snap
        return snap

    # --- questions ----------------------------------------------------------------------------

    def check_point(
        self, session: Session, lat: float, lon: float, *, field: str | Sequence[str | int]
    ) -> None:
        """Refuse coordinates that are out of range or apparently swapped (lat <-> lon)."""
        check_point(lat, lon, field=field, index=self.areas(session).index)

    def classify(self, session: Session, lat: float, lon: float) -> Placement:
        """Place a point: same city inside an area with engineers, else out of town, served
        from the base (an active engineer's home) with the least travel time."""
        areas = self.areas(session)
        position = int(self._geo(lambda: areas.index.classify([(lat, lon)]))[0])
        area_id = areas.ids[position] if position >= 0 else None
        same_city = position >= 0 and areas.based[position]
        bases = self.bases(session)
        candidates = [
            i for i, a in enumerate(bases.area_ids) if not same_city or a == area_id
        ] or list(range(len(bases.points)))
        base_area_id: int | None = area_id if same_city else None
        travel: int | None = None
        if candidates:
            best = self._geo(
                lambda: nearest_base(
                    (lat, lon), [bases.points[i] for i in candidates], self.provider
                )
            )
            if best is not None:
                base_area_id = bases.area_ids[candidates[best.index]]
                travel = best.duration_s
        return Placement(
            area_id=area_id,
            locality=Locality.SAME_CITY if same_city else Locality.OUT_OF_TOWN,
            base_area_id=base_area_id,
            travel_from_base_s=travel,
        )

    def travel_matrix(
        self, points: Sequence[tuple[float, float]], *, departure: datetime | None = None
    ) -> TravelMatrix:
        """Travel durations and distances between ``points`` (square)."""
        return self._geo(lambda: self.provider.matrix(points, departure=departure))

    def geocode(self, address: str, *, field: str) -> tuple[float, float]:
        """Coordinates for an address, when geocoding is switched on."""
        if self.geocoder is None:
            raise InvalidInput(
                field,
                "the site has no coordinates and geocoding is off: send lat and lon "
                "(or set ONSITE_GEOCODING_ENABLED=true)",
            )
        found = self._geo(lambda: self.geocoder.geocode(address, field=field))
        return float(found.lat), float(found.lon)

    @staticmethod
    def _geo(call: Any) -> Any:
        try:
            return call()
        except ProviderError as exc:
            raise Unavailable(exc.message) from exc
        except GeoError as exc:
            raise InvalidInput(exc.field, exc.message) from exc


def check_point(
    lat: float, lon: float, *, field: str | Sequence[str | int], index: AreaIndex | None = None
) -> None:
    """Refuse out-of-range coordinates and, given areas, ones that look swapped."""
    loc = (field,) if isinstance(field, str) else tuple(field)
    if not -90 <= lat <= 90:
        hint = " (did you swap lat and lon?)" if -90 <= lon <= 90 else ""
        raise InvalidInput((*loc, "lat"), f"latitude {lat} is outside -90..90{hint}")
    if not -180 <= lon <= 180:
        raise InvalidInput((*loc, "lon"), f"longitude {lon} is outside -180..180")
    if index is not None:
        name = _swapped_hint(lat, lon, index)
        if name is not None:
            raise InvalidInput(
                (*loc, "lat"),
                f"({lat}, {lon}) lies in no service area but ({lon}, {lat}) lies in {name}: "
                "lat and lon look swapped",
            )


def travel_times(
    geo: GeoContext, points: Sequence[tuple[float, float]], *, departure: datetime | None = None
) -> dict[str, Any]:
    """A square matrix as plain lists (None where unreachable), for the API."""
    if departure is not None and departure.tzinfo is None:
        raise InvalidInput("departure", "give the departure with a timezone offset")
    matrix = geo.travel_matrix(points, departure=departure)
    reachable = matrix.reachable
    return {
        "provider": matrix.provider,
        "estimated": matrix.estimated,
        "durations_s": [
            [int(v) if ok else None for v, ok in zip(row, mask, strict=True)]
            for row, mask in zip(matrix.durations.tolist(), reachable.tolist(), strict=True)
        ],
        "distances_m": [
            [int(v) if ok else None for v, ok in zip(row, mask, strict=True)]
            for row, mask in zip(matrix.distances.tolist(), reachable.tolist(), strict=True)
        ],
    }
