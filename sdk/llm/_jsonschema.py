"""A small JSON-schema validator for the keywords structured-output schemas use.

Used to check a reply against a dict schema when ``jsonschema`` is not installed (core takes no
dependency). It covers what OpenAI's strict mode and pydantic's ``model_json_schema`` emit: types,
``properties``/``required``/``additionalProperties``, ``items``/``prefixItems``, ``enum``/``const``,
numeric and length bounds, ``pattern``, ``anyOf``/``oneOf``/``allOf``/``not`` and local ``$ref``.
Unknown keywords (``format``, ``title``...) are ignored, as the spec allows for annotations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["first_error"]

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    # JSON has one number type: bool is not a number, 1.0 is an integer (as the spec says)
    "integer": lambda v: (
        not isinstance(v, bool)
        and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))
    ),
    "number": lambda v: not isinstance(v, bool) and isinstance(v, (int, float)),
}


def first_error(value: Any, schema: Mapping[str, Any]) -> str | None:
    """The first reason ``value`` does not match ``schema`` (with its JSON path), or None."""
    return _check(value, schema, schema, "$")


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else ():
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node  # type: ignore[no-any-return]


def _check(value: Any, schema: Any, root: Mapping[str, Any], path: str) -> str | None:
    if schema is True or schema == {}:
        return None
    if schema is False:
        return f"{path}: no value is allowed here"
    if "$ref" in schema:
        error = _check(value, _resolve(schema["$ref"], root), root, path)
        if error:
            return error
    for check in (_type, _choices, _combinators, _number, _string, _array, _object):
        error = check(value, schema, root, path)
        if error:
            return error
    return None


def _type(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    want = schema.get("type")
    if want is None:
        return None
    kinds = want if isinstance(want, list) else [want]
    if any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return None
    return f"{path}: {value!r:.60} is not of type {' or '.join(map(str, kinds))}"


def _choices(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    if "const" in schema and not _same(value, schema["const"]):
        return f"{path}: {value!r:.60} is not {schema['const']!r}"
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        return f"{path}: {value!r:.60} is not one of {schema['enum']!r}"
    return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _combinators(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    for sub in schema.get("allOf", ()):
        error = _check(value, sub, root, path)
        if error:
            return error
    if "anyOf" in schema:
        errors = [_check(value, sub, root, path) for sub in schema["anyOf"]]
        if all(errors):
            return f"{path}: matches none of anyOf ({'; '.join(map(str, errors))})"
    if "oneOf" in schema:
        matched = sum(_check(value, sub, root, path) is None for sub in schema["oneOf"])
        if matched != 1:
            return f"{path}: matches {matched} of oneOf, not exactly one"
    if "not" in schema and _check(value, schema["not"], root, path) is None:
        return f"{path}: must not match {schema['not']!r}"
    return None


def _number(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    bounds: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
        ("minimum", lambda b: bool(value >= b), ">="),
        ("maximum", lambda b: bool(value <= b), "<="),
        ("exclusiveMinimum", lambda b: bool(value > b), ">"),
        ("exclusiveMaximum", lambda b: bool(value < b), "<"),
    )
    for key, ok, sign in bounds:
        if key in schema and not ok(schema[key]):
            return f"{path}: {value!r} is not {sign} {schema[key]!r}"
    step = schema.get("multipleOf")
    if step and not math.isclose(value / step, round(value / step)):
        return f"{path}: {value!r} is not a multiple of {step!r}"
    return None


def _string(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    if not isinstance(value, str):
        return None
    if "minLength" in schema and len(value) < schema["minLength"]:
        return f"{path}: {value!r:.60} is shorter than {schema['minLength']}"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{path}: {value!r:.60} is longer than {schema['maxLength']}"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return f"{path}: {value!r:.60} does not match {schema['pattern']!r}"
    return None


def _array(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    if not isinstance(value, list):
        return None
    if "minItems" in schema and len(value) < schema["minItems"]:
        return f"{path}: has {len(value)} items, fewer than {schema['minItems']}"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return f"{path}: has {len(value)} items, more than {schema['maxItems']}"
    prefix = schema.get("prefixItems", ())
    for i, (item, sub) in enumerate(zip(value, prefix, strict=False)):
        error = _check(item, sub, root, f"{path}[{i}]")
        if error:
            return error
    items = schema.get("items")
    if items is not None:
        for i in range(len(prefix), len(value)):
            error = _check(value[i], items, root, f"{path}[{i}]")
            if error:
                return error
    return None


def _object(value: Any, schema: Mapping[str, Any], root: Any, path: str) -> str | None:
    if not isinstance(value, dict):
        return None
    for name in schema.get("required", ()):
        if name not in value:
            return f"{path}: {name!r} is a required property"
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in props:
            error = _check(item, props[name], root, f"{path}.{name}")
        elif extra is False:
            error = f"{path}: additional property {name!r} is not allowed"
        else:
            error = _check(item, extra, root, f"{path}.{name}")
        if error:
            return error
    for key, ok in (("minProperties", len(value).__ge__), ("maxProperties", len(value).__le__)):
        if key in schema and not ok(schema[key]):
            return f"{path}: has {len(value)} properties ({key} {schema[key]})"
    return None
