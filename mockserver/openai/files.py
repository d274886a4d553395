"""/v1/files: upload (multipart), list, retrieve, content and delete, as OpenAI shapes them.

A file is kept in memory by the server that took it (the journal keys the store: one per app,
so per worker process under ``--workers N``), at most `Limits.stored_files` of them and
`Limits.stored_file_bytes` bytes together; past either cap an upload is refused with the
dialect's 400 naming the cap (files are never dropped behind a batch's back). The batch
endpoints (:mod:`hookwire.mockserver.openai.batches`) read input files from here and add their
output and error files (purpose ``batch_output``).

The multipart body is parsed by the standard library's ``email`` parser: the mock needs no
``python-multipart``.
"""

from __future__ import annotations

import email.parser
import email.policy
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.journal import Journal
from hookwire.mockserver.limits import LimitExceeded, Limits
from hookwire.mockserver.openai.errors import ApiError, api_endpoint
from hookwire.mockserver.replies import json_reply

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
LIST_LIMIT = 10_000  # OpenAI's default and maximum page of GET /v1/files


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int
    expires_at: int | None = None

    def public(self) -> dict[str, Any]:
        """The ``file`` object (spec ``OpenAIFile``)."""
        out: dict[str, Any] = {
            "id": self.id, "object": "file", "bytes": len(self.data),
            "created_at": self.created_at, "filename": self.filename, "purpose": self.purpose,
            "status": "processed",
        }
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at
        return out


class FileStore:
    """One server's files, in upload order; thread-safe (batches write from their tasks)."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, filename: str, purpose: str, data: bytes, limits: Limits,
            expires_at: int | None = None) -> StoredFile:
        item = StoredFile(f"file-{uuid.uuid4().hex[:24]}", filename, purpose, data,
                          int(time.time()), expires_at)
        with self._lock:
            if len(self._files) + 1 > limits.stored_files:
                raise LimitExceeded("stored files", len(self._files) + 1, "stored_files",
                                    limits.stored_files)
            total = self._bytes + len(data)
            if total > limits.stored_file_bytes:
                raise LimitExceeded("stored file bytes", total, "stored_file_bytes",
                                    limits.stored_file_bytes)
            self._files[item.id] = item
            self._bytes = total
        return item

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def pop(self, file_id: str) -> StoredFile | None:
        with self._lock:
            item = self._files.pop(file_id, None)
            if item is not None:
                self._bytes -= len(item.data)
            return item

    def all(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())


_STORES: weakref.WeakKeyDictionary[Journal, FileStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def files_of(ctx: RequestContext) -> FileStore:
    with _STORES_LOCK:
        store = _STORES.get(ctx.journal)
        if store is None:
            store = _STORES[ctx.journal] = FileStore()
        return store


class NotFound(ApiError):
    """A stored object (a file, a batch) that is not there: 404, and no model's error code."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(404, message, param)


def not_found_reply(ctx: RequestContext, err: NotFound) -> Response:
    body = ctx.dialect.error_body(404, err.message, err.param)
    if ctx.dialect.name != "vllm":
        body["error"]["code"] = None  # OpenAI's 404 default code names a model
    return json_reply(body, 404)


def lookup(func: Any) -> Any:
    """`api_endpoint`, with a `NotFound` answered by `not_found_reply`."""

    async def wrapper(request: Request) -> Response:
        try:
            response: Response = await func(request)
        except NotFound as err:
            return not_found_reply(request.scope["mock"], err)
        return response

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return api_endpoint(wrapper)


def not_found(file_id: str) -> NotFound:
    return NotFound(f"File '{file_id}' not found.", "file_id")


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The multipart form's fields: name -> (filename or None, bytes)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(400, "POST /v1/files takes multipart/form-data with 'file' and 'purpose'.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "The multipart body could not be parsed (check its boundary).")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _expires(fields: dict[str, tuple[str | None, bytes]], now: int) -> int | None:
    anchor = fields.get("expires_after[anchor]")
    seconds = fields.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    try:
        value = int(seconds[1]) if seconds is not None else -1
    except ValueError:
        value = -1
    if anchor is None or anchor[1] != b"created_at" or not 3600 <= value <= 2_592_000:
        raise ApiError(400, "Invalid 'expires_after': anchor 'created_at' and seconds in "
                       "[3600, 2592000].", param="expires_after")
    return now + value


@api_endpoint
async def create_file(request: Request) -> Response:
    """POST /v1/files: store the uploaded ``file`` for ``purpose``."""
    ctx: RequestContext = request.scope["mock"]
    fields = _form(request.headers.get("content-type", ""), ctx.body)
    purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
    if purpose not in PURPOSES:
        raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}. Supported values are: "
                       + ", ".join(f"'{p}'" for p in PURPOSES) + ".", param="purpose")
    if "file" not in fields:
        raise ApiError(400, "Missing required parameter: 'file'.", param="file")
    filename, data = fields["file"]
    filename = filename or "upload"
    if purpose == "batch" and not filename.endswith(".jsonl"):
        raise ApiError(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
    expires = _expires(fields, int(time.time()))
    item = files_of(ctx).add(filename, purpose, data, ctx.config.limits, expires)
    return json_reply(item.public())


@api_endpoint
async def list_files(request: Request) -> Response:
    """GET /v1/files[?purpose=&limit=&order=&after=]."""
    ctx: RequestContext = request.scope["mock"]
    query = request.query_params
    items = files_of(ctx).all()
    if query.get("purpose"):
        items = [f for f in items if f.purpose == query["purpose"]]
    if query.get("order", "desc") == "desc":
        items.reverse()
    after = query.get("after")
    if after:
        ids = [f.id for f in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    limit = _limit(query.get("limit"), LIST_LIMIT)
    page = items[:limit]
    return json_reply({
        "object": "list", "data": [f.public() for f in page],
        "first_id": page[0].id if page else "", "last_id": page[-1].id if page else "",
        "has_more": len(items) > limit,
    })


def _limit(raw: str | None, high: int) -> int:
    if raw is None:
        return high
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        raise ApiError(400, f"Invalid 'limit': expected an integer in [1, {high}].", "limit")
    return value


def _stored(ctx: RequestContext, request: Request) -> StoredFile:
    file_id = request.path_params["file_id"]
    item = files_of(ctx).get(file_id)
    if item is None:
        raise not_found(file_id)
    return item


@lookup
async def retrieve_file(request: Request) -> Response:
    """GET /v1/files/{file_id}."""
    ctx: RequestContext = request.scope["mock"]
    return json_reply(_stored(ctx, request).public())


@lookup
async def file_content(request: Request) -> Response:
    """GET /v1/files/{file_id}/content: the bytes as uploaded (or as a batch wrote them)."""
    ctx: RequestContext = request.scope["mock"]
    item = _stored(ctx, request)
    media = "application/jsonl" if item.filename.endswith(".jsonl") else "application/octet-stream"
    return Response(item.data, media_type=media)


@lookup
async def delete_file(request: Request) -> Response:
    """DELETE /v1/files/{file_id}."""
    ctx: RequestContext = request.scope["mock"]
    file_id = request.path_params["file_id"]
    if files_of(ctx).pop(file_id) is None:
        raise not_found(file_id)
    return json_reply({"id": file_id, "object": "file", "deleted": True})
