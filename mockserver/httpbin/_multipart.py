"""A small ``multipart/form-data`` parser (RFC 7578) for buffered request bodies.

httpbin reports fields and files separately, so all we need is each part's name, optional
filename, content type and bytes. Bodies are already in memory (the mock server is not a file
store), which keeps this a split-on-boundary routine rather than a streaming state machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

__all__ = ["MultipartError", "Part", "parse_multipart"]


class MultipartError(ValueError):
    """The body does not follow the ``multipart/form-data`` framing it announced."""


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes


def _params(header_value: str) -> Message:
    message = Message()
    message["content-type"] = (
        "x/x; " + header_value.split(";", 1)[-1] if ";" in header_value else "x/x"
    )
    return message


def _boundary(content_type: str) -> bytes:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("multipart/form-data without a boundary parameter")
    return boundary.encode("latin-1")


# RFC 7578 asks for CRLF; like werkzeug (httpbin's parser), a bare LF or CR is a line break too.
_BREAK = rb"(?:\r\n|\n|\r)"
_BLANK = re.compile(rb"\r\n\r\n|\r\r|\n\n")
_CONTINUED = re.compile(_BREAK + rb"[ \t]")  # a folded header line (RFC 2231)


def _delimiters(boundary: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """(the first delimiter, every later one). A delimiter is a line break (optional before
    the first), ``--boundary``, then ``--`` for the close delimiter or a line break, with
    horizontal whitespace allowed before either."""
    tail = rb"(--[^\S\r\n]*(?:%s)?|[^\S\r\n]*%s)" % (_BREAK, _BREAK)
    dashed = b"--" + re.escape(boundary)
    return re.compile(rb"(?:%s)?%s%s" % (_BREAK, dashed, tail)), re.compile(_BREAK + dashed + tail)


def _parse_part(head: bytes, content: bytes) -> Part | None:
    disposition = None
    part_type = None
    for line in _CONTINUED.sub(b" ", head).splitlines():
        name, _, value = line.strip().decode("utf-8", "replace").partition(":")
        lowered = name.strip().lower()
        if lowered == "content-disposition":
            disposition = value.strip()
        elif lowered == "content-type":
            part_type = value.strip()
    if disposition is None:
        return None
    params = _params(disposition)
    field = params.get_param("name", header="content-type")
    if not isinstance(field, str):
        return None
    filename = params.get_param("filename", header="content-type")
    return Part(
        name=field,
        filename=filename if isinstance(filename, str) else None,
        content_type=part_type,
        content=content,
    )


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split ``body`` into its parts, as werkzeug reads them. Raises :class:`MultipartError`
    on broken framing (httpbin would show an empty form instead)."""
    first, later = _delimiters(_boundary(content_type))
    found = first.search(body)
    if found is None:
        raise MultipartError("the multipart body does not contain its boundary")
    parts: list[Part] = []
    while not found.group(1).startswith(b"--"):
        head_start = found.end()
        blank = _BLANK.search(body, head_start)
        if blank is None:
            raise MultipartError("a multipart part has no blank line after its headers")
        # the blank line's second break may also open the next delimiter (an empty part)
        found = later.search(body, (blank.start() + blank.end()) // 2)
        if found is None:
            raise MultipartError("the multipart body ends before its close delimiter")
        content = body[blank.end() : max(found.start(), blank.end())]
        part = _parse_part(body[head_start : blank.start()], content)
        if part is not None:
            parts.append(part)
    return parts
