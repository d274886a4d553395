"""/v1/batches: create, retrieve, list and cancel batches of an uploaded JSONL input file.

A batch runs in a task on the server's event loop. Its lines go through the mock's own
endpoints (`chat_completions`, `embeddings`, `completions`: the same validation, planning and
caps as a live call, never the SDK), but not through the app: no journal entry, scenario rule
or fault applies to a line, as none of a real server's would. Statuses follow OpenAI:
``validating`` (the file is checked: every line JSON with a unique ``custom_id``, ``method``
POST, ``url`` equal to the batch's endpoint; else ``failed`` with ``errors``), ``in_progress``
(``request_counts`` grow), ``finalizing`` (the output file of 200s and the error file of the
rest are written, purpose ``batch_output``), ``completed``. ``cancel`` gives ``cancelling`` then
``cancelled``, and a batch still running at ``expires_at`` ends ``expired``; both keep the
lines done so far, and the lines not run go to the error file (code ``batch_cancelled`` /
``batch_expired``).

Time: with no header a batch takes as long as planning its lines (a create is answered
``validating``; the next GET usually sees ``completed``). Two request headers on the create
slow it for tests: ``X-Mock-Batch-Seconds: S`` spreads S seconds over the lines, and
``X-Mock-Batch-Expires-In: S`` moves ``expires_at`` S seconds after creation (default 24 h).
Caps: `Limits.batch_requests` lines per input file, and the file store's caps for the output.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.journal import Journal
from hookwire.mockserver.limits import LimitExceeded
from hookwire.mockserver.openai import misc
from hookwire.mockserver.openai.chat import chat_completions
from hookwire.mockserver.openai.completions import completions
from hookwire.mockserver.openai.errors import ApiError, api_endpoint, json_body
from hookwire.mockserver.openai.files import FileStore, NotFound, files_of, lookup
from hookwire.mockserver.replies import json_reply

ENDPOINTS = {
    "/v1/chat/completions": chat_completions,
    "/v1/embeddings": misc.embeddings,
    "/v1/completions": completions,
}
#: what OpenAI accepts as `endpoint` (the mock runs the three above; the rest are refused)
OPENAI_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
TERMINAL = frozenset({"failed", "completed", "expired", "cancelled"})
DAY = 24 * 3600
LIST_LIMIT = 100


@dataclass
class _Batch:
    id: str
    endpoint: str
    input_file_id: str
    created_at: int
    expires_at: int
    metadata: dict[str, str] | None
    seconds: float
    status: str = "validating"
    times: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0,
                                                            "failed": 0})
    errors: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    model: str | None = None
    cancel: bool = False
    task: asyncio.Task[None] | None = None

    def public(self) -> dict[str, Any]:
        """The ``batch`` object (spec ``Batch``); ids of files not written are left out."""
        out: dict[str, Any] = {
            "id": self.id, "object": "batch", "endpoint": self.endpoint,
            "input_file_id": self.input_file_id, "completion_window": "24h",
            "status": self.status, "created_at": self.created_at, "expires_at": self.expires_at,
            "request_counts": dict(self.counts), "metadata": self.metadata,
        }
        out.update(self.times)
        if self.errors:
            out["errors"] = {"object": "list", "data": list(self.errors)}
        for key in ("output_file_id", "error_file_id", "model"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def enter(self, status: str) -> None:
        self.status = status
        self.times[f"{status}_at"] = int(time.time())


class _Batches:
    def __init__(self) -> None:
        self.items: dict[str, _Batch] = {}
        self.lock = threading.Lock()


_STORES: weakref.WeakKeyDictionary[Journal, _Batches] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _batches(ctx: RequestContext) -> _Batches:
    with _STORES_LOCK:
        store = _STORES.get(ctx.journal)
        if store is None:
            store = _STORES[ctx.journal] = _Batches()
        return store


def _seconds(request: Request, name: str, default: float) -> float:
    raw = request.headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= DAY:
        raise ApiError(400, f"{name} must be seconds in [0, {DAY}], not {raw!r}.")
    return value


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or len(value) > 16
            or not all(isinstance(k, str) and len(k) <= 64 and isinstance(v, str)
                       and len(v) <= 512 for k, v in value.items())):
        raise ApiError(400, "Invalid 'metadata': at most 16 string pairs, keys up to 64 and "
                       "values up to 512 characters.", param="metadata")
    return value


@lookup
async def create_batch(request: Request) -> Response:
    """POST /v1/batches: validate the arguments, answer ``validating``, run it in a task."""
    ctx: RequestContext = request.scope["mock"]
    body = await json_body(request)
    file_id = body.get("input_file_id")
    endpoint = body.get("endpoint")
    if not isinstance(file_id, str):
        raise ApiError(400, "Missing required parameter: 'input_file_id'.", "input_file_id")
    if endpoint not in OPENAI_ENDPOINTS:
        raise ApiError(400, f"Invalid value for 'endpoint': {endpoint!r}. Supported values are: "
                       + ", ".join(f"'{e}'" for e in OPENAI_ENDPOINTS) + ".", "endpoint")
    if endpoint not in ENDPOINTS:
        raise ApiError(400, f"The mock server runs batches for {', '.join(ENDPOINTS)} only, "
                       f"not {endpoint}.", "endpoint")
    if body.get("completion_window") != "24h":
        raise ApiError(400, "Invalid value for 'completion_window': only '24h' is supported.",
                       "completion_window")
    metadata = _metadata(body.get("metadata"))
    stored = files_of(ctx).get(file_id)
    if stored is None:
        raise NotFound(f"File '{file_id}' not found.", "input_file_id")
    if stored.purpose != "batch":
        raise ApiError(400, f"File {file_id} has purpose {stored.purpose!r}, not 'batch'.",
                       "input_file_id")
    now = int(time.time())
    expires = now + int(_seconds(request, "x-mock-batch-expires-in", DAY))
    batch = _Batch(f"batch_{uuid.uuid4().hex[:24]}", endpoint, file_id, now, expires, metadata,
                   _seconds(request, "x-mock-batch-seconds", 0.0))
    store = _batches(ctx)
    with store.lock:
        store.items[batch.id] = batch
    answer = batch.public()
    batch.task = asyncio.get_running_loop().create_task(_run(ctx, batch, stored.data))
    return json_reply(answer)


def _lines(ctx: RequestContext, batch: _Batch, data: bytes) -> list[dict[str, Any]] | None:
    """The input's request lines, or None with ``batch.errors`` filled in (at most 100)."""
    limit = ctx.config.limits.batch_requests
    raw_lines = [line for line in data.splitlines() if line.strip()]
    if len(raw_lines) > limit:
        exc = LimitExceeded("batch requests", len(raw_lines), "batch_requests", limit)
        batch.errors.append({"code": "too_many_requests", "message": str(exc),
                             "param": None, "line": None})
        return None
    seen: set[str] = set()
    lines = []
    for number, raw in enumerate(raw_lines, 1):
        problem = _problem(raw, batch.endpoint, seen)
        if isinstance(problem, str):
            batch.errors.append({"code": "invalid_request", "message": problem, "param": None,
                                 "line": number})
            if len(batch.errors) >= 100:
                break
        else:
            lines.append(problem)
    if not raw_lines:
        batch.errors.append({"code": "empty_file", "message": "The input file has no requests.",
                             "param": None, "line": None})
    return None if batch.errors else lines


