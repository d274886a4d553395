"""httpie-style request items, parsed without I/O.

| item              | meaning                         | example                 |
|-------------------|---------------------------------|-------------------------|
| ``name==value``   | query parameter                 | ``q==hookwire``         |
| ``Name:value``    | request header                  | ``Accept:text/plain``   |
| ``name=value``    | string field of the body        | ``city=Paris``          |
| ``name:=json``    | raw JSON field of the body      | ``tags:='["a","b"]'``   |

The separator is the *first* one found scanning left to right (``a=b:c`` is a field, ``A:b=c``
a header), as in httpie. Fields form a JSON object, or a form body with ``--form``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hookwire.cli._errors import CLIError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SEPARATORS = (":=", "==", "=", ":")


@dataclass
class Items:
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    raw_json: bool = False  # a := item was given (so the body cannot be a form)


def split_item(item: str) -> tuple[str, str, str]:
    """``"a==b"`` -> ``("a", "==", "b")``; the first separator wins."""
    for i in range(1 if item[:1] not in ("=", ":") else len(item), len(item)):
        for sep in _SEPARATORS:
            if item.startswith(sep, i):
                return item[:i], sep, item[i + len(sep) :]
    raise CLIError(
        f"cannot read request item {item!r}: expected name==value, Header:value, "
        "field=value or field:=json"
    )


def parse_items(items: list[str]) -> Items:
    parsed = Items()
    for item in items:
        name, sep, value = split_item(item)
        if sep == "==":
            parsed.params.append((name, value))
        elif sep == ":":
            parsed.headers.append((name, value.lstrip()))
        elif sep == "=":
            parsed.fields[name] = value
        else:
            try:
                parsed.fields[name] = json.loads(value)
            except ValueError as exc:
                raise CLIError(f"field {name!r}: {value!r} is not valid JSON ({exc})") from None
            parsed.raw_json = True
    return parsed


def split_method(first: str, rest: list[str]) -> tuple[str | None, str, list[str]]:
    """``GET URL items`` or ``URL items`` (the method is then chosen from the body)."""
    if first.upper() in METHODS and rest:
        return first.upper(), rest[0], rest[1:]
    return None, first, rest


def normalise_url(url: str) -> str:
    """httpie shorthands: ``:8000/x`` -> ``http://localhost:8000/x``; no scheme -> ``http://``."""
    if url.startswith(":"):
        return "http://localhost" + url
    if "://" not in url:
        return "http://" + url
    return url
