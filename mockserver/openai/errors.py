"""API errors raised by endpoints and rendered in the dialect's shape by `api_endpoint`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.replies import json_reply


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
    """Wrap an endpoint so an `ApiError` becomes the dialect's error response."""

    async def wrapper(request: Request) -> Response:
        try:
            return await func(request)
        except ApiError as err:
            return error_response(request.scope["mock"], err)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    ctx: RequestContext | None = request.scope.get("mock")
    # the app has read the whole body already: skip starlette's receive/stream machinery
    raw = ctx.body if ctx is not None else await request.body()
    if not raw:
        raise ApiError(400, "The request body is empty; expected a JSON object.")
    try:
        if raw[:1] == b"{" and raw[1:2] != b"\x00":
            # what json.loads(bytes) does once json.detect_encoding has said "utf-8"
            data = json.loads(raw.decode("utf-8", "surrogatepass"))
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"The request body must be a JSON object, not {type(data).__name__}.")
    return data


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
