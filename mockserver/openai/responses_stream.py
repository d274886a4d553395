"""The Responses API's typed event stream (spec ``ResponseStreamEvent``).

Each event is ``event: <type>`` plus one ``data:`` line holding the JSON, with a
``sequence_number`` counted from 0; there is no ``data: [DONE]`` (the spec's example stream
ends with ``response.completed``). Order: ``response.created``, ``response.in_progress``, then
per output item ``response.output_item.added``, its part or summary part added, its text
deltas (one token piece each) and done, the part done, ``response.output_item.done``, and last
``response.completed`` (``response.incomplete`` when ``max_output_tokens`` cut the reply).
The stream faults act on events: ``error-at=N`` sends an ``error`` event (spec
``ResponseErrorEvent``) as event N and ends, ``malformed-at=N`` cuts event N's JSON, ``no-done``
leaves out the final ``response.completed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.responses import StreamingResponse

from hookwire.mockserver import sse
from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.stream import SSE_HEADERS, YIELD_EVERY, fragments

__all__ = ["stream_response"]

_SLOT = sse.Template.SLOT
# (type, payload without its number, or a delta: its template and text)
Event = tuple[str, "dict[str, Any] | tuple[_Numbered, str]"]


class _Numbered:
    """Encode many events that differ in one string and in their sequence number, cheaply.

    `sse.Template` splices one string into a pre-encoded payload; a Responses event also
    carries its own number, so the payload's last key is ``sequence_number`` and the number is
    spliced in before the closing brace.
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        before, _, after = sse.dumps({**payload, "sequence_number": 0}).partition(
            sse.dumps(sse.Template.SLOT)
        )
        if not after.endswith(b":0}"):
            raise ValueError("payload must hold Template.SLOT and end with sequence_number")
        self._before = before
        self._after = after[:-2]

    def fill(self, text: str, number: int) -> bytes:
        return self._before + sse.dumps(text) + self._after + b"%d}" % number


def _reasoning_events(item: dict[str, Any], index: int) -> Iterator[Event]:
    text = item["summary"][0]["text"]
    ids = {"item_id": item["id"], "output_index": index, "summary_index": 0}
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {"type": "reasoning", "id": item["id"], "summary": []},
        },
    )
    empty = {"type": "summary_text", "text": ""}
    yield "response.reasoning_summary_part.added", {**ids, "part": empty}
    delta = _Numbered({"type": "response.reasoning_summary_text.delta", **ids, "delta": _SLOT})
    for piece in tokens.iter_pieces(text):
        yield "response.reasoning_summary_text.delta", (delta, piece)
    yield "response.reasoning_summary_text.done", {**ids, "text": text}
    yield "response.reasoning_summary_part.done", {**ids, "part": item["summary"][0]}
    yield "response.output_item.done", {"output_index": index, "item": item}


def _message_events(item: dict[str, Any], index: int) -> Iterator[Event]:
    part = item["content"][0]
    ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        },
    )
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    yield "response.content_part.added", {**ids, "part": empty}
    delta = _Numbered({"type": "response.output_text.delta", **ids, "delta": _SLOT, "logprobs": []})
    for piece in tokens.iter_pieces(part["text"]):
        yield "response.output_text.delta", (delta, piece)
    yield "response.output_text.done", {**ids, "text": part["text"], "logprobs": []}
    yield "response.content_part.done", {**ids, "part": part}
    yield "response.output_item.done", {"output_index": index, "item": item}


def _call_events(item: dict[str, Any], index: int) -> Iterator[Event]:
    ids = {"item_id": item["id"], "output_index": index}
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {**item, "arguments": "", "status": "in_progress"},
        },
    )
    delta = _Numbered({"type": "response.function_call_arguments.delta", **ids, "delta": _SLOT})
    for frag in fragments(item["arguments"]):
        yield "response.function_call_arguments.delta", (delta, frag)
    yield (
        "response.function_call_arguments.done",
        {
            **ids,
            "name": item["name"],
            "arguments": item["arguments"],
        },
    )
    yield "response.output_item.done", {"output_index": index, "item": item}


_ITEM_EVENTS = {"reasoning": _reasoning_events, "message": _message_events}


def events(envelope: dict[str, Any], final: dict[str, Any]) -> Iterator[Event]:
    """Every event of the stream but its numbers, made one at a time as it is sent."""
    yield "response.created", {"response": envelope}
    yield "response.in_progress", {"response": envelope}
    for index, item in enumerate(final["output"]):
        yield from _ITEM_EVENTS.get(item["type"], _call_events)(item, index)
    terminal = "response.completed" if final["status"] == "completed" else "response.incomplete"
    yield terminal, {"response": final}


def _encode(kind: str, payload: dict[str, Any] | tuple[_Numbered, str], number: int) -> bytes:
    if isinstance(payload, tuple):
        data = payload[0].fill(payload[1], number)
    else:
        data = sse.dumps({"type": kind, **payload, "sequence_number": number})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


async def _send(ctx: RequestContext, stream: Iterator[Event]) -> AsyncIterator[bytes]:
    rule = ctx.rule
    ttft = ctx.config.ttft
    gap = ctx.config.inter_token_delay
    for i, (kind, payload) in enumerate(stream):
        if i == 0 and ttft:
            await asyncio.sleep(ttft)
        elif i > 0 and gap:
            await asyncio.sleep(gap)
        elif i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        if rule is not None:
            if rule.error_at == i:
                error = {
                    "type": "error",
                    "code": "server_error",
                    "message": "mock fault: error-at",
                    "param": None,
                    "sequence_number": i,
                }
                yield b"event: error\ndata: " + sse.dumps(error) + b"\n\n"
                return
            if rule.no_done and kind in ("response.completed", "response.incomplete"):
                return
            if rule.malformed_at == i:
                raw = _encode(kind, payload, i)
                head, _, data = raw.partition(b"\ndata: ")
                yield head + b"\ndata: " + data[: max(1, (len(data) - 2) // 2)] + b"\n\n"
                continue
        yield _encode(kind, payload, i)


def stream_response(
    ctx: RequestContext, envelope: dict[str, Any], final: dict[str, Any]
) -> StreamingResponse:
    """The event stream of a planned response (`envelope`: in progress; `final`: as stored)."""
    return StreamingResponse(
        _send(ctx, events(envelope, final)), media_type="text/event-stream", headers=SSE_HEADERS
    )
