"""POST /v1/completions: the legacy text endpoint (raw text; reasoning inline as <think>)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.limits import LimitExceeded
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.chat import (
    FINGERPRINT,
    check_generated,
    check_logprobs,
    completion_id,
    over_limit,
    validate_sampling,
)
from hookwire.mockserver.openai.errors import (
    ApiError,
    api_endpoint,
    check_model,
    json_object,
    off_loop,
)
from hookwire.mockserver.openai.reply import Reply, plan_text
from hookwire.mockserver.openai.stream import interleave, reply_latency, sse_response
from hookwire.mockserver.replies import JSONReply
from hookwire.mockserver.sse import dumps


def prompts(body: dict[str, Any]) -> list[str]:
    """`prompt` as a list of strings (token-id prompts are decoded with the mock tokenizer)."""
    prompt = body.get("prompt")
    if prompt is None:
        raise ApiError(400, "Missing required parameter: 'prompt'.", param="prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return list(prompt)
        try:
            if all(isinstance(p, int) for p in prompt):
                return [tokens.decode(prompt)]
            if all(isinstance(p, list) for p in prompt):
                return [tokens.decode(p) for p in prompt]
        except ValueError as exc:
            raise ApiError(400, f"Invalid 'prompt': {exc}", param="prompt") from None
    raise ApiError(400, "Invalid 'prompt': expected a string, strings or token ids.", "prompt")


@api_endpoint
async def completions(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    kind, value, n_tokens = await off_loop(ctx, _complete, ctx)
    if kind == "stream":
        return sse_response(ctx, value, ctx.dialect.error_body(500, "mock fault: error-at"))
    await reply_latency(ctx, n_tokens)
    return JSONReply(value)


def _complete(ctx: RequestContext) -> tuple[str, Any, int]:
    """The CPU work of a completion (see `chat._chat`): (kind, body or payloads, tokens)."""
    limits = ctx.config.limits
    body = json_object(ctx.body, limits.json_depth)
    texts = prompts(body)
    if len(texts) > limits.inputs:
        raise over_limit(LimitExceeded("prompts", len(texts), "inputs", limits.inputs), "prompt")
    validate_sampling(body, limits)
    top = _top_logprobs(ctx, body)
    model = check_model(ctx, body)
    n = body.get("n") or 1
    choices = len(texts) * n
    if choices > limits.choices:
        what = f"choices ({len(texts)} prompts x n={n})"
        raise over_limit(LimitExceeded(what, choices, "choices", limits.choices), "n")
    if ctx.reply_tokens is not None:  # refuse before generating a word of it
        check_generated(ctx, choices, ctx.reply_tokens)
    # choice 0 of each prompt first: refuse before planning the other n - 1 of each
    planned = [plan_text(ctx, model, p, body) for p in texts]
    check_generated(ctx, n, sum(r.completion_tokens for r in planned))
    replies = [
        first if j == 0 else plan_text(ctx, model, p, body, j)
        for p, first in zip(texts, planned, strict=True)
        for j in range(n)
    ]
    if top is not None:
        check_logprobs(ctx, sum(tokens.count(r.content or "") for r in replies), top)
    prompt_tokens = sum(tokens.count(p) for p in texts)
    completion = sum(r.completion_tokens for r in replies)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
    base = {
        "id": completion_id(ctx, "cmpl"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": FINGERPRINT,
    }
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return "stream", _chunks(ctx, base, replies, usage if include_usage else None, top), 0
    out = []
    for i, reply in enumerate(replies):
        text = reply.content or ""
        logprobs = None
        if top is not None:
            logprobs = tokens.completion_logprobs(tokens.pieces(text), 0, 0, top)
        out.append(_choice(i, text, reply.finish_reason, logprobs))
    data = {**base, "choices": out, "usage": usage}
    return "json", dumps(data), max(r.completion_tokens for r in planned)


def _top_logprobs(ctx: RequestContext, body: dict[str, Any]) -> int | None:
    """The legacy `logprobs`: None, or how many alternatives per token (0..the dialect's cap)."""
    top = body.get("logprobs")
    if top is None:
        return None
    high = ctx.dialect.completion_logprobs
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= high:
        raise ApiError(
            400, f"Invalid 'logprobs': {top!r}; expected an integer in [0, {high}].", "logprobs"
        )
    return top


def _choice(
    index: int, text: str, finish: str | None, logprobs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish}


def _chunks(
    ctx: RequestContext,
    base: dict[str, Any],
    replies: list[Reply],
    usage: dict[str, Any] | None,
    top: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The stream's payloads, made one at a time as they are sent (choices round robin)."""
    no_done = ctx.rule is not None and ctx.rule.no_done

    def one(i: int, reply: Reply) -> Iterator[dict[str, Any]]:
        offset = 0
        for k, piece in enumerate(tokens.iter_pieces(reply.content or "")):
            logprobs = None
            if top is not None:
                logprobs = tokens.completion_logprobs([piece], k, offset, top)
                offset += len(piece)
            yield {**base, "choices": [_choice(i, piece, None, logprobs)]}
        if not no_done:
            yield {**base, "choices": [_choice(i, "", reply.finish_reason)]}

    yield from interleave([one(i, reply) for i, reply in enumerate(replies)])
    if usage is not None and not no_done:
        yield {**base, "choices": [], "usage": usage}
