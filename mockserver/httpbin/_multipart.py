"""A small ``multipart/form-data`` parser (RFC 7578) for buffered request bodies.

httpbin reports fields and files separately, so all we need is each part's name, optional
filename, content type and bytes. Bodies are already in memory (the mock server is not a file
store), which keeps this a split-on-boundary routine rather than a streaming state machine.
"""

from __future__ import annotations

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


def _parse_part(chunk: bytes) -> Part | None:
    head, sep, content = chunk.partition(b"\r\n\r\n")
    if not sep:
        raise MultipartError("a multipart part has no blank line after its headers")
    disposition = None
    part_type = None
    for line in head.split(b"\r\n"):
        name, _, value = line.decode("utf-8", "replace").partition(":")
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
    """Split ``body`` into its parts. Raises :class:`MultipartError` on broken framing."""
    delimiter = b"--" + _boundary(content_type)
    if not body.startswith(delimiter):
        index = body.find(b"\r\n" + delimiter)
        if index < 0:
            raise MultipartError("the multipart body does not contain its boundary")
        body = body[index + 2 :]
    parts: list[Part] = []
    for chunk in body.split(b"\r\n" + delimiter)[0:]:
        if chunk.startswith(delimiter):
            chunk = chunk[len(delimiter) :]
        if chunk.startswith(b"--"):
            break  # the close delimiter; anything after it is epilogue
        if not chunk.startswith(b"\r\n"):
            raise MultipartError("a multipart delimiter is not followed by CRLF")
        part = _parse_part(chunk[2:])
        if part is not None:
            parts.append(part)
    return parts
