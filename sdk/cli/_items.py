"""httpie-style request items, parsed without I/O (files are read by :mod:`._body`).

| item              | meaning                                  | example                       |
|-------------------|------------------------------------------|-------------------------------|
| ``name==value``   | query parameter                          | ``q==hookwire``               |
| ``Name:value``    | request header                           | ``Accept:text/plain``         |
| ``Name;``         | request header with an empty value       | ``X-Empty;``                  |
| ``name=value``    | string field of the body                 | ``city=Paris``                |
| ``name:=json``    | raw JSON field of the body               | ``tags:='["a","b"]'``         |
| ``name=@file``    | string field, the text of a file         | ``bio=@bio.txt``              |
| ``name:=@file``   | raw JSON field, read from a file         | ``meta:=@meta.json``          |
| ``name@file``     | file upload (``--form``: multipart)      | ``cv@cv.pdf;type=text/plain`` |
| ``@file``         | the whole raw body, from a file          | ``@payload.xml``              |

As in httpie, the separator is the first one found scanning left to right, the longest one
at that position (``a:=@f`` is ``:=@``, not ``:``), so ``a=b:c`` is a field and ``A:b=c`` a
header; a backslash makes the next character of the name literal (``a\\=b=c`` is field
``a=b``). Fields form a JSON object, or a form body with ``--form``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hookwire.cli._errors import CLIError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Longest first: at one position the longest separator wins.
_SEPARATORS = (":=@", "=@", ":=", "==", "=", ":", "@", ";")

TEXT, JSON, TEXT_FILE, JSON_FILE = "text", "json", "text-file", "json-file"


@dataclass(frozen=True)
class Field:
    """A body field; for the ``*-file`` kinds ``value`` is the path to read."""

    name: str
    value: Any
    kind: str = TEXT


@dataclass(frozen=True)
class Upload:
    name: str
    path: str
    mime: str | None = None


@dataclass
class Items:
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    body_file: str | None = None

    @property
    def raw_json(self) -> bool:
        """Whether a ``:=`` item was given (so the body cannot be a form)."""
        return any(f.kind in (JSON, JSON_FILE) for f in self.fields)

    @property
    def has_data(self) -> bool:
        return bool(self.fields or self.uploads or self.body_file is not None)


def _unreadable(item: str) -> CLIError:
    return CLIError(
        f"cannot read request item {item!r}: expected name==value, Header:value, "
        "field=value, field:=json, field=@file, field:=@file, field@file or @file"
    )


def split_item(item: str) -> tuple[str, str, str]:
    """``"a==b"`` -> ``("a", "==", "b")`` (see the module docstring for the rules)."""
    if item[:1] in ("=", ":", ";", "@"):  # a name comes first: "=x" or ":x" is no item
        raise _unreadable(item)
    name: list[str] = []
    i = 0
    while i < len(item):
        if item[i] == "\\" and i + 1 < len(item):
            name.append(item[i + 1])
            i += 2
            continue
        if name:
            for sep in _SEPARATORS:
                if item.startswith(sep, i):
                    value = item[i + len(sep) :]
                    if sep == ";" and value:
                        raise _unreadable(item)  # only `Name;` means an empty header
                    return "".join(name), sep, value
        name.append(item[i])
        i += 1
    raise _unreadable(item)


def _upload(name: str, value: str) -> Upload:
    path, sep, mime = value.rpartition(";type=")
    return Upload(name, path, mime or None) if sep else Upload(name, value)


def parse_items(items: list[str]) -> Items:
    parsed = Items()
    for item in items:
        if item.startswith("@") and len(item) > 1:
            if parsed.body_file is not None:
                raise CLIError(f"only one raw body (@file) per request, not also {item!r}")
            parsed.body_file = item[1:]
            continue
        name, sep, value = split_item(item)
        if sep == "==":
            parsed.params.append((name, value))
        elif sep == ":":
            parsed.headers.append((name, value.lstrip()))
        elif sep == ";":
            parsed.headers.append((name, ""))
        elif sep == "=":
            parsed.fields.append(Field(name, value))
        elif sep == "=@":
            parsed.fields.append(Field(name, value, TEXT_FILE))
        elif sep == ":=@":
            parsed.fields.append(Field(name, value, JSON_FILE))
        elif sep == "@":
            parsed.uploads.append(_upload(name, value))
        else:
            parsed.fields.append(Field(name, parse_json(name, value), JSON))
    return parsed


def parse_json(name: str, text: str, source: str = "") -> Any:
    """The JSON value of field ``name``; a typed error naming the field (and file) if invalid."""
    try:
        return json.loads(text)
    except ValueError as exc:
        where = f" in {source!r}" if source else f": {text!r}"
        raise CLIError(f"field {name!r}{where} is not valid JSON ({exc})") from None


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
