"""From parsed request items to ``Client.request`` keyword arguments: files read, body chosen.

| items                         | body                                                  |
|-------------------------------|-------------------------------------------------------|
| fields                        | a JSON object (``Content-Type: application/json``)    |
| fields, ``--form``            | ``application/x-www-form-urlencoded``                 |
| uploads (+ fields), ``--form``| ``multipart/form-data``                               |
| ``@file``                     | the file's bytes; Content-Type guessed from its name  |

Mixing a raw body with fields, an upload without ``--form`` and ``:=`` in a form are refused
with an error naming the item, as httpie refuses them.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from hookwire.cli._errors import CLIError
from hookwire.cli._items import JSON_FILE, TEXT_FILE, Field, Items, Upload, parse_json


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CLIError(f"{what}: cannot read {path!r} ({reason})") from None


def _text(path: str, what: str) -> str:
    data = _read(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CLIError(f"{what}: {path!r} is not UTF-8 text") from None


def field_value(item: Field) -> Any:
    if item.kind == TEXT_FILE:
        return _text(item.value, f"field {item.name!r}")
    if item.kind == JSON_FILE:
        text = _text(item.value, f"field {item.name!r}")
        return parse_json(item.name, text, source=item.value)
    return item.value


def _upload(item: Upload) -> tuple[str, tuple[str, bytes, str]]:
    data = _read(item.path, f"upload {item.name!r}")
    mime = item.mime or mimetypes.guess_type(item.path)[0] or "application/octet-stream"
    return item.name, (os.path.basename(item.path), data, mime)


def _has_header(items: Items, name: str) -> bool:
    return any(key.lower() == name for key, _ in items.headers)


def body_kwargs(items: Items, form: bool) -> dict[str, Any]:
    """``content=``/``json=``/``data=``/``files=`` for the items (files read here)."""
    if items.body_file is not None:
        if items.fields or items.uploads:
            raise CLIError(
                f"a raw body (@{items.body_file}) cannot be mixed with fields or uploads"
            )
        kwargs: dict[str, Any] = {"content": _read(items.body_file, "raw body")}
        mime = mimetypes.guess_type(items.body_file)[0]
        if mime and not _has_header(items, "content-type"):
            kwargs["headers"] = [("Content-Type", mime)]
        return kwargs
    if items.uploads and not form:
        first = items.uploads[0]
        raise CLIError(f"file upload {first.name}@{first.path} needs --form (a multipart body)")
    if not items.fields and not items.uploads:
        return {}
    if not form:
        return {"json": {f.name: field_value(f) for f in items.fields}}
    if items.raw_json:
        raise CLIError("raw JSON fields (name:=json) cannot go in a --form body")
    data = [(f.name, field_value(f)) for f in items.fields]
    if items.uploads:
        return {"data": data, "files": [_upload(u) for u in items.uploads]}
    return {"data": data}


def request_kwargs(items: Items, form: bool) -> dict[str, Any]:
    """Everything ``Client.request`` needs besides the method and URL."""
    kwargs = body_kwargs(items, form)
    headers = [*items.headers, *kwargs.pop("headers", [])]
    if items.params:
        kwargs["params"] = items.params
    if headers:
        kwargs["headers"] = headers
    return kwargs
