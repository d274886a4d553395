"""``llm.batch(items)`` / ``await llm.abatch(items)``: many requests, bounded, retried, resumable.

::

    results = llm.batch(["one", "two", {"id": "q3", "prompt": "three", "max_tokens": 50}],
                        concurrency=16, checkpoint="job.jsonl")
    for item in results:
        print(item.id, item.result.content if item.ok else item.error)

Items are prompts (a string, a message dict or a list of them), dicts of chat options with an
``"id"`` and a ``"prompt"`` or ``"messages"``, or OpenAI batch request lines (``{"custom_id",
"method": "POST", "url": "/v1/chat/completions" | "/v1/embeddings", "body"}``). Every item
ends as one :class:`BatchItem`, in input order: its ``result``, or its ``error`` after
``retries`` more tries of a retryable failure (429, 5xx, timeouts, network errors; a 429's
``Retry-After`` is waited out, and it pauses the LLM's ``rpm=``/``tpm=`` limiter too). One
item's failure never stops the job.

The checkpoint is a JSONL file of finished items, each line an OpenAI batch *output* line
(``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``), appended
as each item ends. A resumed job reads it first: items that succeeded are not sent again (their
results are rebuilt from the stored bodies), items that failed are tried again, and a torn last
line (a process killed mid-write) is cut off and its item redone. Durability: every line is
one ``write()`` to an unbuffered append-mode file, so a killed *process* loses at most the line
being written; the file is ``fsync``'d every :data:`FSYNC_EVERY` seconds and when the job ends,
so a *machine* crash loses at most the last few seconds of lines (they are redone, never
duplicated: the last line of an id wins).

Concurrency: ``abatch`` runs ``concurrency`` worker tasks that take the next item in turn (a
semaphore around thousands of waiting tasks does the same with more bookkeeping). The sync
``batch`` runs ``concurrency`` threads on the sync client: the provider's connection pools
stay bound to the threads' blocking client, never to a private event loop that ends with the
call (an async client made on such a loop could not be used again from the caller's own loop).
Measured (benchmarks/bench_batch.py, 2,000 prompts at 64, 2 shared cores): ``abatch`` 1.5 s,
``batch`` on threads 3.0 s, a hand-written ``asyncio.gather`` over ``AsyncOpenAI`` 8.1 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookwire.errors import (
    APIStatusError,
    InternalServerError,
    InvalidRequest,
    NetworkError,
    NoDeploymentAvailable,
    RateLimitError,
    RetryError,
    TimeoutException,
)
from hookwire.llm.types import ChatResult, EmbeddingResult, Usage
from hookwire.retry import backoff

if TYPE_CHECKING:
    from hookwire.llm.facade import LLM

__all__ = [
    "FSYNC_EVERY",
    "BatchItem",
    "BatchItemFailed",
    "BatchResult",
    "Checkpoint",
    "parse_items",
]

#: Seconds between fsyncs of the checkpoint (and one when the job ends).
FSYNC_EVERY = 2.0
CHAT_URL = "/v1/chat/completions"
EMBEDDINGS_URL = "/v1/embeddings"
URLS = (CHAT_URL, EMBEDDINGS_URL)

# chat options an OpenAI request body carries under the same name; the rest go as extra_body
_BODY_OPTIONS = ("model", "temperature", "top_p", "max_tokens", "stop", "seed", "tools",
                 "tool_choice", "response_format", "n", "logprobs", "top_logprobs")
_RETRYABLE = (RateLimitError, InternalServerError, TimeoutException, NetworkError, RetryError,
              NoDeploymentAvailable)

Progress = Callable[[int, int, int], Any]


@dataclass(slots=True)
class _Job:
    """One item, normalized: what to call and with what."""

    index: int
    id: str
    kind: str  # "chat" or "embeddings"
    prompt: Any
    options: dict[str, Any]


@dataclass(slots=True)
class BatchItem:
    """One finished item: ``result`` (a ChatResult or EmbeddingResult) or ``error``.

    ``line`` is the item as an OpenAI batch output line; ``attempts`` counts the tries this run
    made (0 for an item taken from the checkpoint, which ``resumed`` marks).
    """

    id: str
    index: int
    result: ChatResult | EmbeddingResult | None
    error: BaseException | None
    line: dict[str, Any]
    attempts: int = 0
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchResult(Sequence[BatchItem]):
    """Every item of a job, in input order; ``failed`` lists the ones that ended in an error."""

    items: list[BatchItem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __iter__(self) -> Iterator[BatchItem]:
        return iter(self.items)

    @property
    def results(self) -> list[ChatResult | EmbeddingResult | None]:
        return [item.result for item in self.items]

    @property
    def failed(self) -> list[BatchItem]:
        return [item for item in self.items if not item.ok]

    def lines(self) -> list[dict[str, Any]]:
        """The OpenAI batch output lines, in input order."""
        return [item.line for item in self.items]


class BatchItemFailed(Exception):
    """A failure read back from a checkpoint (the exception object itself is not stored)."""


# -- items --------------------------------------------------------------------------------------
def parse_items(items: Iterable[Any]) -> list[_Job]:
    """Every item as a job; a bad item or a repeated id is an InvalidRequest naming it."""
    if isinstance(items, (str, bytes, Mapping)):
        raise InvalidRequest("batch() takes a list of items, not one item")
    jobs: list[_Job] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        job = _job(index, item)
        if job.id in seen:
            raise InvalidRequest(f"item {index}: the id {job.id!r} is used twice; ids must be "
                                 "unique (each id gets exactly one output line)")
        seen.add(job.id)
        jobs.append(job)
    return jobs


def _job(index: int, item: Any) -> _Job:
    where = f"item {index}"
    if isinstance(item, (str, list)):
        return _Job(index, str(index), "chat", item, {})
    if not isinstance(item, Mapping):
        raise InvalidRequest(f"{where}: expected a prompt, a dict or a batch line, not "
                             f"{type(item).__name__}")
    if "custom_id" in item:
        return _request_line(index, item)
    if "role" in item:
        return _Job(index, str(index), "chat", dict(item), {})
    options = dict(item)
    ident = options.pop("id", index)
    if not isinstance(ident, (str, int)) or isinstance(ident, bool):
        raise InvalidRequest(f"{where}: 'id' must be a string or an int, not {ident!r}")
    prompt = options.pop("prompt", None)
    messages = options.pop("messages", None)
    if (prompt is None) == (messages is None):
        raise InvalidRequest(f"{where}: give exactly one of 'prompt' and 'messages'")
    return _Job(index, str(ident), "chat", prompt if messages is None else messages, options)


def _request_line(index: int, line: Mapping[str, Any]) -> _Job:
    """An OpenAI batch input line as a job (``custom_id``, ``method``, ``url``, ``body``)."""
    ident = line.get("custom_id")
    where = f"line {index + 1} (custom_id {ident!r})"
    if not isinstance(ident, str) or not ident:
        raise InvalidRequest(f"line {index + 1}: 'custom_id' must be a non-empty string")
    if str(line.get("method", "POST")).upper() != "POST":
        raise InvalidRequest(f"{where}: 'method' must be POST, not {line.get('method')!r}")
    url = line.get("url")
    if url not in URLS:
        raise InvalidRequest(f"{where}: 'url' must be one of {', '.join(URLS)}, not {url!r}")
    body = line.get("body")
    if not isinstance(body, Mapping):
        raise InvalidRequest(f"{where}: 'body' must be an object (the endpoint's request)")
    body = dict(body)
    if url == EMBEDDINGS_URL:
        if "input" not in body:
            raise InvalidRequest(f"{where}: an embeddings body needs 'input'")
        options = {k: body[k] for k in ("model", "dimensions") if k in body}
        return _Job(index, ident, "embeddings", body["input"], options)
    messages = body.pop("messages", None)
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest(f"{where}: a chat body needs a non-empty 'messages' list")
    body.pop("stream", None)  # SiliconFlow's examples stream; a batch result is whole
    body.pop("stream_options", None)
    options = {k: body.pop(k) for k in _BODY_OPTIONS if k in body}
    if "max_completion_tokens" in body and "max_tokens" not in options:
        options["max_tokens"] = body.pop("max_completion_tokens")
    if body:
        options["extra_body"] = body
    return _Job(index, ident, "chat", messages, options)


# -- output lines -------------------------------------------------------------------------------
def _ids() -> tuple[str, str]:
    hexed = uuid.uuid4().hex
    return f"batch_req_{hexed}", f"req_{hexed}"


def _chat_body(result: ChatResult) -> dict[str, Any]:
    if isinstance(result.raw, dict):
        return result.raw
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.reasoning is not None:
        message["reasoning_content"] = result.reasoning
    body: dict[str, Any] = {
        "object": "chat.completion", "model": result.model,
        "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason}],
    }
    if result.usage is not None:
        body["usage"] = {"prompt_tokens": result.usage.prompt_tokens,
                         "completion_tokens": result.usage.completion_tokens,
                         "total_tokens": result.usage.total_tokens}
    return body


def _embedding_body(result: EmbeddingResult) -> dict[str, Any]:
    if len(result.raw) == 1 and isinstance(result.raw[0], dict):
        return result.raw[0]
    data = [{"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(result.vectors)]
    body: dict[str, Any] = {"object": "list", "data": data, "model": result.model}
    if result.usage is not None:
        body["usage"] = {"prompt_tokens": result.usage.prompt_tokens,
                         "total_tokens": result.usage.total_tokens}
    return body


def success_line(job: _Job, result: ChatResult | EmbeddingResult) -> dict[str, Any]:
    line_id, request_id = _ids()
    body = _chat_body(result) if isinstance(result, ChatResult) else _embedding_body(result)
    return {"id": line_id, "custom_id": job.id,
            "response": {"status_code": 200, "request_id": request_id, "body": body},
            "error": None}


def error_line(job: _Job, exc: BaseException) -> dict[str, Any]:
    """An HTTP refusal as a response with its status and body (as the Batch API writes it);
    anything else as ``error: {code, message}``."""
    line_id, request_id = _ids()
    if isinstance(exc, RetryError) and isinstance(exc.__cause__, APIStatusError):
        exc = exc.__cause__
    status = exc.status_code if isinstance(exc, APIStatusError) else None
    if status is not None:
        body = getattr(exc, "body", None)
        if not isinstance(body, dict):
            body = {"error": {"message": str(exc), "type": getattr(exc, "type", None),
                              "param": getattr(exc, "param", None),
                              "code": getattr(exc, "code", None)}}
        return {"id": line_id, "custom_id": job.id,
                "response": {"status_code": status, "request_id": request_id, "body": body},
                "error": None}
    return {"id": line_id, "custom_id": job.id, "response": None,
            "error": {"code": type(exc).__name__, "message": str(exc)}}


def line_ok(line: Mapping[str, Any]) -> bool:
    response = line.get("response")
    return (line.get("error") is None and isinstance(response, Mapping)
            and response.get("status_code") == 200)


def _rebuilt(llm: LLM, job: _Job, line: dict[str, Any]) -> BatchItem:
    """A checkpointed item as a BatchItem, its result parsed again from the stored body."""
    if not line_ok(line):
        error = line.get("error") or (line.get("response") or {}).get("body")
        return BatchItem(job.id, job.index, None, BatchItemFailed(json.dumps(error)), line,
                         resumed=True)
    body = line["response"]["body"]
    result: ChatResult | EmbeddingResult
    if job.kind == "embeddings":
        usage = body.get("usage")
        result = EmbeddingResult(
            [d["embedding"] for d in sorted(body.get("data", []), key=lambda d: d["index"])],
            model=str(body.get("model", "")), provider=llm.name, raw=[body],
            usage=Usage.from_wire(usage) if isinstance(usage, dict) else None)
    else:
        from hookwire.llm import _openai_wire

        result = _openai_wire.parse_completion(body, provider=llm.name)
    return BatchItem(job.id, job.index, result, None, line, resumed=True)


# -- the checkpoint -----------------------------------------------------------------------------
class Checkpoint:
    """An append-only JSONL file of output lines (see the module doc for its durability)."""

    def __init__(self, path: str | os.PathLike[str], *, resume: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._synced = time.monotonic()
        if not resume:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.done = self._load()
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()

    def _load(self) -> dict[str, dict[str, Any]]:
        """The last line of every id; a torn or unreadable tail is cut off the file."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        done: dict[str, dict[str, Any]] = {}
        good = 0
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # torn: the process died while writing it
            try:
                line = json.loads(raw)
            except ValueError:
                break
            if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
                break
            done[line["custom_id"]] = line
            good += len(raw)
        if good < len(data):
            with open(self.path, "r+b") as f:
                f.truncate(good)
        return done

    def write(self, line: dict[str, Any]) -> None:
        data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            self._file.write(data)  # one write: the line is in the file, or it is torn
            now = time.monotonic()
            if now - self._synced >= FSYNC_EVERY:
                os.fsync(self._file.fileno())
                self._synced = now

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                with contextlib.suppress(OSError):
                    os.fsync(self._file.fileno())
                self._file.close()


