"""Tests for GeoJSON parsing, validation and serialisation (geo.geojson)."""

import json

import pytest
import shapely

from geo.areas import ServiceArea
from geo.errors import InvalidGeometry
from geo.geojson import (
    area_to_feature,
    areas_to_feature_collection,
    geometry_to_geojson,
    parse_areas,
    parse_geometry,
)

# Central London, [lon, lat], counter-clockwise.
LONDON_RING = [[-0.2, 51.4], [0.0, 51.4], [0.0, 51.6], [-0.2, 51.6], [-0.2, 51.4]]
LONDON = {"type": "Polygon", "coordinates": [LONDON_RING]}


def refusal(data, **kwargs) -> InvalidGeometry:
    with pytest.raises(InvalidGeometry) as info:
        parse_geometry(data, **kwargs)
    return info.value


def test_polygon_is_read_in_lon_lat_order():
    """GeoJSON [lon, lat] becomes x = lon, y = lat, with the expected bounds."""
    polygon = parse_geometry(LONDON)
    assert isinstance(polygon, shapely.Polygon)
    assert polygon.bounds == (-0.2, 51.4, 0.0, 51.6)


def test_round_trip_and_orientation():
    """Output equals the counter-clockwise input; a clockwise input comes back counter-clockwise."""
    assert geometry_to_geojson(parse_geometry(LONDON)) == LONDON
    clockwise = {"type": "Polygon", "coordinates": [LONDON_RING[::-1]]}
    out = geometry_to_geojson(parse_geometry(clockwise))
    assert shapely.Polygon(out["coordinates"][0]).exterior.is_ccw
    assert json.loads(json.dumps(out)) == out


def test_feature_multipolygon_and_json_text():
    """A Feature, a MultiPolygon and JSON text are all accepted."""
    east = [[1.0, 51.4], [1.2, 51.4], [1.2, 51.6], [1.0, 51.6], [1.0, 51.4]]
    multi = {"type": "MultiPolygon", "coordinates": [[LONDON_RING], [east]]}
    feature = {"type": "Feature", "geometry": multi, "properties": {}}
    geometry = parse_geometry(json.dumps(feature))
    assert isinstance(geometry, shapely.MultiPolygon)
    assert len(geometry.geoms) == 2
    assert geometry_to_geojson(geometry) == multi


def test_feature_collection_is_merged():
    """Two touching squares in a FeatureCollection merge into one polygon of their union."""
    west = [[-0.4, 51.4], [-0.2, 51.4], [-0.2, 51.6], [-0.4, 51.6], [-0.4, 51.4]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": LONDON, "properties": {}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [west]}},
        ],
    }
    merged = parse_geometry(collection)
    assert isinstance(merged, shapely.Polygon)
    assert merged.bounds == (-0.4, 51.4, 0.0, 51.6)


def test_self_intersection_is_located():
    """A bowtie is refused with where it crosses itself, in lat/lon."""
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    error = refusal(bowtie)
    assert error.field == "boundary.coordinates"
    assert error.message == "invalid polygon: self-intersection at lat 0.5, lon 0.5"


def test_hole_outside_shell_is_refused():
    """A hole outside its shell is refused with GEOS's reason."""
    hole = [[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]
    shell = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    error = refusal({"type": "Polygon", "coordinates": [shell, hole]})
    assert error.field == "boundary.coordinates"
    assert error.message.startswith("invalid polygon: hole lies outside shell at lat")


def test_overlapping_multipolygon_parts_are_refused():
    """MultiPolygon parts must not overlap."""
    shifted = [[x + 0.1, y] for x, y in LONDON_RING]
    error = refusal({"type": "MultiPolygon", "coordinates": [[LONDON_RING], [shifted]]})
    assert error.field == "boundary.coordinates"
    assert "self-intersection" in error.message


@pytest.mark.parametrize(
    ("geometry", "field", "message"),
    [
        ({"type": "Polygon", "coordinates": []}, "boundary.coordinates", "the polygon is empty"),
        (
            {"type": "MultiPolygon", "coordinates": []},
            "boundary.coordinates",
            "the multipolygon is empty",
        ),
        (
            {"type": "Polygon", "coordinates": [[]]},
            "boundary.coordinates[0]",
            "a linear ring needs at least 4 positions (first = last), got 0",
        ),
        (
            {"type": "Polygon", "coordinates": [[*LONDON_RING[:-1], [-0.2, 51.5]]]},
            "boundary.coordinates[0]",
            "the ring is not closed: its first and last positions must be equal",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]},
            "boundary.coordinates",
            "the polygon has no area: its positions lie on one line",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, "0"], [1, 1], [0, 0]]]},
            "boundary.coordinates[0][1]",
            "expected a [lon, lat] position of numbers",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
            "boundary.coordinates[0][1]",
            "longitude 200 is outside [-180, 180]",
        ),
        (
            {"type": "Point", "coordinates": [0, 0]},
            "boundary.type",
            "expected Polygon or MultiPolygon, got 'Point'",
        ),
        ([1, 2], "boundary", "expected a GeoJSON object"),
        ("{not json", "boundary", None),
    ],
)
def test_malformed_input_names_the_field(geometry, field, message):
    """Malformed GeoJSON is refused with the exact field path and a clear message."""
    error = refusal(geometry)
    assert error.field == field
    if message is not None:
        assert error.message == message