def _problem(raw: bytes, endpoint: str, seen: set[str]) -> dict[str, Any] | str:
    try:
        line = json.loads(raw)
    except ValueError:
        return "The line is not valid JSON."
    if not isinstance(line, dict):
        return "The line must be a JSON object."
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return "Missing 'custom_id' (a non-empty string)."
    if custom_id in seen:
        return f"The custom_id {custom_id!r} is used twice; each must be unique."
    seen.add(custom_id)
    if line.get("method") != "POST":
        return "'method' must be 'POST'."
    if line.get("url") != endpoint:
        return f"'url' {line.get('url')!r} does not match the batch's endpoint {endpoint!r}."
    if not isinstance(line.get("body"), dict):
        return "'body' must be a JSON object."
    return line


async def _run(ctx: RequestContext, batch: _Batch, data: bytes) -> None:
    """The batch's task: a failure of the mock itself ends it ``failed``, never stuck."""
    try:
        await _steps(ctx, batch, data)
    except Exception as exc:  # a bug here must not leave a batch in_progress forever
        batch.errors.append({"code": "server_error", "message": f"mock server: {exc!r}",
                             "param": None, "line": None})
        batch.enter("failed")


async def _steps(ctx: RequestContext, batch: _Batch, data: bytes) -> None:
    files = files_of(ctx)
    await asyncio.sleep(0)  # the create's answer says "validating" before anything moves
    lines = _lines(ctx, batch, data)
    if lines is None:
        batch.enter("failed")
        return
    batch.counts["total"] = len(lines)
    batch.enter("in_progress")
    pause = batch.seconds / len(lines)
    done: list[bytes] = []
    failed: list[bytes] = []
    size, cap = 0, ctx.config.limits.stored_file_bytes
    for k, line in enumerate(lines):
        if batch.cancel or time.time() >= batch.expires_at:
            break
        status, body = await _answer(ctx, batch, line)
        out = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line["custom_id"],
               "response": {"status_code": status, "request_id": f"req_{uuid.uuid4().hex}",
                            "body": body}, "error": None}
        encoded = json.dumps(out).encode() + b"\n"
        size += len(encoded)
        if size > cap:  # the output could never be stored: stop before it fills memory
            exc = LimitExceeded("batch output bytes", size, "stored_file_bytes", cap)
            batch.errors.append({"code": "output_too_large", "message": str(exc),
                                 "param": None, "line": k + 1})
            batch.enter("failed")
            return
        (done if status == 200 else failed).append(encoded)
        batch.counts["completed" if status == 200 else "failed"] += 1
        if pause:
            await asyncio.sleep(pause)
        elif k % 32 == 31:
            await asyncio.sleep(0)  # let /health and the GETs in between lines
    else:
        k = len(lines)
    rest = lines[k:]
    final = "completed"
    if rest:
        final, code = ("cancelled", "batch_cancelled") if batch.cancel else (
            "expired", "batch_expired")
        for line in rest:
            message = "This request was not run: the batch was " + final + "."
            out = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line["custom_id"],
                   "response": None, "error": {"code": code, "message": message}}
            failed.append(json.dumps(out).encode() + b"\n")
    if final == "completed":
        batch.enter("finalizing")
    _write(ctx, files, batch, done, failed)
    batch.enter(final)


