"""Encode ``json=``, ``data=`` and ``files=`` into a body and its Content-Type (sans-IO)."""

from __future__ import annotations

import json as jsonlib
import mimetypes
import os
import secrets
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import IO, Any
from urllib.parse import urlencode

from hookwire.errors import InvalidRequest

FileContent = IO[bytes] | bytes | str
FileTypes = (
    FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]
)
FilesInput = Mapping[str, FileTypes] | Sequence[tuple[str, FileTypes]]
DataInput = (
    Mapping[str, Any] | Sequence[tuple[str, Any]] | bytes | str | IO[bytes] | Iterable[bytes] | None
)

#: ``content=``: the body as bytes or text, or a file or (async) iterable of bytes to stream.
ContentInput = bytes | str | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes] | None
Body = tuple[bytes | None, Any, str | None]
"""(content, stream, content_type) - exactly one of content/stream is set, or neither."""


def encode_json(value: Any) -> bytes:
    try:
        return jsonlib.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"json= value is not JSON-serialisable: {exc}") from exc


def _form_pairs(data: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((str(key), "" if v is None else str(v)) for v in values)
    return pairs


def _file_parts(files: FilesInput) -> list[tuple[str, str | None, bytes, str | None]]:
    items = files.items() if isinstance(files, Mapping) else files
    parts = []
    for field, spec in items:
        filename: str | None
        content_type: str | None = None
        if isinstance(spec, tuple):
            filename, payload, *rest = spec
            content_type = rest[0] if rest else None
        else:
            payload = spec
            filename = os.path.basename(str(getattr(spec, "name", field)))
        if hasattr(payload, "read"):
            payload = payload.read()
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        if content_type is None and filename:
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        parts.append((str(field), filename, data, content_type))
    return parts


def _quote(value: str) -> str:
    # RFC 7578 section 4.2: percent-encode the quote and line breaks in names.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(
    data: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
    files: FilesInput,
    boundary: str | None = None,
) -> tuple[bytes, str]:
    boundary = boundary or secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in _form_pairs(data or {}):
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        chunks.append(
            head.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, payload, content_type in _file_parts(files):
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
        if filename is not None:
            head += f'; filename="{_quote(filename)}"'
        head += "\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def encode_body(
    *,
    content: ContentInput = None,
    data: DataInput = None,
    files: FilesInput | None = None,
    json: Any = None,
) -> Body:
    """Turn the user's body arguments into (content, stream, content type)."""
    if content is None and data is None and json is None and not files:
        return None, None, None  # no body (most GETs): skip building the "pass only one" list
    given = [name for name, v in (("content", content), ("json", json)) if v is not None]
    if data is not None and not files:
        given.append("data")
    if len(given) > 1:
        raise InvalidRequest(f"pass only one of {', '.join(given)}")
    if files:
        if data is not None and not isinstance(data, (Mapping, list, tuple)):
            raise InvalidRequest("data= must be a dict or list of pairs when files= is given")
        body, ctype = encode_multipart(data, files)
        return body, None, ctype
    if json is not None:
        return encode_json(json), None, "application/json"
    if content is not None:
        if isinstance(content, str):
            return content.encode(), None, None
        if isinstance(content, (bytes, bytearray, memoryview)):
            return bytes(content), None, None
        # A file or an iterator of bytes streams, as httpx's content= does (bytes() of a
        # generator used to fail with a TypeError that named nothing the caller passed).
        if hasattr(content, "read") or isinstance(content, (Iterable, AsyncIterable)):
            return None, content, None
        raise InvalidRequest(
            f"content= must be bytes, str, a file or an iterable of bytes, "
            f"not {type(content).__name__}"
        )
    if data is None:
        return None, None, None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), None, None
    if isinstance(data, str):
        return data.encode(), None, None
    if isinstance(data, Mapping) or (
        isinstance(data, (list, tuple)) and all(isinstance(p, tuple) for p in data)
    ):
        form = urlencode(_form_pairs(data))
        return form.encode(), None, "application/x-www-form-urlencoded"
    if hasattr(data, "read") or isinstance(data, (Iterable, AsyncIterable)):
        return None, data, None
    raise InvalidRequest(f"unsupported data= type {type(data).__name__}")
