"""The cassette file: interactions as data, written as JSON a person can read and diff.

A file looks like this (``version`` is the format's, checked on load)::

    {
      "version": 1,
      "interactions": [
        {
          "request": {"method": "POST", "uri": "http://127.0.0.1:8000/v1/chat/completions",
                      "headers": {"content-type": "application/json"},
                      "body": {"json": {"model": "m", "messages": [...]}, "format": "compact"}},
          "response": {"status": 200, "reason": "OK", "headers": {...},
                       "chunks": ["data: {...}\\n\\n", "data: [DONE]\\n\\n"],
                       "offsets": [0.0012, 0.0031]}
        }
      ]
    }

A body is ``{"json": value, "format": ...}`` when it is JSON that a known layout writes back byte
for byte (``format`` names the layout, so a replay sends the very bytes recorded), else
``{"text": ...}`` when it is UTF-8, else ``{"base64": ...}``. A streamed response keeps
``chunks``, the body pieces exactly as they arrived (each a string, or ``{"base64": ...}`` for a
piece that splits a UTF-8 character), and optionally ``offsets``: seconds from the response
head to each piece. Headers are a name -> value object; a repeated header is a list of values.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1

# A body's JSON layout: (separators, ensure_ascii, indent). Tried in this order; the first that
# writes the parsed value back to the same bytes is the one recorded.
_LAYOUTS: dict[str, tuple[tuple[str, str] | None, bool, int | None]] = {
    "compact": ((",", ":"), False, None),
    "compact-ascii": ((",", ":"), True, None),
    "spaced": ((", ", ": "), False, None),
    "spaced-ascii": ((", ", ": "), True, None),
    "indent2": ((",", ": "), False, 2),
    "indent2-ascii": ((",", ": "), True, 2),
}


class CassetteFormatError(ValueError):
    """A cassette file cannot be read: the message names the file and what is wrong."""


Headers = list[tuple[str, str]]


@dataclass
class RecordedRequest:
    """One request as recorded (or as it arrives, to be matched)."""

    method: str
    uri: str
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)


@dataclass
class RecordedResponse:
    """One response. ``chunks`` (a streamed body, pieces as they arrived) or ``body``."""

    status: int
    reason: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    chunks: list[bytes] | None = None
    offsets: list[float] | None = None
    http_version: str = "HTTP/1.1"

    @property
    def pieces(self) -> list[bytes]:
        """The body as the pieces to send: the chunks, or the body in one piece."""
        if self.chunks is not None:
            return list(self.chunks)
        return [self.body] if self.body else []

    @property
    def content(self) -> bytes:
        return b"".join(self.chunks) if self.chunks is not None else self.body

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)


@dataclass
class Interaction:
    request: RecordedRequest
    response: RecordedResponse


# -- bodies ---------------------------------------------------------------------------------


def _json_layout(data: bytes) -> tuple[str, Any] | None:
    """(layout name, parsed value) when ``data`` is JSON one of the layouts writes back exactly."""
    if not data or data[:1] not in b'{["':
        return None
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    newline = text.endswith("\n")
    core = text[:-1] if newline else text
    for name, (separators, ascii_only, indent) in _LAYOUTS.items():
        try:
            again = json.dumps(value, separators=separators, ensure_ascii=ascii_only, indent=indent)
        except (ValueError, RecursionError):
            return None
        if again == core:
            return (name + "+nl" if newline else name), value
    return None


def encode_body(data: bytes) -> dict[str, Any]:
    layout = _json_layout(data)
    if layout is not None:
        name, value = layout
        return {"json": value, "format": name}
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def decode_body(obj: Any, where: str) -> bytes:
    if obj is None:
        return b""
    if isinstance(obj, str):  # hand-written shorthand: a plain string is text
        return obj.encode("utf-8")
    if not isinstance(obj, dict):
        raise CassetteFormatError(f"{where}: a body is an object with json, text or base64")
    if "json" in obj:
        name = str(obj.get("format", "compact"))
        newline = name.endswith("+nl")
        layout = _LAYOUTS.get(name.removesuffix("+nl"))
        if layout is None:
            raise CassetteFormatError(f"{where}: unknown JSON body format {name!r}")
        separators, ascii_only, indent = layout
        text = json.dumps(
            obj["json"], separators=separators, ensure_ascii=ascii_only, indent=indent
        )
        return (text + ("\n" if newline else "")).encode("utf-8")
    if "text" in obj:
        return str(obj["text"]).encode("utf-8")
    if "base64" in obj:
        try:
            return base64.b64decode(str(obj["base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise CassetteFormatError(f"{where}: base64 body does not decode") from None
    raise CassetteFormatError(f"{where}: a body needs one of json, text or base64")


def _encode_chunk(data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _encode_headers(headers: Headers) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in headers:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _decode_headers(obj: Any, where: str) -> Headers:
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise CassetteFormatError(f"{where}: headers are an object of name -> value(s)")
    pairs: Headers = []
    for name, value in obj.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(one)))
    return pairs


# -- interactions ---------------------------------------------------------------------------


def interaction_to_json(item: Interaction) -> dict[str, Any]:
    req, resp = item.request, item.response
    response: dict[str, Any] = {
        "status": resp.status,
        "reason": resp.reason,
        "http_version": resp.http_version,
        "headers": _encode_headers(resp.headers),
    }
    if resp.chunks is not None:
        response["chunks"] = [_encode_chunk(c) for c in resp.chunks]
        if resp.offsets is not None:
            response["offsets"] = [round(t, 4) for t in resp.offsets]
    else:
        response["body"] = encode_body(resp.body)
    return {
        "request": {
            "method": req.method,
            "uri": req.uri,
            "headers": _encode_headers(req.headers),
            "body": encode_body(req.body),
        },
        "response": response,
    }


def interaction_from_json(obj: Any, where: str) -> Interaction:
    if not isinstance(obj, dict) or not isinstance(obj.get("request"), dict):
        raise CassetteFormatError(f"{where}: an interaction has a request and a response")
    req, resp = obj["request"], obj.get("response")
    if not isinstance(resp, dict):
        raise CassetteFormatError(f"{where}: an interaction has a request and a response")
    if not isinstance(req.get("method"), str) or not isinstance(req.get("uri"), str):
        raise CassetteFormatError(f"{where}.request: method and uri are strings")
    status = resp.get("status")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise CassetteFormatError(f"{where}.response: status is an integer 100..599")
    request = RecordedRequest(
        req["method"].upper(),
        req["uri"],
        _decode_headers(req.get("headers"), f"{where}.request"),
        decode_body(req.get("body"), f"{where}.request"),
    )
    chunks = offsets = None
    if "chunks" in resp:
        if not isinstance(resp["chunks"], list):
            raise CassetteFormatError(f"{where}.response: chunks is a list")
        chunks = [decode_body(c, f"{where}.response.chunks[{i}]") for i, c in
                  enumerate(resp["chunks"])]
        raw = resp.get("offsets")
        if raw is not None:
            if not isinstance(raw, list) or len(raw) != len(chunks) or not all(
                isinstance(t, (int, float)) and t >= 0 for t in raw
            ):
                raise CassetteFormatError(
                    f"{where}.response: offsets is one number >= 0 per chunk"
                )
            offsets = [float(t) for t in raw]
    response = RecordedResponse(
        status,
        str(resp.get("reason", "")),
        _decode_headers(resp.get("headers"), f"{where}.response"),
        decode_body(resp.get("body"), f"{where}.response") if chunks is None else b"",
        chunks,
        offsets,
        str(resp.get("http_version", "HTTP/1.1")),
    )
    return Interaction(request, response)


def dumps(interactions: list[Interaction]) -> str:
    doc = {"version": FORMAT_VERSION, "interactions": [interaction_to_json(i) for i in
                                                        interactions]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def loads(text: str, where: str = "cassette") -> list[Interaction]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CassetteFormatError(f"{where}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise CassetteFormatError(f"{where}: a cassette is an object with an interactions list")
    version = doc.get("version")
    if version != FORMAT_VERSION:
        raise CassetteFormatError(
            f"{where}: format version {version!r} is not supported (this reads {FORMAT_VERSION})"
        )
    return [
        interaction_from_json(item, f"{where}: interactions[{i}]")
        for i, item in enumerate(doc["interactions"])
    ]


def read_file(path: str | os.PathLike[str]) -> list[Interaction]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteFormatError(f"{path}: cannot read the cassette ({exc})") from None
    return loads(text, str(path))


def write_file(path: str | os.PathLike[str], interactions: list[Interaction]) -> None:
    """Write atomically (a temporary file renamed over the old one): never half a cassette."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(interactions)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
