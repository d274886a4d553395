"""POST /v1/completions: the legacy text endpoint (raw text; reasoning inline as <think>)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.chat import FINGERPRINT, completion_id, validate_sampling
from hookwire.mockserver.openai.errors import ApiError, api_endpoint, check_model, json_body
from hookwire.mockserver.openai.reply import Reply, plan_text
from hookwire.mockserver.openai.stream import reply_latency, sse_response
from hookwire.mockserver.replies import json_reply


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
    body = await json_body(request)
    texts = prompts(body)
    validate_sampling(body)
    model = check_model(ctx, body)
    n = body.get("n") or 1
    replies = [plan_text(ctx, model, p, body) for p in texts for _ in range(n)]
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
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        payloads = _chunks(ctx, base, replies, usage if include_usage else None)
        return sse_response(ctx, payloads, ctx.dialect.error_body(500, "mock fault: error-at"))
    await reply_latency(ctx, max(r.completion_tokens for r in replies))
    data = {
        **base,
        "choices": [_choice(i, r.content or "", r.finish_reason) for i, r in enumerate(replies)],
        "usage": usage,
    }
    return json_reply(data)


def _choice(index: int, text: str, finish: str | None) -> dict[str, Any]:
    return {"index": index, "text": text, "logprobs": None, "finish_reason": finish}


def _chunks(
    ctx: RequestContext, base: dict[str, Any], replies: list[Reply], usage: dict[str, Any] | None
) -> list[dict[str, Any]]:
    no_done = ctx.rule is not None and ctx.rule.no_done
    out = []
    for i, reply in enumerate(replies):
        for piece in tokens.pieces(reply.content or ""):
            out.append({**base, "choices": [_choice(i, piece, None)]})
        if not no_done:
            out.append({**base, "choices": [_choice(i, "", reply.finish_reason)]})
    if usage is not None and not no_done:
        out.append({**base, "choices": [], "usage": usage})
    return out
