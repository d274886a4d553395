"""Streams over a generation running on a worker thread: ``LocalStream`` and ``AsyncLocalStream``.

The engine starts ``model.generate`` on a thread with a ``TextIteratorStreamer``; these classes
read its text chunks, pass them through the SDK's reasoning splitter (``hookwire.reasoning``) and a
stop-string cutter, and own the thread's lifetime. The rule they keep: **a stream nobody reads
must not keep generating.** ``close()`` (also ``__exit__``, the async ``aclose()``, task
cancellation, and ``__del__`` as a last resort) sets the generation's cancel event, which a
``StoppingCriteria`` checks at every step, then joins the thread with a bounded wait.

No torch import here: the streamer and the job arrive from the engine.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from hookwire.errors import GenerationError, ReadTimeout
from hookwire.reasoning import ReasoningSplitter, Segment

from ._local_text import StopCutter

__all__ = [
    "AsyncLocalStream",
    "GenerationError",
    "GenerationJob",
    "LocalStream",
    "RowStream",
    "Usage",
]

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class Usage:
    """Token counts of one generation, as OpenAI's ``usage`` reports them."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class GenerationJob:
    """A generation on a worker thread: its cancel flag, and what it left behind.

    ``output_ids`` is the completion's token ids once ``generate`` has returned (also after a
    cancel: generation stops early and returns what it had); ``error`` is what it raised.
    """

    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    output_ids: list[int] | None = None
    #: Every sequence's token ids, for a batch of ``n`` (``output_ids`` is the first).
    output_rows: list[list[int]] | None = None
    error: BaseException | None = None

    def join(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for the thread; True when it has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
            return not self.thread.is_alive()
        return True


Summarize = Callable[[list[int]], "tuple[FinishReason | None, Usage]"]


class LocalStream:
    """An iterator of ``(kind, text)`` deltas (``Segment``), kind ``"reasoning"`` or ``"content"``.

    Use it as a context manager, or call ``close()``, to stop generation before its end::

        with engine.stream(messages) as stream:
            for kind, text in stream:
                ...
        stream.finish_reason, stream.usage

    ``finish_reason`` is ``"stop"`` or ``"length"`` once the generation has ended by itself, and
    ``None`` while it runs or when closing the stream cut it short. ``usage`` is set after the
    end, after an early close too (with the tokens generated until the stop took effect).
    """

    def __init__(
        self,
        *,
        source: Iterator[str],
        job: GenerationJob,
        splitter: ReasoningSplitter,
        stops: list[str] | None,
        summarize: Summarize,
        join_timeout: float,
        recorder: Any = None,
    ) -> None:
        self._source = source
        self._job = job
        self._splitter = splitter
        self._cutter = StopCutter(stops)
        self._summarize = summarize
        self._join_timeout = join_timeout
        self._pending: deque[Segment] = deque()
        self._done = False
        self._parts: list[str] = []
        self._recorder = recorder
        self._taken: dict[int, int] = {}
        self.finish_reason: FinishReason | None = None
        self.usage: Usage | None = None

    def __iter__(self) -> LocalStream:
        return self

    def __next__(self) -> Segment:
        while not self._pending:
            if self._done:
                raise StopIteration
            try:
                text = next(self._source)
            except StopIteration:
                self._end()
            except queue.Empty as exc:
                self.close()
                raise ReadTimeout(
                    "the local model produced no text within the stream timeout"
                ) from exc
            else:
                self._take(self._splitter.feed(text))
        delta = self._pending.popleft()
        self._parts.append(delta[1])
        return delta

    def _take(self, segments: list[Segment]) -> None:
        for kind, text in segments:
            if kind == "content":
                text = self._cutter.feed(text)
            if text:
                self._pending.append(Segment(kind, text))

    def _end(self) -> None:
        """The worker ended the text queue: flush the stages, then collect the result."""
        self._take(self._splitter.flush())
        tail = self._cutter.flush()
        if tail:
            self._pending.append(Segment("content", tail))
        self._done = True
        self._job.join(self._join_timeout)
        error = self._job.error
        if error is not None:
            cause = error.__cause__ if isinstance(error, GenerationError) else error
            raise GenerationError(str(error), partial="".join(self._parts)) from cause
        self._collect()

    def _collect(self) -> None:
        if self._job.output_ids is not None and self.usage is None:
            self.finish_reason, self.usage = self._summarize(self._job.output_ids)

    @property
    def logprobs(self) -> bool:
        """Whether the generation records log probabilities (``logprobs=`` was given)."""
        return self._recorder is not None

    def take_logprobs(self, index: int = 0) -> list[Any]:
        """Sequence ``index``'s content-token ``TokenLogprob`` entries since the last call.

        Entries can run a little ahead of the text (the streamer holds text back until it is
        printable); after the end, one more call hands out the rest. Empty without ``logprobs=``.
        """
        if self._recorder is None:
            return []
        start = self._taken.get(index, 0)
        entries: list[Any] = self._recorder.take(index, start)
        self._taken[index] = start + len(entries)
        return entries

    def cancel(self) -> None:
        """Ask the generation to stop at its next step; returns at once (no join)."""
        self._job.cancel.set()

    def close(self) -> None:
        """Stop generation and wait (bounded) for the worker thread to end. Idempotent."""
        self._done = True
        thread = self._job.thread
        if thread is not None and thread.is_alive():
            self._job.cancel.set()
            self._job.join(self._join_timeout)
        if self._job.error is None:
            self._collect()

    def __enter__(self) -> LocalStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Last resort for a stream dropped without close(): stop the thread, never block in GC.
        job = getattr(self, "_job", None)
        if job is not None and job.thread is not None and job.thread.is_alive():
            job.cancel.set()

    @property
    def thread(self) -> threading.Thread | None:
        """The generation's worker thread (for diagnostics and tests)."""
        return self._job.thread


SummarizeRows = Callable[[list[list[int]]], "list[tuple[FinishReason | None, Usage]]"]


class RowStream(LocalStream):
    """The ``n`` sequences of one batch, streamed: items are ``(index, (kind, text))``.

    Each sequence has its own reasoning splitter and stop cutter; items of different sequences
    interleave as their text becomes printable. After the end ``finish_reasons`` holds each
    sequence's (``finish_reason`` is the first's) and ``usage`` counts the prompt once and
    every sequence's completion tokens. Closing, cancelling and timeouts are ``LocalStream``'s.
    """

    def __init__(
        self,
        *,
        source: Iterator[tuple[int, str | None]],
        job: GenerationJob,
        splitters: list[ReasoningSplitter],
        stops: list[str] | None,
        summarize_rows: SummarizeRows,
        join_timeout: float,
        recorder: Any = None,
    ) -> None:
        super().__init__(
            source=source,  # type: ignore[arg-type]
            job=job,
            splitter=splitters[0],
            stops=stops,
            summarize=lambda ids: (None, Usage(0, 0)),
            join_timeout=join_timeout,
            recorder=recorder,
        )
        self._rows = source
        self._splitters = splitters
        self._cutters = [StopCutter(stops) for _ in splitters]
        self._open = set(range(len(splitters)))
        self._row_pending: deque[tuple[int, Segment]] = deque()
        self._summarize_rows = summarize_rows
        self.finish_reasons: list[FinishReason | None] = [None] * len(splitters)

    @property
    def n(self) -> int:
        return len(self._splitters)

    def __next__(self) -> tuple[int, Segment]:  # type: ignore[override]
        while not self._row_pending:
            if self._done:
                raise StopIteration
            try:
                row, text = next(self._rows)
            except queue.Empty as exc:
                self.close()
                raise ReadTimeout(
                    "the local model produced no text within the stream timeout"
                ) from exc
            if text is None:
                self._end_row(row)
            else:
                self._take_row(row, self._splitters[row].feed(text))
        index, delta = self._row_pending.popleft()
        self._parts.append(delta[1])
        return index, delta

    def _take_row(self, row: int, segments: list[Segment]) -> None:
        for kind, text in segments:
            if kind == "content":
                text = self._cutters[row].feed(text)
            if text:
                self._row_pending.append((row, Segment(kind, text)))

    def _end_row(self, row: int) -> None:
        if row not in self._open:
            return
        self._open.discard(row)
        self._take_row(row, self._splitters[row].flush())
        tail = self._cutters[row].flush()
        if tail:
            self._row_pending.append((row, Segment("content", tail)))
        if not self._open:
            self._end()

    def _end(self) -> None:
        self._done = True
        self._job.join(self._join_timeout)
        error = self._job.error
        if error is not None:
            cause = error.__cause__ if isinstance(error, GenerationError) else error
            raise GenerationError(str(error), partial="".join(self._parts)) from cause
        self._collect()

    def _collect(self) -> None:
        rows = self._job.output_rows
        if rows is not None and self.usage is None:
            summaries = self._summarize_rows(rows)
            self.finish_reasons = [reason for reason, _ in summaries]
            self.finish_reason = self.finish_reasons[0]
            prompt = summaries[0][1].prompt_tokens
            self.usage = Usage(prompt, sum(u.completion_tokens for _, u in summaries))


_END = object()


def _cancel_opened(opening: asyncio.Future[LocalStream]) -> None:
    """A stream finished opening after its consumer was cancelled: stop it, never block."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result().cancel()


class AsyncLocalStream:
    """The async face of ``LocalStream``: ``async for kind, text in stream``.

    A pump thread iterates the blocking stream and hands each delta to the event loop with
    ``call_soon_threadsafe``, so the loop never blocks. Cancelling the task that awaits a delta,
    ``aclose()`` or leaving ``async with`` stops the generation and waits for both threads.
    """

    def __init__(self, open_stream: Callable[[], LocalStream]) -> None:
        self._open = open_stream
        self._stream: LocalStream | None = None
        self._queue: asyncio.Queue[tuple[object, Any]] = asyncio.Queue()
        self._pump: threading.Thread | None = None
        self._finished = False

    @property
    def stream(self) -> LocalStream | None:
        """The blocking stream underneath, once started (``take_logprobs()`` lives there)."""
        return self._stream

    @property
    def finish_reason(self) -> FinishReason | None:
        return self._stream.finish_reason if self._stream is not None else None

    @property
    def usage(self) -> Usage | None:
        return self._stream.usage if self._stream is not None else None

    def __aiter__(self) -> AsyncLocalStream:
        return self

    async def __anext__(self) -> Segment:
        if self._finished:
            raise StopAsyncIteration
        if self._pump is None:
            await self._start()
        try:
            tag, value = await self._queue.get()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        if tag is _END:
            self._finished = True
            if value is not None:
                raise value
            raise StopAsyncIteration
        return value  # type: ignore[no-any-return]

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        # Rendering and tokenising a long prompt takes time too: keep it off the loop.
        opening = asyncio.ensure_future(asyncio.to_thread(self._open))
        try:
            self._stream = stream = await asyncio.shield(opening)
        except asyncio.CancelledError:
            self._finished = True
            opening.add_done_callback(_cancel_opened)
            raise

        def put(tag: object, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, (tag, value))
            except RuntimeError:  # the loop has closed; nobody is listening any more
                stream.cancel()

        def pump() -> None:
            try:
                for delta in stream:
                    put(None, delta)
            except BaseException as exc:
                put(_END, exc)
            else:
                put(_END, None)

        self._pump = threading.Thread(target=pump, name="hookwire-local-pump", daemon=True)
        self._pump.start()

    async def aclose(self) -> None:
        """Stop generation and wait (bounded) for the worker and pump threads."""
        self._finished = True
        stream = self._stream
        if stream is None:
            return
        stream.cancel()
        if self._pump is not None:
            await asyncio.to_thread(self._pump.join, stream._join_timeout)
        await asyncio.to_thread(stream.close)

    async def __aenter__(self) -> AsyncLocalStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