def _write(ctx: RequestContext, files: FileStore, batch: _Batch, done: list[bytes],
           failed: list[bytes]) -> None:
    limits = ctx.config.limits
    try:
        if done:
            batch.output_file_id = files.add(f"{batch.id}_output.jsonl", "batch_output",
                                             b"".join(done), limits).id
        if failed:
            batch.error_file_id = files.add(f"{batch.id}_error.jsonl", "batch_output",
                                            b"".join(failed), limits).id
    except LimitExceeded as exc:
        batch.errors.append({"code": "output_too_large", "message": str(exc), "param": None,
                             "line": None})


async def _answer(ctx: RequestContext, batch: _Batch, line: dict[str, Any]) -> tuple[int, Any]:
    """One line through the mock's own endpoint: (status, JSON body)."""
    body = line["body"]
    if body.get("stream"):
        error = ctx.dialect.error_body(400, "A batch request must not stream: remove 'stream'.",
                                       "stream", None)
        return 400, error
    if isinstance(body.get("model"), str) and batch.model is None:
        batch.model = body["model"]
    sub = RequestContext(ctx.config, ctx.dialect, ctx.models, ctx.journal, None,
                         body=json.dumps(body).encode())
    scope = {"type": "http", "method": "POST", "path": batch.endpoint, "headers": [],
             "query_string": b"", "mock": sub}
    response = await ENDPOINTS[batch.endpoint](Request(scope))
    payload = bytes(response.body)
    try:
        return response.status_code, json.loads(payload)
    except ValueError:
        return response.status_code, {"error": {"message": payload.decode("utf-8", "replace")}}


def _stored(ctx: RequestContext, request: Request) -> _Batch:
    batch_id = request.path_params["batch_id"]
    store = _batches(ctx)
    with store.lock:
        batch = store.items.get(batch_id)
    if batch is None:
        raise NotFound(f"Batch '{batch_id}' not found.", "batch_id")
    return batch


@lookup
async def retrieve_batch(request: Request) -> Response:
    """GET /v1/batches/{batch_id}."""
    return json_reply(_stored(request.scope["mock"], request).public())


@lookup
async def cancel_batch(request: Request) -> Response:
    """POST /v1/batches/{batch_id}/cancel: ``cancelling`` until the running line ends."""
    batch = _stored(request.scope["mock"], request)
    if batch.status in TERMINAL:
        if batch.status == "cancelled":
            return json_reply(batch.public())
        raise ApiError(409, f"Cannot cancel a batch with status '{batch.status}'.")
    batch.cancel = True
    batch.enter("cancelling")
    return json_reply(batch.public())


@api_endpoint
async def list_batches(request: Request) -> Response:
    """GET /v1/batches[?after=&limit=], newest first."""
    ctx: RequestContext = request.scope["mock"]
    store = _batches(ctx)
    with store.lock:
        items = list(reversed(store.items.values()))
    after = request.query_params.get("after")
    if after:
        ids = [b.id for b in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    raw = request.query_params.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= LIST_LIMIT:
        raise ApiError(400, f"Invalid 'limit': expected an integer in [1, {LIST_LIMIT}].",
                       "limit")
    page = items[:limit]
    out: dict[str, Any] = {"object": "list", "data": [b.public() for b in page],
                           "has_more": len(items) > limit}
    if page:
        out.update(first_id=page[0].id, last_id=page[-1].id)
    return json_reply(out)
