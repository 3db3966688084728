"""Every input the OpenAPI describes is bounded: a new field cannot forget its limits."""

from __future__ import annotations

from typing import Any

from api.app import create_app
from dispatch.settings import Settings


def _unbounded(spec: dict[str, Any]) -> list[str]:
    components = spec["components"]["schemas"]
    problems: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: tuple[str, ...] = ()) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(components[name], where, (*seen, name))
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(sub, where, seen)
        kind = schema.get("type")
        if kind == "integer" and "maximum" not in schema:
            problems.append(f"{where}: an integer without a maximum")
        if kind == "number" and not {"minimum", "maximum"} <= set(schema):
            problems.append(f"{where}: a number without bounds")
        limited = {"maxLength", "enum", "format", "const"} & set(schema)
        anchored = str(schema.get("pattern", "")).endswith("$")
        if kind == "string" and not limited and not anchored:
            problems.append(f"{where}: a string without a maximum length")
        if kind == "array":
            if "maxItems" not in schema:
                problems.append(f"{where}: a list without a maximum length")
            walk(schema.get("items", {}), f"{where}[]", seen)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{method.upper()} {path} {parameter['name']}")
            body = operation.get("requestBody")
            if body:
                walk(body["content"]["application/json"]["schema"], f"{method.upper()} {path}")
    return sorted(set(problems))


def test_every_input_has_limits() -> None:
    """Integers have a maximum, numbers both bounds, strings and lists a maximum length."""
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    assert _unbounded(spec) == []
