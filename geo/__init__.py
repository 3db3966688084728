"""Pure geography for Onsite: where a site is, and how long it takes to get there.

No database, web framework or domain imports (checked by import-linter). Points are ``(lat, lon)``
degrees everywhere except GeoJSON, which is ``[lon, lat]`` by its specification.

Modules
-------
distance
    Vectorised haversine matrices, geodesic distance for single pairs.
matrix
    `TravelMatrix` results and the `MatrixProvider` protocol.
model
    The embedded travel-time model (`ModelProvider`, `TravelModel`, `TravelProfile`).
osrm
    `OsrmProvider`, an OSRM ``table`` client.
cache
    `CachedProvider`, a bounded cache computing only new rows and columns.
areas
    `ServiceArea`, `AreaIndex` classification, `nearest_base`.
geojson
    GeoJSON parsing with validation, and serialisation.
geocoding
    Optional cached, rate-limited geocoding (`Geocoder`).
errors
    `GeoError` and its subclasses, each naming the offending field.
"""

from geo.areas import AreaIndex, NearestBase, ServiceArea, nearest_base, polygon_from_latlon
from geo.cache import CachedProvider, CacheStats
from geo.distance import EARTH_RADIUS_M, geodesic_m, haversine_m, haversine_matrix
from geo.errors import (
    AddressNotFound,
    GeocodingDisabled,
    GeocodingFailed,
    GeoError,
    InvalidCoordinates,
    InvalidGeometry,
    ProviderError,
)
from geo.geocoding import Geocoder, GeocoderConfig, GeocodeResult
from geo.geojson import (
    area_to_feature,
    areas_to_feature_collection,
    geometry_to_geojson,
    parse_areas,
    parse_geometry,
)
from geo.matrix import UNREACHABLE, MatrixProvider, TravelMatrix
from geo.model import ModelProvider, TravelModel, TravelProfile
from geo.osrm import OsrmProvider
from geo.types import LatLon, as_point, as_points

__all__ = [
    "EARTH_RADIUS_M",
    "UNREACHABLE",
    "AddressNotFound",
    "AreaIndex",
    "CacheStats",
    "CachedProvider",
    "GeoError",
    "GeocodeResult",
    "Geocoder",
    "GeocoderConfig",
    "GeocodingDisabled",
    "GeocodingFailed",
    "InvalidCoordinates",
    "InvalidGeometry",
    "LatLon",
    "MatrixProvider",
    "ModelProvider",
    "NearestBase",
    "OsrmProvider",
    "ProviderError",
    "ServiceArea",
    "TravelMatrix",
    "TravelModel",
    "TravelProfile",
    "area_to_feature",
    "areas_to_feature_collection",
    "as_point",
    "as_points",
    "geodesic_m",
    "geometry_to_geojson",
    "haversine_m",
    "haversine_matrix",
    "nearest_base",
    "parse_areas",
    "parse_geometry",
    "polygon_from_latlon",
]
