"""API errors raised by endpoints and rendered in the dialect's shape by `api_endpoint`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.limits import (
    DEFAULT_LIMITS,
    OFF_LOOP_BYTES,
    OFF_LOOP_TOKENS,
    JSONTooDeep,
    LimitExceeded,
    check_depth,
)
from hookwire.mockserver.replies import json_reply
from hookwire.mockserver.sse import dumps


class ApiError(Exception):
    """An error reply: HTTP status plus message, param and (openai) code."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


def error_response(
    ctx: RequestContext, err: ApiError, headers: dict[str, str] | None = None
) -> Response:
    body = ctx.dialect.error_body(err.status, err.message, err.param, err.code)
    return json_reply(body, err.status, headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def api_endpoint(func: Endpoint) -> Endpoint:
    """Wrap an endpoint so an `ApiError` (or a cap it ran into) becomes the dialect's error."""

    async def wrapper(request: Request) -> Response:
        try:
            return await func(request)
        except ApiError as err:
            return error_response(request.scope["mock"], err)
        except LimitExceeded as exc:
            return error_response(request.scope["mock"], ApiError(400, str(exc)))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    ctx: RequestContext | None = request.scope.get("mock")
    # the app has read the whole body already: skip starlette's receive/stream machinery
    raw = ctx.body if ctx is not None else await request.body()
    return json_object(raw, (ctx.config.limits if ctx is not None else DEFAULT_LIMITS).json_depth)


# where a lone surrogate can come from: an escape of one, or its (invalid) UTF-8 bytes
_SURROGATE = re.compile(rb"\\u[dD]|\xed")


def json_object(raw: bytes, depth: int) -> dict[str, Any]:
    """`raw` as a JSON object nesting at most `depth` deep, or a 400 saying what is wrong."""
    if not raw:
        raise ApiError(400, "The request body is empty; expected a JSON object.")
    try:
        if raw[:1] == b"{" and raw[1:2] != b"\x00":
            # what json.loads(bytes) does once json.detect_encoding has said "utf-8"
            data = json.loads(raw.decode("utf-8", "surrogatepass"))
        else:
            data = json.loads(raw)
        check_depth(data, raw, depth)
        if _SURROGATE.search(raw) is not None:
            # a lone UTF-16 surrogate parses, but no reply containing it can be encoded
            dumps(data)
    except UnicodeEncodeError:
        raise ApiError(400, "The request body is not valid JSON: a lone surrogate.") from None
    except (RecursionError, JSONTooDeep):
        # json's own recursion limit, or ours: either way the dialect's 400, not a 500
        raise ApiError(400, f"The request body is not valid JSON: {JSONTooDeep(depth)}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"The request body must be a JSON object, not {type(data).__name__}.")
    return data


_T = TypeVar("_T")


def heavy(ctx: RequestContext) -> bool:
    """Whether this request's work belongs off the event loop (see `off_loop`)."""
    return len(ctx.body) >= OFF_LOOP_BYTES or (ctx.reply_tokens or 0) >= OFF_LOOP_TOKENS


async def off_loop(ctx: RequestContext, func: Callable[..., _T], *args: Any) -> _T:
    """`func(*args)`, in a worker thread when the request is `heavy`, else right here.

    Small requests stay inline: a thread hop costs more than their whole reply. What runs
    in the thread reads only its arguments and the thread-safe caches of `tokens`.
    """
    if heavy(ctx):
        return await asyncio.to_thread(func, *args)
    return func(*args)


def check_model(ctx: RequestContext, body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    if model not in ctx.models:
        raise ApiError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return model