# -- the job (shared by both faces) ---------------------------------------------------------------
def _retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"retries must be an int >= 0, not {value!r}")
    return value


def _concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"concurrency must be an int >= 1, not {value!r}")
    return value


def _wait(exc: BaseException, attempt: int) -> float | None:
    """Seconds before trying again, or None: not retryable."""
    if not isinstance(exc, _RETRYABLE):
        return None
    after = getattr(exc, "retry_after", None)
    if isinstance(after, (int, float)) and 0 < after <= 60:  # as openai-python: 0 is no hint
        return float(after)
    return backoff(attempt, random, base=0.25, cap=8.0)


class _Run:
    """One job's bookkeeping: which items remain, what ended, the checkpoint and callbacks."""

    def __init__(self, llm: LLM, items: Iterable[Any], concurrency: Any, retries: Any,
                 checkpoint: Checkpoint | str | os.PathLike[str] | None,
                 progress: Progress | None, on_result: Callable[[BatchItem], Any] | None,
                 resume: bool) -> None:
        self.llm = llm
        self.jobs = parse_items(items)
        self.concurrency = _concurrency(concurrency)
        self.retries = _retries(retries)
        self.progress, self.on_result = progress, on_result
        self.out: list[BatchItem | None] = [None] * len(self.jobs)
        self.checkpoint = (checkpoint if isinstance(checkpoint, Checkpoint) or checkpoint is None
                           else Checkpoint(checkpoint, resume=resume))
        self._lock = threading.Lock()
        self.completed = self.failed = 0
        self.pending = self._resume()

    def _resume(self) -> list[_Job]:
        done = self.checkpoint.done if self.checkpoint is not None else {}
        known = {job.id for job in self.jobs}
        stray = [i for i in done if i not in known]
        if stray:
            if self.checkpoint is not None:
                self.checkpoint.close()
            raise InvalidRequest(
                f"the checkpoint {str(getattr(self.checkpoint, 'path', ''))!r} holds ids this "
                f"input does not ({stray[0]!r}...): another job's? start over with resume=False"
            )
        pending = []
        for job in self.jobs:
            line = done.get(job.id)
            if line is not None and line_ok(line):
                self.out[job.index] = _rebuilt(self.llm, job, line)
                self.completed += 1
            else:
                pending.append(job)
        if self.completed and self.progress is not None:
            self.progress(self.completed, 0, len(self.jobs))
        return pending

    def finish(self, job: _Job, result: Any, error: BaseException | None, attempts: int) -> None:
        line = success_line(job, result) if error is None else error_line(job, error)
        item = BatchItem(job.id, job.index, result, error, line, attempts)
        if self.checkpoint is not None:
            self.checkpoint.write(line)
        with self._lock:
            self.out[job.index] = item
            self.completed += 1
            self.failed += error is not None
            counts = (self.completed, self.failed, len(self.jobs))
        if self.progress is not None:
            self.progress(*counts)
        if self.on_result is not None:
            self.on_result(item)

    def close(self) -> BatchResult:
        if self.checkpoint is not None:
            self.checkpoint.close()
        return BatchResult([item for item in self.out if item is not None])


