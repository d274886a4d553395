"""Turn a list of event payloads into an SSE body, applying latency and stream faults.

Faults that change *what* is sent live here (malformed-at, error-at, no-done); faults that cut
the connection (close-after, stall-after) act on the ASGI `send` in `hookwire.mockserver.app`, so
they
work for every endpoint, streaming or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypeVar

from starlette.responses import StreamingResponse

from hookwire.mockserver import sse
from hookwire.mockserver.context import RequestContext

T = TypeVar("T")
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
# Let other requests run every this many events: a client that reads as fast as we write never
# makes `send` wait, so without it a million-event stream would hold the loop for its whole
# length (/health, other streams, SIGTERM handling all waiting). 256 events are about a ms.
YIELD_EVERY = 256


async def _events(
    ctx: RequestContext, payloads: Iterable[dict[str, Any] | bytes], error: dict[str, Any]
) -> AsyncIterator[bytes]:
    rule = ctx.rule
    ttft = ctx.config.ttft
    gap = ctx.config.inter_token_delay
    for i, payload in enumerate(payloads):
        if i == 0 and ttft:
            await asyncio.sleep(ttft)
        elif i > 0 and gap:
            await asyncio.sleep(gap)
        elif i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        if rule is not None:
            if rule.error_at == i:
                yield sse.event(error)
                return
            if rule.malformed_at == i:
                yield sse.malformed(payload)
                continue
        yield sse.event(payload)
    if rule is None or not rule.no_done:
        yield sse.DONE


def sse_response(
    ctx: RequestContext, payloads: Iterable[dict[str, Any] | bytes], error: dict[str, Any]
) -> StreamingResponse:
    """An event-stream response; `error` is the dialect error payload used by `error-at`."""
    return StreamingResponse(
        _events(ctx, payloads, error), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def reply_latency(ctx: RequestContext, n_tokens: int) -> None:
    """A non-stream reply waits as long as the stream would have taken."""
    delay = ctx.config.ttft + ctx.config.inter_token_delay * max(n_tokens - 1, 0)
    if delay:
        await asyncio.sleep(delay)


def fragments(text: str, size: int = 8) -> Iterator[str]:
    """Cut tool-call arguments into fixed-size fragments (like a model emitting JSON tokens)."""
    if not text:
        yield ""
    for i in range(0, len(text), size):
        yield text[i : i + size]


def interleave(streams: list[Iterator[T]]) -> Iterator[T]:
    """Round robin over the choices' payload streams: one payload of each in turn, a stream
    leaving when it ends (how vLLM and OpenAI send the tokens of n > 1 choices)."""
    if len(streams) == 1:
        yield from streams[0]
        return
    active = streams
    while active:
        still: list[Iterator[T]] = []
        for stream in active:
            for payload in stream:
                yield payload
                still.append(stream)
                break
        active = still
