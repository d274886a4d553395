"""POST /v1/chat/completions: validation, non-stream reply and SSE chunks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from json.encoder import encode_basestring as _text  # dumps()' string escaper (ensure_ascii off)
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.errors import (
    ApiError,
    api_endpoint,
    check_model,
    heavy,
    json_object,
)
from hookwire.mockserver.openai.reply import Reply, message_text, plan_chat
from hookwire.mockserver.openai.stream import (
    fragments,
    interleave,
    reply_latency,
    sse_response,
)
from hookwire.mockserver.replies import JSONReply
from hookwire.mockserver.sse import Template, dumps

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
FINGERPRINT = "fp_mock"


def _number(body: dict[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(
            400, f"Invalid '{key}': {value!r}; expected a number in [{low}, {high}].", param=key
        )


def _positive_int(body: dict[str, Any], key: str, high: int = 10**7) -> None:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ApiError(400, f"Invalid '{key}': {value!r}; expected an integer >= 1.", param=key)


def over_limit(exc: LimitExceeded, param: str | None) -> ApiError:
    """A cap of the mock server, as the dialect's 400 naming it (and the parameter)."""
    return ApiError(400, str(exc), param=param)


def validate_sampling(body: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> None:
    """Checks shared by chat and text completions."""
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _positive_int(body, "n", 10**7)
    n = body.get("n")
    if isinstance(n, int) and n > limits.n:
        raise over_limit(LimitExceeded("'n'", n, "n", limits.n), "n")
    _positive_int(body, "max_tokens")
    _positive_int(body, "max_completion_tokens")
    stop = body.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        raise ApiError(400, "Invalid 'stop': expected a string or a list of strings.", "stop")
    if isinstance(stop, list) and len(stop) > limits.stop:
        raise over_limit(LimitExceeded("'stop' strings", len(stop), "stop", limits.stop), "stop")
    if not isinstance(body.get("stream", False), bool):
        raise ApiError(400, "Invalid 'stream': expected a boolean.", "stream")


def validate_chat(body: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> None:
    messages = body.get("messages")
    if messages is None:
        raise ApiError(400, "Missing required parameter: 'messages'.", param="messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Invalid 'messages': expected a non-empty array.", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApiError(400, f"Invalid 'messages[{i}]': expected an object.", f"messages[{i}]")
        role = message.get("role")
        if role not in ROLES:
            raise ApiError(
                400,
                f"Invalid value for 'messages[{i}].role': {role!r}. Supported values are: "
                + ", ".join(f"'{r}'" for r in sorted(ROLES))
                + ".",
                param=f"messages[{i}].role",
            )
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise ApiError(400, "Invalid 'tools': expected an array.", param="tools")
    if tools is not None and len(tools) > limits.tools:
        raise over_limit(LimitExceeded("'tools'", len(tools), "tools", limits.tools), "tools")
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise ApiError(
            400, "Invalid 'parallel_tool_calls': expected a boolean.", "parallel_tool_calls"
        )
    validate_sampling(body, limits)
    if "logprobs" in body or "top_logprobs" in body:
        chat_top_logprobs(body)


def chat_top_logprobs(body: dict[str, Any]) -> int | None:
    """None without `logprobs: true`, else how many alternatives (`top_logprobs`, default 0).
    400 naming the field: `logprobs` not a boolean, `top_logprobs` out of 0..20 or without
    `logprobs: true` (as OpenAI answers)."""
    wanted = body.get("logprobs")
    if wanted is not None and not isinstance(wanted, bool):
        raise ApiError(400, "Invalid 'logprobs': expected a boolean.", param="logprobs")
    top = body.get("top_logprobs")
    if top is None:
        return 0 if wanted else None
    high = tokens.MAX_TOP_LOGPROBS
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= high:
        raise ApiError(
            400,
            f"Invalid 'top_logprobs': {top!r}; expected an integer in [0, {high}].",
            param="top_logprobs",
        )
    if not wanted:
        raise ApiError(
            400, "Invalid 'top_logprobs': it requires 'logprobs' to be true.", "top_logprobs"
        )
    return top


def check_logprobs(ctx: RequestContext, count: int, top: int) -> None:
    """400 when `count` tokens with `top` alternatives each are more than a reply may carry."""
    limit = ctx.config.limits.logprob_values
    values = count * (1 + top)
    if values > limit:
        what = f"log probabilities ({count} tokens x (1 + {top}))"
        exc = LimitExceeded(what, values, "logprob_values", limit)
        raise over_limit(exc, "top_logprobs" if top else "logprobs")


def chat_logprobs(ctx: RequestContext, content: str | None, top: int) -> dict[str, Any]:
    """A choice's `logprobs`: one entry per piece of the content (the stream's pieces)."""
    pieces = tokens.iter_pieces(content or "")
    entries = [tokens.chat_logprob(piece, k, top) for k, piece in enumerate(pieces)]
    if ctx.dialect.logprobs_refusal:
        return {"content": entries, "refusal": None}
    return {"content": entries}


def check_generated(ctx: RequestContext, choices: int, per_choice: int) -> None:
    """400 when `choices` replies of `per_choice` tokens are more than one request may make."""
    limits = ctx.config.limits
    total = choices * per_choice
    if total > limits.generated_tokens:
        what = f"generated tokens ({choices} choices x {per_choice} tokens)"
        exc = LimitExceeded(what, total, "generated_tokens", limits.generated_tokens)
        raise over_limit(exc, "n" if choices > 1 else None)


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in reply.tool_calls
    ]


def _usage(prompt_tokens: int, replies: list[Reply]) -> dict[str, Any]:
    completion = sum(r.completion_tokens for r in replies)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "completion_tokens_details": {"reasoning_tokens": sum(r.reasoning_tokens for r in replies)},
    }


def completion_id(ctx: RequestContext, prefix: str) -> str:
    return f"{prefix}-mock{ctx.entry.seq if ctx.entry else 0:08d}"


@api_endpoint
async def chat_completions(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    # off_loop's test inline: this is the hot path, and an extra coroutine costs a microsecond
    kind, value, n_tokens = await asyncio.to_thread(_chat, ctx) if heavy(ctx) else _chat(ctx)
    if kind == "stream":
        return sse_response(ctx, value, ctx.dialect.error_body(500, "mock fault: error-at"))
    if ctx.config.ttft or ctx.config.inter_token_delay:
        await reply_latency(ctx, n_tokens)
    return JSONReply(value)


def _chat(ctx: RequestContext) -> tuple[str, Any, int]:
    """Everything of a chat reply that is CPU work: parse, validate, plan, render (or the
    stream's payloads, made as it is sent). Returns (kind, body or payloads, tokens)."""
    body = json_object(ctx.body, ctx.config.limits.json_depth)
    validate_chat(body, ctx.config.limits)
    model = check_model(ctx, body)
    n = body.get("n") or 1
    if ctx.reply_tokens is not None:  # refuse before generating a word of it
        check_generated(ctx, n, ctx.reply_tokens)
    reply = plan_chat(ctx, model, body)
    check_generated(ctx, n, reply.completion_tokens)  # before planning the other n - 1
    replies = [reply, *(plan_chat(ctx, model, body, i) for i in range(1, n))]
    top = chat_top_logprobs(body) if "logprobs" in body else None
    if top is not None:
        check_logprobs(ctx, sum(tokens.count(r.content or "") for r in replies), top)
    prompt_tokens = sum(tokens.count(message_text(m)) for m in body["messages"])
    base = {
        "id": completion_id(ctx, "chatcmpl"),
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": FINGERPRINT,
    }
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return "stream", _chunks(ctx, base, replies, prompt_tokens, include_usage, top), 0
    rendered = render_completion(ctx, base, replies, prompt_tokens, top)
    return "json", rendered, reply.completion_tokens


def _opt(text: str | None) -> str:
    return "null" if text is None else _text(text)


def render_completion(
    ctx: RequestContext,
    base: dict[str, Any],
    replies: list[Reply],
    prompt_tokens: int,
    top_logprobs: int | None = None,
) -> bytes:
    """The ``chat.completion`` object as `hookwire.mockserver.sse.dumps` would encode it, by
    template.

    The envelope never changes shape, so only its strings are encoded (by the same C escaper
    `dumps` uses); building the dict and walking it with the encoder cost 3x more. Layout:
    id, created, model, system_fingerprint, object, choices [index, message {role, content,
    refusal, <reasoning field>?, tool_calls?}, logprobs, finish_reason], usage.
    """
    field = _text(ctx.dialect.reasoning_field)
    choices = []
    for i, reply in enumerate(replies):
        message = f'{{"role":"assistant","content":{_opt(reply.content)},"refusal":null'
        if reply.reasoning is not None:
            message += f",{field}:{_text(reply.reasoning)}"
        if reply.tool_calls:
            message += ',"tool_calls":' + dumps(_tool_calls(reply)).decode()
        logprobs = "null"
        if top_logprobs is not None:
            logprobs = dumps(chat_logprobs(ctx, reply.content, top_logprobs)).decode()
        choices.append(
            f'{{"index":{i},"message":{message}}},"logprobs":{logprobs},'
            f'"finish_reason":{_opt(reply.finish_reason)}}}'
        )
    completion = sum(r.completion_tokens for r in replies)
    reasoning = sum(r.reasoning_tokens for r in replies)
    return (
        f'{{"id":{_text(base["id"])},"created":{base["created"]:d},"model":{_text(base["model"])},'
        f'"system_fingerprint":{_text(base["system_fingerprint"])},"object":"chat.completion",'
        f'"choices":[{",".join(choices)}],"usage":{{"prompt_tokens":{prompt_tokens:d},'
        f'"completion_tokens":{completion:d},"total_tokens":{prompt_tokens + completion:d},'
        f'"completion_tokens_details":{{"reasoning_tokens":{reasoning:d}}}}}}}'
    ).encode()


def _chunks(
    ctx: RequestContext,
    base: dict[str, Any],
    replies: list[Reply],
    prompt_tokens: int,
    include_usage: bool,
    top_logprobs: int | None = None,
) -> Iterator[dict[str, Any] | bytes]:
    """Every chunk payload: role first, reasoning, content, tool calls, then finish and usage.
    With n > 1 the choices' chunks go round robin (`interleave`), each one's finish as it ends.

        Token chunks come pre-encoded (JSON bytes from a `Template`); the rest are dicts. Made one
        at a time as the stream is sent: a million-token stream never exists in memory at once.
    """
    rule = ctx.rule
    no_done = rule is not None and rule.no_done
    field = ctx.dialect.reasoning_field
    entry = ctx.entry
    # what the stream sent, for the journal (contract coverage): noted as each part begins
    sent = entry.sent if entry is not None else _ignore
    sent("role")
    head = {**base, "object": "chat.completion.chunk"}

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [choice]}

    def template(index: int, key: str) -> Template:
        choice = {"index": index, "delta": {key: Template.SLOT}, "logprobs": None}
        return Template({**head, "choices": [{**choice, "finish_reason": None}]})

    def one(i: int, reply: Reply) -> Iterator[dict[str, Any] | bytes]:
        yield chunk(i, {"role": "assistant", "content": ""})
        if reply.reasoning:
            sent("reasoning")
            fill = template(i, field).fill
            yield from map(fill, tokens.iter_pieces(reply.reasoning))
        if reply.content:
            sent("content")
            if top_logprobs is None:
                fill = template(i, "content").fill
                yield from map(fill, tokens.iter_pieces(reply.content))
            else:
                yield from _logprob_chunks(ctx, head, i, reply.content, top_logprobs)
        for j, call in enumerate(reply.tool_calls):
            sent("tool-calls")
            start = {"index": j, "id": call.id, "type": "function"}
            yield chunk(
                i, {"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]}
            )
            for frag in fragments(call.arguments):
                yield chunk(i, {"tool_calls": [{"index": j, "function": {"arguments": frag}}]})
        if not no_done:
            yield chunk(i, {}, reply.finish_reason)

    yield from interleave([one(i, reply) for i, reply in enumerate(replies)])
    if include_usage and not no_done:
        sent("usage")
        yield {**head, "choices": [], "usage": _usage(prompt_tokens, replies)}


def _logprob_chunks(
    ctx: RequestContext, head: dict[str, Any], index: int, content: str, top: int
) -> Iterator[dict[str, Any]]:
    """Content chunks that carry the `logprobs` of their piece (the path that asks for them)."""
    refusal = ctx.dialect.logprobs_refusal
    for k, piece in enumerate(tokens.iter_pieces(content)):
        logprobs: dict[str, Any] = {"content": [tokens.chat_logprob(piece, k, top)]}
        if refusal:
            logprobs["refusal"] = None
        choice = {"index": index, "delta": {"content": piece}, "logprobs": logprobs}
        yield {**head, "choices": [{**choice, "finish_reason": None}]}


def _ignore(feature: str) -> None:
    """`sent` when there is no journal entry to note stream features in."""