def _call(llm: LLM, job: _Job) -> Any:
    if job.kind == "embeddings":
        return llm.embed(job.prompt, **job.options)
    return llm.chat(job.prompt, **job.options)


async def _acall(llm: LLM, job: _Job) -> Any:
    if job.kind == "embeddings":
        return await llm.aembed(job.prompt, **job.options)
    return await llm.achat(job.prompt, **job.options)


def run_sync(run: _Run) -> BatchResult:
    def one(job: _Job) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                result = _call(run.llm, job)
            except Exception as exc:
                wait = _wait(exc, attempt) if attempt <= run.retries else None
                if wait is None:
                    run.finish(job, None, exc, attempt)
                    return
                time.sleep(wait)
                continue
            run.finish(job, result, None, attempt)
            return

    try:
        if run.pending:
            workers = min(run.concurrency, len(run.pending))
            with ThreadPoolExecutor(workers, thread_name_prefix="hookwire-batch") as pool:
                futures = [pool.submit(one, job) for job in run.pending]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        result = run.close()
    return result


async def run_async(run: _Run) -> BatchResult:
    queue = iter(run.pending)

    async def worker() -> None:
        for job in queue:  # one shared iterator: each item goes to exactly one worker
            attempt = 0
            while True:
                attempt += 1
                try:
                    result = await _acall(run.llm, job)
                except Exception as exc:
                    wait = _wait(exc, attempt) if attempt <= run.retries else None
                    if wait is None:
                        run.finish(job, None, exc, attempt)
                        break
                    await asyncio.sleep(wait)
                    continue
                run.finish(job, result, None, attempt)
                break

    try:
        tasks = [asyncio.ensure_future(worker())
                 for _ in range(min(run.concurrency, len(run.pending)))]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    finally:
        result = run.close()
    return result


def start(llm: LLM, items: Iterable[Any], *, concurrency: int = 16, retries: int = 3,
          checkpoint: Checkpoint | str | os.PathLike[str] | None = None, resume: bool = True,
          progress: Progress | None = None,
          on_result: Callable[[BatchItem], Any] | None = None) -> _Run:
    """The job's state, every argument checked (and the checkpoint read) before any request."""
    return _Run(llm, items, concurrency, retries, checkpoint, progress, on_result, resume)