def test_positions_valid_only_when_swapped():
    """Sydney written [lat, lon] has latitude 151: refused as apparently swapped."""
    ring = [[-33.9, 151.1], [-33.9, 151.3], [-33.7, 151.3], [-33.7, 151.1], [-33.9, 151.1]]
    error = refusal({"type": "Polygon", "coordinates": [ring]}, field="areas[2].boundary")
    assert error.field == "areas[2].boundary.coordinates[0][0]"
    assert error.message == (
        "latitude 151.1 is outside [-90, 90]; the position looks like [lat, lon], "
        "but GeoJSON positions are [lon, lat]"
    )


def test_swapped_polygon_detected_with_a_reference_point():
    """London written [lat, lon] lands off Somalia; a London reference point exposes the swap."""
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in LONDON_RING]]}
    assert parse_geometry(swapped).bounds == (51.4, -0.2, 51.6, 0.0)  # undetectable alone
    error = refusal(swapped, reference=(51.5, -0.1))
    assert error.field == "boundary"
    assert "swapped" in error.message
    assert "[lon, lat]" in error.message


def test_reference_near_the_area_is_accepted():
    """A depot a little outside the boundary is not mistaken for a swap."""
    assert parse_geometry(LONDON, reference=(51.7, -0.5)).bounds == (-0.2, 51.4, 0.0, 51.6)
    assert parse_geometry(LONDON, reference=(51.5, -0.1)).bounds == (-0.2, 51.4, 0.0, 51.6)


def test_areas_round_trip_through_a_feature_collection():
    """Areas written as a FeatureCollection read back with the same keys, flags and shapes."""
    city = ServiceArea("london", "London", parse_geometry(LONDON))
    ring = [[-1.7, 53.7], [-1.4, 53.7], [-1.4, 53.9], [-1.7, 53.9], [-1.7, 53.7]]
    leeds = ServiceArea(
        "leeds", "Leeds", parse_geometry({"type": "Polygon", "coordinates": [ring]}), False
    )
    text = json.dumps(areas_to_feature_collection([city, leeds]))
    parsed = parse_areas(text)
    assert [(a.key, a.name, a.engineers_based) for a in parsed] == [
        ("london", "London", True),
        ("leeds", "Leeds", False),
    ]
    assert parsed[0].geometry.equals(city.geometry)
    assert area_to_feature(leeds)["properties"] == {
        "key": "leeds",
        "name": "Leeds",
        "engineers_based": False,
    }


def test_parse_areas_validates_properties():
    """Missing keys, duplicate keys and non-boolean flags name the feature's property."""
    feature = {"type": "Feature", "geometry": LONDON, "properties": {"key": "london"}}

    def collection(*features):
        return {"type": "FeatureCollection", "features": list(features)}

    with pytest.raises(InvalidGeometry) as info:
        parse_areas(collection(feature, {**feature, "properties": {"name": "x"}}))
    assert info.value.field == "areas.features[1].properties.key"
    with pytest.raises(InvalidGeometry) as info:
        parse_areas(collection(feature, feature))
    assert info.value.message == "duplicate area key 'london'"
    with pytest.raises(InvalidGeometry) as info:
        parse_areas(collection({**feature, "properties": {"key": "a", "engineers_based": "yes"}}))
    assert info.value.field == "areas.features[0].properties.engineers_based"
    with pytest.raises(InvalidGeometry) as info:
        parse_areas(LONDON)
    assert info.value.field == "areas.type"
    bad = {**feature, "geometry": {"type": "Polygon", "coordinates": []}}
    with pytest.raises(InvalidGeometry) as info:
        parse_areas(collection(bad))
    assert info.value.field == "areas.features[0].geometry.coordinates"
