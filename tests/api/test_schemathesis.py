"""Schemathesis over the whole OpenAPI: generated requests on every operation, valid and
invalid, sent with a key of a role the operation declares. No server error, every status
documented, every response matching its schema and headers.

Examples per operation and generation mode: ``ONSITE_SCHEMATHESIS_EXAMPLES`` (default 10).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from dispatch.models.enums import Role
from dispatch.settings import Settings
from tests.fixtures.routes import api_routes, roles_of

EXAMPLES = int(os.environ.get("ONSITE_SCHEMATHESIS_EXAMPLES", "10"))
# Not negative_data_rejection: Onsite ignores unknown query parameters (as browsers' cache
# busters need), and the key these tests add back is what a negative case may have removed.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SPEC = create_app(Settings(database_url="sqlite://")).openapi()
# (method, path, generation mode): invalid requests only where there is input to make invalid.
OPERATIONS = sorted(
    (method.upper(), path, mode)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE
    or operation.get("parameters")
    or operation.get("requestBody")
)


@pytest.fixture
def contract(app: Any, small_world: dict[str, Any]) -> dict[str, Any]:
    """The app's own OpenAPI, on a small world the generated requests can find things in."""
    return {
        "schema": schemathesis.openapi.from_asgi("/openapi.json", app),
        "keys": small_world["keys"],
    }


def _key_for(app: Any, keys: dict[Role, dict[str, str]], method: str, path: str) -> dict[str, str]:
    """The key of a role the operation declares (admin where admins may)."""
    route = next(r for m, p, r in api_routes(app) if (m, p) == (method, path))
    roles = roles_of(route)
    return {} if roles is None else next(keys[role] for role in keys if roles.allows(role))


@pytest.mark.parametrize(
    ("method", "path", "mode"), OPERATIONS, ids=[f"{m} {p} {g.value}" for m, p, g in OPERATIONS]
)
def test_the_api_keeps_its_contract(
    app: Any,
    client: TestClient,
    contract: dict[str, Any],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    """Generated requests on one operation pass every contract check."""
    operation = contract["schema"][path][method]
    headers = _key_for(app, contract["keys"], method, path) if path.startswith("/v1") else {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
