"""The OpenAI Responses API: ``POST /v1/responses`` (JSON or typed event stream) and
``GET``/``DELETE /v1/responses/{response_id}``.

What the model says is planned by the chat endpoint's planner (`reply.plan_chat`) from the
request read as a chat body (`responses_input`); this module shapes the plan as a ``Response``
object (spec ``Response``): a ``reasoning`` item for a thinking model (its text as a
``summary_text``), a ``message`` item with one ``output_text`` part, ``function_call`` items.
A reply cut by ``max_output_tokens`` is ``status: "incomplete"``. With ``store`` (default
true) the response is kept, per server and bounded, for ``GET`` and ``previous_response_id``.
The stream's events are in `responses_stream`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.journal import Journal
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.chat import check_generated
from hookwire.mockserver.openai.errors import (
    ApiError,
    api_endpoint,
    check_model,
    heavy,
    json_object,
    off_loop,
)
from hookwire.mockserver.openai.reply import Reply, message_text, plan_chat
from hookwire.mockserver.openai.responses_input import (
    chat_body,
    history_of_output,
    validate_response_request,
)
from hookwire.mockserver.openai.responses_stream import stream_response
from hookwire.mockserver.openai.stream import reply_latency
from hookwire.mockserver.replies import json_reply

__all__ = ["create_response", "delete_response", "retrieve_response"]

# What a server keeps of stored responses (oldest dropped first): so many, and so many
# characters of their conversations, reasoning and arguments together.
STORE_RESPONSES = 1024
STORE_CHARS = 32 * 1024 * 1024
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


@dataclass
class _Stored:
    response: dict[str, Any]
    history: list[dict[str, Any]]  # the conversation, for a next turn's previous_response_id
    chars: int


class _Store:
    """One server's stored responses (the server's journal is its key: one per app)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, _Stored] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def put(self, response_id: str, item: _Stored) -> None:
        with self._lock:
            self._items[response_id] = item
            self._chars += item.chars
            while self._items and (len(self._items) > STORE_RESPONSES or self._chars > STORE_CHARS):
                _, old = self._items.popitem(last=False)
                self._chars -= old.chars

    def get(self, response_id: str) -> _Stored | None:
        with self._lock:
            return self._items.get(response_id)

    def pop(self, response_id: str) -> _Stored | None:
        with self._lock:
            item = self._items.pop(response_id, None)
            if item is not None:
                self._chars -= item.chars
            return item


_STORES: weakref.WeakKeyDictionary[Journal, _Store] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _store(ctx: RequestContext) -> _Store:
    with _STORES_LOCK:
        store = _STORES.get(ctx.journal)
        if store is None:
            store = _STORES[ctx.journal] = _Store()
        return store


def _missing(response_id: str) -> str:
    return f"Response with id '{response_id}' not found."


def _tool_echo(tool: dict[str, Any]) -> dict[str, Any]:
    """A request's function tool as the response lists it (spec FunctionTool, all its keys)."""
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict", True),
    }


def _output(reply: Reply, base: str) -> list[dict[str, Any]]:
    status = "incomplete" if reply.finish_reason in _INCOMPLETE else "completed"
    items: list[dict[str, Any]] = []
    if reply.reasoning is not None:
        summary = [{"type": "summary_text", "text": reply.reasoning}]
        items.append({"type": "reasoning", "id": f"rs_{base}", "summary": summary})
    if reply.content is not None and (reply.content or status == "completed"):
        part = {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": f"msg_{base}",
                "role": "assistant",
                "status": status,
                "content": [part],
            }
        )
    for j, call in enumerate(reply.tool_calls):
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{base}_{j}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return items


def _envelope(body: dict[str, Any], response_id: str, model: str, created: int) -> dict[str, Any]:
    """The response in progress: what the request set, no output yet, no usage (the spec's
    `usage` is an object, never null: it first comes with the final response)."""
    reasoning = body.get("reasoning") or {}
    fmt = (body.get("text") or {}).get("format") or {"type": "text"}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        # a background response is done before the first poll: the mock answers at once
        "background": body.get("background", False),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_tool_echo(t) for t in body.get("tools") or []],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
    }


def _usage(input_tokens: int, reply: Reply) -> dict[str, Any]:
    output = reply.completion_tokens
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": input_tokens + output,
    }


