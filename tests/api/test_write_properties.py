"""Generated input on every write endpoint: plausible values mixed with non-finite numbers,
extreme dates, nulls, huge ids and broken text never cause a server error, and a refused
request (4xx) writes nothing."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from api.app import create_app
from dispatch.models.enums import Role
from dispatch.settings import Settings
from tests.api.conftest import row_counts

EXAMPLES = int(os.environ.get("ONSITE_PROPERTY_EXAMPLES", "25"))
NASTY: list[Any] = [
    None,
    math.nan,
    math.inf,
    -math.inf,
    2**31,
    2**63,
    -1,
    0,
    "",
    "a\x00b",
    "\ud800",
    "x" * 600,
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2026-11-23T10:00:00",  # no offset
    "not a date",
    [],
    {},
    True,
]


def _write_routes() -> list[tuple[str, str]]:
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    return sorted(
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    )


WRITES = _write_routes()


@pytest.fixture
def world(app: Any, small_world: dict[str, Any]) -> dict[str, Any]:
    return {
        "ids": small_world["ids"],
        "spec": app.openapi(),
        "admin": small_world["keys"][Role.ADMIN],
        "engineer": small_world["keys"][Role.ENGINEER],
    }


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _plausible(spec: dict[str, Any], schema: dict[str, Any], ids: dict[str, Any], name: str) -> Any:
    """A strategy for a value the schema describes, near what a client would send."""
    schema = _resolve(spec, schema)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return st.one_of(*(_plausible(spec, s, ids, name) for s in options))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return _body(spec, schema, ids)
    if kind == "object":
        return st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
    if kind == "array":
        return st.lists(_plausible(spec, schema.get("items", {}), ids, name), max_size=3)
    if kind == "integer":
        if name in ids:
            return st.sampled_from([ids[name], ids[name] + 1000])
        lo, hi = schema.get("minimum", -10), schema.get("maximum", 10_000)
        return st.integers(min_value=int(lo), max_value=int(min(hi, 10_000)))
    if kind == "number":
        lo, hi = schema.get("minimum", -1000.0), schema.get("maximum", 1000.0)
        return st.floats(min_value=lo, max_value=hi, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if schema.get("format") == "date":
        return st.sampled_from(["2026-11-23", "2026-11-24", "2026-11-28", "2027-01-04"])
    if schema.get("format") == "date-time":
        return st.sampled_from(
            ["2026-11-23T03:00:00Z", "2026-11-23T05:00:00+08:00", "2026-11-24T01:00:00Z"]
        )
    return st.text(max_size=20)


def _body(spec: dict[str, Any], schema: dict[str, Any], ids: dict[str, Any]) -> Any:
    """A strategy for an object: each property left out, plausible, or nasty."""
    properties = schema.get("properties", {})
    fields = {
        name: st.one_of(
            st.just(_OMIT),
            _plausible(spec, sub, ids, name),
            st.sampled_from(NASTY),
        )
        for name, sub in properties.items()
    }
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not _OMIT}
    )


_OMIT = object()


@pytest.mark.parametrize(("method", "template"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_writes_never_fail_the_server_and_refusals_write_nothing(
    client: TestClient,
    world: dict[str, Any],
    session: Session,
    method: str,
    template: str,
    data: st.DataObject,
) -> None:
    """Any body and any path id: the answer is below 500, and a 4xx leaves every table as
    it was."""
    spec, ids = world["spec"], world["ids"]
    operation = spec["paths"][template][method.lower()]
    path_ids = {
        name: data.draw(st.sampled_from([value, 0, -1, 2**31, 2**63, "x"]), label=name)
        for name, value in ids.items()
        if "{" + name + "}" in template
    }
    path = re.sub(r"\{(\w+)\}", lambda m: str(path_ids[m.group(1)]), template)
    headers = world["engineer"] if template.startswith("/v1/me/") else world["admin"]
    content = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = data.draw(_body(spec, _resolve(spec, schema), ids), label="body")
        content = json.dumps(body, allow_nan=True)
        headers = headers | {"Content-Type": "application/json"}
    before = row_counts(session)
    r = client.request(method, path, headers=headers, content=content)
    assert r.status_code < 500, f"{method} {path} {content!r}: {r.status_code} {r.text[:300]}"
    if 400 <= r.status_code < 500:
        assert row_counts(session) == before, (
            f"{method} {path} {content!r} wrote on {r.status_code}"
        )
        assert r.json()["detail"], r.text
