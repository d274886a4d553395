"""Streams of chat deltas: assembly, deadlines and failure semantics, shared by sync and async.

Three pieces, each small:

* :class:`Accumulator` folds deltas into a :class:`ChatResult` (tool-call fragments joined by
  index), so a stream's ``result()`` and a failed stream's ``.partial`` come from one place.
* :class:`StreamDeadlines` decides, from timestamps the caller passes in, whether the first-token,
  idle or total deadline has passed (sans-IO: tests drive it with a fake clock).
* :class:`ChatStream` / :class:`AsyncChatStream` wrap any iterator of deltas (an SSE reader, a
  local model's streamer) and give every provider the same contract: a failure after the first
  delta is :class:`StreamInterrupted`; an end without a finish_reason is :class:`StreamTruncated`;
  every stream error carries ``.partial``; closing or abandoning a stream closes its source
  (and so its connection).

:func:`iter_sse` / :func:`aiter_sse` are the two loops that feed a response's bytes through a
:class:`~hookwire.llm._openai_wire.ChunkParser` under :class:`StreamDeadlines`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hookwire.errors import (
    BodyTooLarge,
    DeadlineExceeded,
    DecodingError,
    ReadTimeout,
    StreamError,
    StreamInterrupted,
    StreamTruncated,
    TransportError,
)
from hookwire.llm.types import (
    ChatDelta,
    ChatResult,
    Choice,
    StreamTimeout,
    TokenLogprob,
    ToolCall,
    ToolRun,
    Usage,
)

if TYPE_CHECKING:
    from hookwire._clock import Clock
    from hookwire._models import Response
    from hookwire.llm._openai_wire import ChunkParser

__all__ = [
    "Accumulator", "AsyncChatStream", "ChatStream", "StreamDeadlines", "aiter_sse", "iter_sse"
]

log = logging.getLogger("hookwire.llm")

DoneCallback = Callable[[ChatResult], None]


class _ChoiceParts:
    """The pieces of one choice so far."""

    __slots__ = ("content", "finish_reason", "logprobs", "reasoning", "tools")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.tools: dict[int, list[Any]] = {}  # index -> [id, name, [argument fragments]]
        self.logprobs: list[TokenLogprob] | None = None
        self.finish_reason: str | None = None

    def choice(self, index: int) -> Choice:
        calls = [
            ToolCall(slot[0], slot[1], "".join(slot[2]))
            for _, slot in sorted(self.tools.items())
        ]
        reasoning = "".join(self.reasoning)
        return Choice(index, "".join(self.content), reasoning or None, self.finish_reason,
                      calls, self.logprobs)


class Accumulator:
    """Folds deltas into the reply so far; ``started`` once any content/reasoning/tool arrived.

    Each choice (``delta.index``) is folded apart; the result's own fields are choice 0's.
    """

    __slots__ = ("_choices", "_first", "raw", "started", "usage")

    def __init__(self) -> None:
        self._first = _ChoiceParts()
        self._choices: dict[int, _ChoiceParts] = {0: self._first}
        self.usage: Usage | None = None
        self.raw: Any = None
        self.started = False

    @property
    def finish_reason(self) -> str | None:
        return self._first.finish_reason

    @property
    def unfinished(self) -> list[int]:
        """Indexes of the choices that have not sent a finish_reason."""
        return [i for i, parts in sorted(self._choices.items()) if parts.finish_reason is None]

    def add(self, delta: ChatDelta) -> None:
        index = delta.index
        parts = self._first if not index else self._choices.get(index)
        if parts is None:
            parts = self._choices[index] = _ChoiceParts()
        if delta.content:
            parts.content.append(delta.content)
            self.started = True
        if delta.reasoning:
            parts.reasoning.append(delta.reasoning)
            self.started = True
        for part in delta.tool_calls:
            self.started = True
            slot = parts.tools.get(part.index)
            if slot is None:
                slot = parts.tools[part.index] = [part.id or "", part.name or "", []]
            else:
                slot[0] = slot[0] or part.id or ""
                slot[1] = slot[1] or part.name or ""
            if part.arguments:
                slot[2].append(part.arguments)
        if delta.logprobs is not None:
            if parts.logprobs is None:
                parts.logprobs = []
            parts.logprobs.extend(delta.logprobs)
        if delta.finish_reason:
            parts.finish_reason = delta.finish_reason
        if delta.usage is not None:
            self.usage = delta.usage
        if delta.raw is not None:
            self.raw = delta.raw

    def result(self, *, provider: str, model: str) -> ChatResult:
        head = self._first.choice(0)
        raw = self.raw if isinstance(self.raw, dict) else {}
        return ChatResult(
            content=head.content,
            reasoning=head.reasoning,
            finish_reason=head.finish_reason,
            usage=self.usage,
            tool_calls=head.tool_calls,
            model=str(raw.get("model") or model),
            raw=self.raw,
            provider=provider,
            logprobs=head.logprobs,
            more_choices=[
                parts.choice(i) for i, parts in sorted(self._choices.items()) if i
            ],
        )


class StreamDeadlines:
    """The first-token, idle and total deadlines of one stream, decided from given times.

    ``progress(now)`` is called when a data chunk arrived (a first token: ``token=True``);
    ``check(now)`` when only bytes without progress arrived (keep-alive comments, a role-only
    chunk). Comments deliberately never count as progress: see :class:`StreamTimeout`.
    """

    __slots__ = ("_last", "_started", "_token", "timeout")

    def __init__(self, timeout: StreamTimeout, now: float) -> None:
        self.timeout = timeout
        self._started = now
        self._last = now
        self._token = False

    def progress(self, now: float, *, token: bool) -> None:
        if token or self._token:
            self._check_total(now)
            self._token = True
            self._last = now
        else:
            self.check(now)

    def check(self, now: float) -> None:
        self._check_total(now)
        t = self.timeout
        if not self._token:
            if t.first_token is not None and now - self._started > t.first_token:
                raise ReadTimeout(f"no first token within first_token={t.first_token:g}s")
        elif t.idle is not None and now - self._last > t.idle:
            raise ReadTimeout(f"no chunk for more than idle={t.idle:g}s (keep-alives do not count)")

    def _check_total(self, now: float) -> None:
        total = self.timeout.total
        if total is not None and now - self._started > total:
            raise DeadlineExceeded(f"the stream passed its total deadline of {total:g}s")


def _note(parser: ChunkParser, deltas: list[ChatDelta], events: int) -> bool | None:
    """True: a token arrived; False: a data event without one; None: no event at all."""
    if deltas:
        return True
    return False if parser.events != events else None


def iter_sse(
    response: Response, parser: ChunkParser, deadlines: StreamDeadlines, clock: Clock
) -> Iterator[ChatDelta]:
    """The sync loop: bytes -> parser -> deltas, with the deadlines checked per chunk."""
    monotonic = clock.monotonic
    for chunk in response.iter_raw():
        events = parser.events
        deltas = parser.feed(chunk)
        seen = _note(parser, deltas, events)
        if seen is None:
            deadlines.check(monotonic())
        else:
            deadlines.progress(monotonic(), token=seen)
        yield from deltas
    yield from parser.flush()


async def aiter_sse(
    response: Response, parser: ChunkParser, deadlines: StreamDeadlines, clock: Clock
) -> AsyncIterator[ChatDelta]:
    """The async twin of :func:`iter_sse`."""
    monotonic = clock.monotonic
    async for chunk in response.aiter_raw():
        events = parser.events
        deltas = parser.feed(chunk)
        seen = _note(parser, deltas, events)
        if seen is None:
            deadlines.check(monotonic())
        else:
            deadlines.progress(monotonic(), token=seen)
        for delta in deltas:
            yield delta
    for delta in parser.flush():
        yield delta


class _StreamBase:
    """State and failure rules shared by the two stream classes (they differ only in colour)."""

    def __init__(self, *, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self._acc = Accumulator()
        self._state = "open"  # open | done | failed | closed
        self._error: BaseException | None = None
        self._result: ChatResult | None = None
        self._callbacks: list[DoneCallback] = []
        self._check: DoneCallback | None = None
        self._final: Callable[[ChatResult], ChatResult] | None = None
        self._partial_of: Callable[[], ChatResult | None] | None = None
        #: Through a tool loop: every tool run so far (it grows between the replies).
        self.tool_runs: list[ToolRun] = []
        self._first_token: Callable[[], None] | None = None
        self._observed_end: Callable[[ChatResult | None, BaseException | None], None] | None = (
            None
        )

    def _set_check(self, check: DoneCallback | None) -> None:
        """Run ``check(result)`` when the stream ends, before it counts as done: ``LLM.stream``
        parses a structured reply here; an error it raises fails the stream."""
        self._check = check

    def _set_loop(
        self,
        runs: list[ToolRun],
        final: Callable[[ChatResult], ChatResult],
        partial: Callable[[], ChatResult | None],
    ) -> None:
        """A tool loop's stream: ``final`` gives the result from the loop (not from the
        deltas of every turn folded together), ``partial`` the current reply's partial."""
        self.tool_runs, self._final, self._partial_of = runs, final, partial

    def _set_final(self, final: Callable[[ChatResult], ChatResult]) -> None:
        """``final(result)`` gives the stream's result from the one its deltas folded into."""
        self._final = final

    def _observe(
        self,
        first_token: Callable[[], None] | None,
        end: Callable[[ChatResult | None, BaseException | None], None] | None,
    ) -> None:
        """Observation hooks: ``first_token()`` at the first content/reasoning/tool delta,
        ``end(result, error)`` once, when the stream completes, fails or is closed early."""
        self._first_token, self._observed_end = first_token, end

    def _notify_end(self, result: ChatResult | None, error: BaseException | None) -> None:
        end, self._observed_end = self._observed_end, None
        if end is not None:
            end(result, error)

    @property
    def partial(self) -> ChatResult:
        """What has arrived so far, as a result (complete once the stream is done)."""
        if self._result is not None:
            return self._result
        if self._partial_of is not None:
            inner = self._partial_of()
            if inner is not None:
                return inner
        return self._acc.result(provider=self.provider, model=self.model)

    @property
    def done(self) -> bool:
        return self._state == "done"

    def add_done_callback(self, callback: DoneCallback) -> None:
        """Call ``callback(result)`` when the stream completes successfully."""
        self._callbacks.append(callback)

    def _failed(self, exc: BaseException) -> BaseException:
        """The error to raise for ``exc`` coming out of the source (partial attached)."""
        if isinstance(exc, StreamError):
            if getattr(exc, "partial", None) is None:
                exc.partial = self.partial  # type: ignore[attr-defined]
            error: BaseException = exc
        elif isinstance(exc, (DecodingError, BodyTooLarge)):
            # Invalid JSON in an event, or a size limit: the peer misbehaved but the connection
            # did not break, so the error keeps its type; what arrived is still attached.
            exc.partial = self.partial  # type: ignore[union-attr]
            error = exc
        elif isinstance(exc, TransportError) and self._acc.started:
            error = StreamInterrupted(
                f"the stream broke after it began ({type(exc).__name__}: {exc}); no retry is "
                "made past the first chunk. The partial reply is in .partial",
                request=exc.request,
                attempts=exc.attempts,
                partial=self.partial,
            )
            error.__cause__ = exc
        else:
            error = exc
        self._state, self._error = "failed", error
        self._notify_end(None, error)
        return error

    def _finished(self) -> None:
        """The source ended: complete, or raise StreamTruncated."""
        result = self._acc.result(provider=self.provider, model=self.model)
        unfinished = self._acc.unfinished
        if unfinished:
            which = "" if unfinished == [0] else f" for choice(s) {unfinished}"
            error = StreamTruncated(
                f"the stream ended without a finish_reason{which}: the reply is incomplete "
                "(the partial reply is in .partial)",
                partial=result,
            )
            self._state, self._error = "failed", error
            self._notify_end(None, error)
            raise error
        if self._final is not None:
            result = self._final(result)
        if self._check is not None:
            try:
                self._check(result)
            except Exception as exc:
                self._state, self._error = "failed", exc
                self._notify_end(None, exc)
                raise
        self._state, self._result = "done", result
        self._notify_end(result, None)
        for callback in self._callbacks:
            callback(result)

    def _ended(self) -> bool:
        """True if iteration must stop (re-raises a stored error)."""
        if self._state == "open":
            return False
        if self._error is not None:
            raise self._error
        return True


