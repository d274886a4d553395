"""Models, embeddings, vLLM's tokenize/detokenize, health and version."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import struct
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.limits import LimitExceeded
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.dialects import MAX_MODEL_LEN
from hookwire.mockserver.openai.errors import (
    ApiError,
    api_endpoint,
    check_model,
    heavy,
    json_object,
    off_loop,
)
from hookwire.mockserver.replies import JSONReply, json_reply
from hookwire.mockserver.sse import dumps

VERSION = "0.1.0-mock"
DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 8192


@api_endpoint
async def list_models(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    return json_reply(
        {"object": "list", "data": [ctx.dialect.model_card(m) for m in sorted(ctx.models)]}
    )


@api_endpoint
async def retrieve_model(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    model_id = request.scope["path"][len("/v1/models/") :]
    check_model(ctx, {"model": model_id})
    return json_reply(ctx.dialect.model_card(model_id))


def embed(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: sha256 counter-mode bytes mapped to [-1, 1], normalised.

    The text is hashed once and the counter blocks hash that digest: hashing the whole text
    per 32-byte block made one 10 MiB input at 8,192 dimensions hash 10 GB.
    """
    seed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    blocks = []
    for counter in range((dimensions * 4 + 31) // 32):
        blocks.append(hashlib.sha256(counter.to_bytes(4, "big") + seed).digest())
    raw = b"".join(blocks)
    ints = struct.unpack(f">{dimensions}I", raw[: dimensions * 4])
    vec = [(i / 0xFFFFFFFF) * 2 - 1 for i in ints]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _inputs(body: dict[str, Any]) -> list[str]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return list(value)
        try:
            if all(isinstance(v, int) for v in value):
                return [tokens.decode(value)]
            if all(isinstance(v, list) for v in value):
                return [tokens.decode(v) for v in value]
        except ValueError as exc:
            raise ApiError(400, f"Invalid 'input': {exc}", param="input") from None
    if value is None:
        raise ApiError(400, "Missing required parameter: 'input'.", param="input")
    raise ApiError(400, "Invalid 'input': expected a string, strings or token ids.", "input")


# From this many embedding values on, the vectors are made in a worker thread: the largest
# allowed request (2M values, 45 MB of JSON) takes a second or two of CPU that /health and the
# other requests should not wait for.
_VALUES_OFF_LOOP = 131_072


@api_endpoint
async def embeddings(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    limits = ctx.config.limits
    body = await off_loop(ctx, json_object, ctx.body, limits.json_depth)
    texts = _inputs(body)
    if len(texts) > limits.inputs:
        exc = LimitExceeded("embedding inputs", len(texts), "inputs", limits.inputs)
        raise ApiError(400, str(exc), "input")
    model = check_model(ctx, body)
    dims = body.get("dimensions", DEFAULT_DIMENSIONS)
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMENSIONS:
        raise ApiError(400, f"Invalid 'dimensions': expected 1..{MAX_DIMENSIONS}.", "dimensions")
    values = len(texts) * dims
    if values > limits.embedding_values:
        what = f"embedding values ({len(texts)} inputs x {dims} dimensions)"
        exc = LimitExceeded(what, values, "embedding_values", limits.embedding_values)
        raise ApiError(400, str(exc), "input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise ApiError(
            400, "Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format"
        )
    if values >= _VALUES_OFF_LOOP or heavy(ctx):
        return JSONReply(await asyncio.to_thread(_embedding_list, texts, dims, fmt, model))
    return JSONReply(_embedding_list(texts, dims, fmt, model))


def _embedding_list(texts: list[str], dims: int, fmt: str, model: str) -> bytes:
    """The ``list`` object of embeddings, as JSON.

    Each item is encoded on its own and the envelope written around them: in a worker thread
    too, one dumps() of 2M floats would hold the GIL, and so the event loop, for a second.
    """
    items = []
    for i, text in enumerate(texts):
        vec: Any = embed(text, dims)
        if fmt == "base64":
            vec = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
        items.append(dumps({"object": "embedding", "index": i, "embedding": vec}))
    used = sum(tokens.count(t) for t in texts)
    usage = dumps({"prompt_tokens": used, "total_tokens": used})
    return (
        b'{"object":"list","data":[' + b",".join(items) + b'],"model":' + dumps(model)
        + b',"usage":' + usage + b"}"
    )  # fmt: skip


def _int_list(ids: list[int], slice_size: int = 65_536) -> bytes:
    """`dumps(ids)`, a slice at a time (each a short C call: see `_embedding_list`)."""
    parts = (dumps(ids[i : i + slice_size])[1:-1] for i in range(0, len(ids), slice_size))
    return b"[" + b",".join(parts) + b"]"


def chat_template(messages: Any, add_generation_prompt: bool) -> str:
    """A Qwen-style (ChatML) rendering of messages, for /tokenize with `messages`."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "Invalid 'messages': expected a list of objects.", "messages")
    parts = []
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else ""
        parts.append(f"<|im_start|>{m.get('role')}\n{text}<|im_end|>\n")
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


@api_endpoint
async def tokenize(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    return JSONReply(await off_loop(ctx, _tokenize, ctx))


def _tokenize(ctx: RequestContext) -> bytes:
    body = json_object(ctx.body, ctx.config.limits.json_depth)
    check_model(ctx, body) if "model" in body else None
    if isinstance(body.get("prompt"), str):
        text = body["prompt"]
    elif "messages" in body:
        text = chat_template(body["messages"], body.get("add_generation_prompt", True) is not False)
    else:
        raise ApiError(400, "tokenize needs 'prompt' (a string) or 'messages'.", "prompt")
    ids = tokens.encode(text)
    # vLLM sends token_strs null unless asked for the token strings
    head = dumps({"count": len(ids), "max_model_len": MAX_MODEL_LEN})[:-1]
    return head + b',"tokens":' + _int_list(ids) + b',"token_strs":null}'


@api_endpoint
async def detokenize(request: Request) -> Response:
    ctx: RequestContext = request.scope["mock"]
    return JSONReply(await off_loop(ctx, _detokenize, ctx))


def _detokenize(ctx: RequestContext) -> bytes:
    body = json_object(ctx.body, ctx.config.limits.json_depth)
    check_model(ctx, body) if "model" in body else None
    ids = body.get("tokens")
    if not isinstance(ids, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in ids
    ):
        raise ApiError(400, "Invalid 'tokens': expected a list of integers.", "tokens")
    try:
        return dumps({"prompt": tokens.decode(ids)})
    except ValueError as exc:
        raise ApiError(400, f"Invalid 'tokens': {exc}", "tokens") from None


async def health(request: Request) -> Response:
    return Response(b"", 200)


async def version(request: Request) -> Response:
    return json_reply({"version": VERSION})
