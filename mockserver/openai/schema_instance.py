"""Build a minimal JSON instance that conforms to a JSON schema.

Used for tool-call arguments and `response_format: json_schema` replies: the mock cannot think,
but it can always answer with something a strict validator accepts. Handles types, `required`,
`enum`/`const`, nested objects and arrays, `anyOf`/`oneOf`/`allOf`, local `$ref`s, numeric and
length bounds, and common string formats. Only required properties are filled in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_FORMATS = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00Z",
    "email": "mock@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}
_MAX_DEPTH = 32


class SchemaError(ValueError):
    """The schema cannot be instantiated (bad $ref, impossible bounds, too deep)."""


def instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A minimal instance of `schema` (resolving `$ref`s against `root`)."""
    if depth > _MAX_DEPTH:
        raise SchemaError("schema nests deeper than 32 levels (recursive $ref?)")
    root = schema if root is None else root
    if schema is True or schema is None or schema == {}:
        return {}
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object, not {type(schema).__name__}")
    if "$ref" in schema:
        return instance(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        return instance(_merge(schema["allOf"], root), root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _BUILDERS.get(kind, _unknown)(schema, root, depth)


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#"):
        raise SchemaError(f"only local $refs are supported, not {ref!r}")
    node = root
    for part in ref.lstrip("#/").split("/") if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"$ref {ref!r} does not resolve")
        node = node[part]
    return node


def _merge(parts: list[Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        if isinstance(part, dict) and "$ref" in part:
            part = _resolve(part["$ref"], root)
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", []), *value})
            else:
                merged.setdefault(key, value)
    return merged


def _object(schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
    props = schema.get("properties", {})
    out = {}
    for name in schema.get("required", []):
        out[name] = instance(props.get(name, {"type": "string"}), root, depth + 1)
    extra = schema.get("minProperties", 0) - len(out)
    for name in (p for p in props if p not in out):
        if extra <= 0:
            break
        out[name] = instance(props[name], root, depth + 1)
        extra -= 1
    return out


def _array(schema: dict[str, Any], root: Any, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems", [])
    items = schema.get("items", {"type": "string"})
    count = max(schema.get("minItems", 0), len(prefix) if schema.get("minItems") else 0)
    out = [instance(prefix[i], root, depth + 1) for i in range(min(count, len(prefix)))]
    out += [instance(items, root, depth + 1) for _ in range(count - len(out))]
    if schema.get("uniqueItems") and len(out) > 1:
        raise SchemaError("cannot build distinct items for uniqueItems with minItems > 1")
    return out


def _string(schema: dict[str, Any], root: Any, depth: int) -> str:
    text = _FORMATS.get(schema.get("format", ""), "mock")
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[:high]
    return text


def _number(schema: dict[str, Any], root: Any, depth: int) -> float | int:
    integer = schema.get("type") == "integer" or (
        isinstance(schema.get("type"), list) and "integer" in schema["type"]
    )
    step = 1 if integer else 0.5
    value: float = 0
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + step
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - step
    multiple = schema.get("multipleOf")
    if multiple:
        value = math.ceil(value / multiple) * multiple
    return math.ceil(value) if integer else float(value)


def _unknown(schema: dict[str, Any], root: Any, depth: int) -> Any:
    raise SchemaError(f"unknown schema type {schema.get('type')!r}")


_BUILDERS: dict[str, Callable[[dict[str, Any], Any, int], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": lambda s, r, d: True,
    "null": lambda s, r, d: None,
}
