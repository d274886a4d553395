"""Build a minimal JSON instance that conforms to a JSON schema.

Used for tool-call arguments and `response_format: json_schema` replies: the mock cannot think,
but it can always answer with something a strict validator accepts. Handles types, `required`,
`enum`/`const`, nested objects and arrays, `anyOf`/`oneOf`/`allOf`, local `$ref`s, numeric and
length bounds, and common string formats. Only required properties are filled in.

Bounded (`Budget`): the values, string characters and nesting of what one reply generates are
capped by `hookwire.mockserver.limits.Limits`, so a schema asking for `minLength: 1e9` is a
`SchemaError` (a 400), not a gigabyte string.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hookwire.mockserver.limits import DEFAULT_LIMITS, Limits

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


class SchemaError(ValueError):
    """The schema cannot be instantiated (bad $ref, impossible bounds, too deep, too big)."""


class Budget:
    """What the instances of one reply may still cost: values, string characters, depth.

    One budget is shared by every instance a reply generates (its `response_format` and each
    tool call's arguments), so neither a big `minItems` nor many small ones, nor a `$ref` that
    doubles at every level, can make one request build gigabytes.
    """

    __slots__ = ("chars", "depth", "limits", "values")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.values = limits.schema_values
        self.chars = limits.schema_chars
        self.depth = limits.schema_depth

    def spend(self, values: int, chars: int = 0) -> None:
        self.values -= values
        self.chars -= chars
        if self.values < 0:
            limit = self.limits.schema_values
            raise SchemaError(
                f"the generated instance has more than {limit} values; "
                f"the mock server's limit schema_values={limit}"
            )
        if self.chars < 0:
            limit = self.limits.schema_chars
            raise SchemaError(
                f"the generated instance has more than {limit} string characters; "
                f"the mock server's limit schema_chars={limit}"
            )


def instance(schema: Any, budget: Budget | None = None) -> Any:
    """A minimal instance of `schema`, within `budget` (default: the default limits)."""
    budget = Budget() if budget is None else budget
    try:
        return _instance(schema, schema, 0, budget)
    except RecursionError:  # a schema nested past Python's stack, not past our depth
        raise SchemaError(_too_deep(budget)) from None
    except (TypeError, ValueError, OverflowError, AttributeError, KeyError) as exc:
        if isinstance(exc, SchemaError):
            raise
        # a keyword of the wrong type (`minLength: "x"`, `minimum: []`...): the schema's fault
        raise SchemaError(f"unusable schema: {exc}") from None


def _too_deep(budget: Budget) -> str:
    depth = budget.limits.schema_depth
    return (
        f"schema nests deeper than {depth} levels (recursive $ref?); "
        f"the mock server's limit schema_depth={depth}"
    )


def _count(schema: dict[str, Any], key: str, default: int = 0) -> int:
    """A non-negative integer keyword (`minLength`, `minItems`...), validated."""
    value = schema.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1e3 is a valid JSON Schema integer
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _instance(schema: Any, root: Any, depth: int, budget: Budget) -> Any:
    if depth > budget.depth:
        raise SchemaError(_too_deep(budget))
    budget.spend(1)
    if schema is True or schema is None or schema == {}:
        return {}
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object, not {type(schema).__name__}")
    if "$ref" in schema:
        return _instance(_resolve(schema["$ref"], root), root, depth + 1, budget)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _instance(schema[key][0], root, depth + 1, budget)
    if schema.get("allOf"):
        return _instance(_merge(schema["allOf"], root), root, depth + 1, budget)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _BUILDERS.get(kind, _unknown)(schema, root, depth, budget)


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
    required: set[Any] = set()  # sorted once at the end: linear in the parts, not quadratic
    for part in parts:
        if isinstance(part, dict) and "$ref" in part:
            part = _resolve(part["$ref"], root)
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                required.update(value)
            else:
                merged.setdefault(key, value)
    if required:
        merged["required"] = sorted(required)
    return merged


def _object(schema: dict[str, Any], root: Any, depth: int, budget: Budget) -> dict[str, Any]:
    props = schema.get("properties", {})
    out = {}
    for name in schema.get("required", []):
        out[name] = _instance(props.get(name, {"type": "string"}), root, depth + 1, budget)
    extra = _count(schema, "minProperties") - len(out)  # at most every listed property
    for name in (p for p in props if p not in out):
        if extra <= 0:
            break
        out[name] = _instance(props[name], root, depth + 1, budget)
        extra -= 1
    return out


def _array(schema: dict[str, Any], root: Any, depth: int, budget: Budget) -> list[Any]:
    prefix = schema.get("prefixItems", [])
    items = schema.get("items", {"type": "string"})
    low = _count(schema, "minItems")
    if low > budget.limits.schema_values:  # say which keyword, before building any of it
        limit = budget.limits.schema_values
        raise SchemaError(f"minItems {low} exceeds the mock server's limit schema_values={limit}")
    count = max(low, len(prefix) if low else 0)
    if schema.get("uniqueItems") and count > 1:
        raise SchemaError("cannot build distinct items for uniqueItems with minItems > 1")
    out = [_instance(prefix[i], root, depth + 1, budget) for i in range(min(count, len(prefix)))]
    if count > len(out):
        # every further item is the same minimal instance: build it once, charge it each time
        values, chars = budget.values, budget.chars
        item = _instance(items, root, depth + 1, budget)
        more = count - len(out) - 1
        budget.spend((values - budget.values) * more, (chars - budget.chars) * more)
        out += [item] * (more + 1)
    return out


def _string(schema: dict[str, Any], root: Any, depth: int, budget: Budget) -> str:
    text = _FORMATS.get(schema.get("format", ""), "mock")
    low = _count(schema, "minLength")
    high = _count(schema, "maxLength", low + len(text))
    if low > budget.limits.schema_chars:
        limit = budget.limits.schema_chars
        raise SchemaError(f"minLength {low} exceeds the mock server's limit schema_chars={limit}")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    text = text[:high]
    budget.spend(0, len(text))
    return text


def _number(schema: dict[str, Any], root: Any, depth: int, budget: Budget) -> float | int:
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


def _unknown(schema: dict[str, Any], root: Any, depth: int, budget: Budget) -> Any:
    raise SchemaError(f"unknown schema type {schema.get('type')!r}")


_BUILDERS: dict[str, Callable[[dict[str, Any], Any, int, Budget], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": lambda s, r, d, b: True,
    "null": lambda s, r, d, b: None,
}
