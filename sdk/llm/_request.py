"""Turning ``LLM.chat(...)`` arguments into a validated :class:`ChatRequest`.

Bad input fails here, before anything is sent, with an :class:`~hookwire.errors.InvalidRequest`
naming the argument: a provider never has to guess what ``temperature="hot"`` meant, and no
argument is silently dropped (the seed tutorial's helper ignored its ``system_prompt``).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from hookwire.errors import InvalidRequest
from hookwire.llm.types import ChatRequest, Message, MessageInput, StreamTimeout, ToolCall
from hookwire.timeouts import Timeout

__all__ = ["ChatOptions", "Prompt", "build_request", "messages_of"]

Prompt = str | MessageInput | Sequence[MessageInput]

#: The OpenAI API's ceiling for ``top_logprobs`` (vLLM's default ``max_logprobs`` is 20 too).
MAX_TOP_LOGPROBS = 20


class ChatOptions(TypedDict, total=False):
    """The keyword arguments of ``LLM.chat``/``stream``/``achat``/``astream``.

    ``system`` goes first, then ``history``, then the prompt. ``thinking`` is on/off/the
    provider's default (``None``); ``thinking_budget`` caps reasoning tokens where the provider
    has a budget. ``tool_choice`` is ``"auto"``/``"none"``/``"required"``, a function name or
    an OpenAI dict. ``response_format`` is a pydantic model class, a JSON-schema dict, an OpenAI
    format dict, ``"json"`` or ``"text"``; with a schema the reply is parsed into
    ``result.parsed`` and re-asked up to ``validation_retries`` times (default 1) when it does
    not validate (see :mod:`hookwire.llm._structured`). ``extra_body`` is
    merged into the request body last; ``extra_headers`` are added to the HTTP request.
    ``timeout`` is seconds, a ``StreamTimeout`` or a
    ``Timeout``. ``n`` asks for that many choices (``result.choices``); ``logprobs=True`` for
    each token's log probability and ``top_logprobs=k`` (0 to 20, implies ``logprobs``) for the
    k likeliest tokens at each position. ``tools`` may hold Python functions (sync or
    ``async def``): the call then runs the tool loop of :mod:`hookwire.llm.tools`, at most
    ``max_turns`` replies (default 10); ``tool_errors="send"`` (default) reports a tool's
    exception to the model, ``"raise"`` stops with ``ToolExecutionError``; ``approve(call)``
    returns False to veto a call.
    """

    system: str | None
    history: Sequence[MessageInput] | None
    model: str | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stop: str | Sequence[str] | None
    seed: int | None
    thinking: bool | None
    thinking_budget: int | None
    tools: Sequence[Mapping[str, Any] | Callable[..., Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    max_turns: int | None
    tool_errors: Literal["send", "raise"] | None
    approve: Callable[[ToolCall], bool | Awaitable[bool]] | None
    response_format: Mapping[str, Any] | str | type | None
    validation_retries: int | None
    n: int | None
    logprobs: bool | None
    top_logprobs: int | None
    extra_body: Mapping[str, Any] | None
    extra_headers: Mapping[str, str] | None
    timeout: StreamTimeout | Timeout | float | None


def messages_of(prompt: Prompt, what: str = "prompt") -> list[Message]:
    """A prompt (text, one message, or a list of them) as messages."""
    if isinstance(prompt, str):
        return [Message("user", prompt)]
    if isinstance(prompt, (Message, Mapping)):
        return [Message.of(prompt)]
    if isinstance(prompt, Sequence):
        return [Message.of(m) for m in prompt]  # type: ignore[arg-type]
    raise InvalidRequest(
        f"{what} must be a string, a message or a list of messages, not {type(prompt).__name__}"
    )


def _number(name: str, value: Any, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidRequest(f"{name} must be a number, not {value!r}")
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low:g} and {high:g}, not {value!r}")
    return value


def _integer(name: str, value: Any, low: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidRequest(f"{name} must be an integer >= {low}, not {value!r}")
    return value


def _stop(value: Any) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(s, str) for s in value):
        return list(value)
    raise InvalidRequest(f"stop must be a string or a list of strings, not {value!r}")


def _response_format(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    if value in ("json", "json_object"):
        return {"type": "json_object"}
    if value == "text":
        return {"type": "text"}
    raise InvalidRequest(
        f"response_format must be a pydantic model class, a dict, 'json' or 'text', not {value!r}"
    )


def _tools(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, Sequence) or not all(isinstance(t, Mapping) for t in value):
        raise InvalidRequest("tools must be a list of tool dicts ({'type': 'function', ...})")
    return [dict(t) for t in value]


def _timeout(value: Any) -> StreamTimeout | None:
    if value is None or isinstance(value, StreamTimeout):
        return value
    if isinstance(value, Timeout):
        return StreamTimeout(value.connect, value.first_byte or value.read, value.read, value.total)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return StreamTimeout(float(value), float(value), float(value), None)
    raise InvalidRequest(f"timeout must be seconds, a StreamTimeout or a Timeout, not {value!r}")


def build_request(
    prompt: Prompt,
    *,
    system: str | None = None,
    history: Sequence[MessageInput] | None = None,
    model: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    stop: str | Sequence[str] | None = None,
    seed: int | None = None,
    thinking: bool | None = None,
    thinking_budget: int | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    response_format: Mapping[str, Any] | str | None = None,
    n: int | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    extra_body: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    timeout: StreamTimeout | Timeout | float | None = None,
    stream: bool = False,
) -> ChatRequest:
    """Validate every argument and assemble the message list: system, history, prompt."""
    messages: list[Message] = []
    if system is not None:
        if not isinstance(system, str):
            raise InvalidRequest(f"system must be a string, not {type(system).__name__}")
        messages.append(Message("system", system))
    if history is not None:
        messages.extend(messages_of(list(history), "history"))
    messages.extend(messages_of(prompt))
    if not messages:
        raise InvalidRequest("there is no message to send: the prompt is empty")
    if thinking is not None and not isinstance(thinking, bool):
        raise InvalidRequest(f"thinking must be True, False or None, not {thinking!r}")
    if tool_choice is not None and not isinstance(tool_choice, (str, Mapping)):
        raise InvalidRequest(f"tool_choice must be a string or a dict, not {tool_choice!r}")
    if extra_body is not None and not isinstance(extra_body, Mapping):
        raise InvalidRequest(f"extra_body must be a dict, not {type(extra_body).__name__}")
    if extra_headers is not None and not isinstance(extra_headers, Mapping):
        raise InvalidRequest(f"extra_headers must be a dict, not {type(extra_headers).__name__}")
    if model is not None and not (isinstance(model, str) and model):
        raise InvalidRequest(f"model must be a non-empty string, not {model!r}")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise InvalidRequest(f"logprobs must be True or False, not {logprobs!r}")
    top = _integer("top_logprobs", top_logprobs, 0)
    if top is not None and top > MAX_TOP_LOGPROBS:
        raise InvalidRequest(
            f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}, not {top_logprobs!r}"
        )
    if top is not None and logprobs is False:
        raise InvalidRequest("top_logprobs needs logprobs: drop logprobs=False or top_logprobs")
    return ChatRequest(
        messages=messages,
        model=model,
        temperature=_number("temperature", temperature, 0, 2),
        top_p=_number("top_p", top_p, 0, 1),
        max_tokens=_integer("max_tokens", max_tokens, 1),
        stop=_stop(stop),
        seed=_integer("seed", seed, -(2**63)),
        thinking=thinking,
        thinking_budget=_integer("thinking_budget", thinking_budget, 0),
        tools=_tools(tools),
        tool_choice=tool_choice if not isinstance(tool_choice, Mapping) else dict(tool_choice),
        response_format=_response_format(response_format),
        n=_integer("n", n, 1),
        logprobs=True if top is not None else logprobs,
        top_logprobs=top,
        extra_body=dict(extra_body or {}),
        extra_headers=dict(extra_headers or {}),
        stream=stream,
        timeout=_timeout(timeout),
    )