def _finished(
    envelope: dict[str, Any], reply: Reply, base: str, input_tokens: int
) -> dict[str, Any]:
    reason = _INCOMPLETE.get(reply.finish_reason)
    done = {
        **envelope,
        "status": "completed" if reason is None else "incomplete",
        "completed_at": int(time.time()) if reason is None else None,
        "incomplete_details": None if reason is None else {"reason": reason},
        "output": _output(reply, base),
        "usage": _usage(input_tokens, reply),
    }
    return done


def _plan(ctx: RequestContext) -> tuple[dict[str, Any], dict[str, Any], Reply, bool]:
    """CPU work of a reply: parse, check, plan, store. Returns (the in-progress response, the
    final one, the plan, whether to stream)."""
    body = json_object(ctx.body, ctx.config.limits.json_depth)
    validate_response_request(body, ctx.config.limits)
    model = check_model(ctx, body)
    history: list[dict[str, Any]] = []
    previous = body.get("previous_response_id")
    if previous:
        stored = _store(ctx).get(previous)
        if stored is None:
            raise ApiError(400, _missing(previous), param="previous_response_id")
        history = stored.history
    chat, turn = chat_body(body, history, ctx.config.limits)
    if ctx.reply_tokens is not None:  # refuse before generating a word of it
        check_generated(ctx, 1, ctx.reply_tokens)
    reply = plan_chat(ctx, model, chat)
    check_generated(ctx, 1, reply.completion_tokens)
    input_tokens = sum(tokens.count(message_text(m)) for m in chat["messages"])
    seq = ctx.entry.seq if ctx.entry else 0
    response_id = f"resp_mock{seq:08d}"
    envelope = _envelope(body, response_id, model, int(time.time()))
    final = _finished(envelope, reply, f"mock{seq:08d}", input_tokens)
    if body.get("store", True):
        history = [*turn, *history_of_output(final["output"])]
        # what the entry keeps alive: the conversation's text and the reply's (roughly)
        chars = sum(len(message_text(m)) for m in history) + len(reply.reasoning or "")
        chars += sum(len(c.arguments) for c in reply.tool_calls)
        _store(ctx).put(response_id, _Stored(final, history, chars))
    return envelope, final, reply, body.get("stream") is True


@api_endpoint
async def create_response(request: Request) -> Response:
    """POST /v1/responses."""
    ctx: RequestContext = request.scope["mock"]
    planned = await asyncio.to_thread(_plan, ctx) if heavy(ctx) else _plan(ctx)
    envelope, final, reply, stream = planned
    if stream:
        return stream_response(ctx, envelope, final)
    if ctx.config.ttft or ctx.config.inter_token_delay:
        await reply_latency(ctx, reply.completion_tokens)
    return await off_loop(ctx, json_reply, final)


def _not_found(ctx: RequestContext, response_id: str) -> Response:
    error = ctx.dialect.error_body(404, _missing(response_id))
    if ctx.dialect.name != "vllm":
        error["error"]["code"] = None  # OpenAI names no code here (the 404 default: a model)
    return json_reply(error, 404)


@api_endpoint
async def retrieve_response(request: Request) -> Response:
    """GET /v1/responses/{response_id}: a stored response (``?stream=true``: its events
    again), else 404."""
    ctx: RequestContext = request.scope["mock"]
    response_id = request.path_params["response_id"]
    stored = _store(ctx).get(response_id)
    if stored is None:
        return _not_found(ctx, response_id)
    final = stored.response
    if request.query_params.get("stream", "").lower() == "true":
        skipped = ("output", "usage", "status", "completed_at", "incomplete_details")
        envelope = {k: v for k, v in final.items() if k not in skipped}
        envelope.update(status="in_progress", completed_at=None, incomplete_details=None, output=[])
        return stream_response(ctx, envelope, final)
    return await off_loop(ctx, json_reply, final)


@api_endpoint
async def delete_response(request: Request) -> Response:
    """DELETE /v1/responses/{response_id}: forget a stored response, else 404."""
    ctx: RequestContext = request.scope["mock"]
    response_id = request.path_params["response_id"]
    if _store(ctx).pop(response_id) is None:
        return _not_found(ctx, response_id)
    return json_reply({"id": response_id, "object": "response.deleted", "deleted": True})