class ChatStream(_StreamBase):
    """A streamed reply: iterate for :class:`ChatDelta` objects; ``result()`` for the whole.

    ::

        with llm.stream("Tell me a story") as stream:
            for delta in stream:
                print(delta.content, end="", flush=True)
        print(stream.result().usage)

    Breaking out of the loop, ``close()``, leaving the ``with`` block or dropping the last
    reference all close the source and its connection.
    """

    def __init__(
        self,
        source: Iterator[ChatDelta],
        *,
        provider: str,
        model: str,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(provider=provider, model=model)
        self._source = source
        self._on_close = on_close

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> ChatDelta:
        if self._ended():
            raise StopIteration
        try:
            delta = next(self._source)
        except StopIteration:
            self._finished()
            raise
        except Exception as exc:
            error = self._failed(exc)
            self.close()
            if error is exc:
                raise
            raise error from exc
        self._acc.add(delta)
        if self._first_token is not None and self._acc.started:
            first, self._first_token = self._first_token, None
            first()
        return delta

    def result(self) -> ChatResult:
        """Consume the rest of the stream and return the assembled reply."""
        for _ in self:
            pass
        if self._result is None:
            raise self._error or StreamTruncated("the stream was closed before it finished",
                                                 partial=self.partial)
        return self._result

    def text(self) -> Iterator[str]:
        """Only the content pieces (reasoning skipped): ``for piece in stream.text(): ...``."""
        for delta in self:
            if delta.content:
                yield delta.content

    def close(self) -> None:
        """Stop reading and release the connection (safe to call twice)."""
        if self._state == "open":
            self._state = "closed"
            self._notify_end(self.partial, None)
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ChatStream {self.provider}:{self.model} {self._state}>"


class AsyncChatStream(_StreamBase):
    """The ``async`` twin of :class:`ChatStream`: ``async for``, ``await aresult()``, ``aclose()``.

    Task cancellation inside ``async for`` closes the source (its ``finally`` runs).
    """

    def __init__(
        self,
        source: AsyncIterator[ChatDelta],
        *,
        provider: str,
        model: str,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(provider=provider, model=model)
        self._source = source
        self._on_close = on_close

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> ChatDelta:
        if self._ended():
            raise StopAsyncIteration
        try:
            delta = await self._source.__anext__()
        except StopAsyncIteration:
            self._finished()
            raise
        except Exception as exc:
            error = self._failed(exc)
            await self.aclose()
            if error is exc:
                raise
            raise error from exc
        self._acc.add(delta)
        if self._first_token is not None and self._acc.started:
            first, self._first_token = self._first_token, None
            first()
        return delta

    async def aresult(self) -> ChatResult:
        async for _ in self:
            pass
        if self._result is None:
            raise self._error or StreamTruncated("the stream was closed before it finished",
                                                 partial=self.partial)
        return self._result

    async def atext(self) -> AsyncIterator[str]:
        async for delta in self:
            if delta.content:
                yield delta.content

    async def aclose(self) -> None:
        if self._state == "open":
            self._state = "closed"
            self._notify_end(self.partial, None)
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            outcome = on_close()
            if hasattr(outcome, "__await__"):
                await outcome

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncChatStream {self.provider}:{self.model} {self._state}>"
