"""The OpenAI chat-completions wire format, as pure functions: no I/O, no client.

Building a request body, reading a completion, turning a stream's bytes into deltas and an error
body into a typed exception all happen here, so the sync and async providers share every line
of protocol code and the tests exercise it without a server. Field names follow
``CreateChatCompletionRequest`` / ``CreateChatCompletionStreamResponse`` of the OpenAI spec;
reasoning, which the spec lacks, is read from ``reasoning`` (vLLM) or ``reasoning_content``
(SiliconFlow, DeepSeek, DashScope) or split out of inline ``<think>`` tags.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from hookwire.errors import (
    APIStatusError,
    DecodingError,
    SDKError,
    StreamErrorEvent,
    status_error_class,
)
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    Choice,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from hookwire.reasoning import ReasoningSplitter, split_reasoning
from hookwire.sse import SSEDecoder

__all__ = [
    "ChunkParser",
    "ReasoningOf",
    "build_body",
    "default_reasoning",
    "error_from_body",
    "parse_completion",
]

ReasoningOf = Callable[[Mapping[str, Any]], "str | None"]
_loads = json.loads


def default_reasoning(obj: Mapping[str, Any]) -> str | None:
    """``reasoning`` (vLLM) or ``reasoning_content`` (the rest); never both concatenated.

    Some vLLM versions mirror the text under both names, so the first present one wins.
    """
    text = obj.get("reasoning")
    if text is None:
        text = obj.get("reasoning_content")
    return text if isinstance(text, str) else None


_OPTIONAL_FIELDS = (
    "temperature", "top_p", "max_tokens", "stop", "seed", "tools", "response_format", "n",
    "logprobs", "top_logprobs",
)


def _tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    """``"auto" | "none" | "required"`` pass through; any other string names a function."""
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice


def build_body(
    req: ChatRequest, model: str, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body for ``POST /chat/completions``.

    Only arguments the caller set are sent (the server's defaults apply otherwise). ``fields``
    holds provider-specific fields (thinking switches, extras); ``req.extra_body`` is merged last
    and wins over everything, as in the openai client.
    """
    body: dict[str, Any] = {"model": model, "messages": [m.to_wire() for m in req.messages]}
    for name in _OPTIONAL_FIELDS:
        value = getattr(req, name)
        if value is not None:
            body[name] = value
    if req.tool_choice is not None:
        body["tool_choice"] = _tool_choice(req.tool_choice)
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if fields:
        body.update(fields)
    body.update(req.extra_body)
    return body


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    calls = []
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {}
        call_id, name = str(call.get("id") or ""), str(fn.get("name") or "")
        calls.append(ToolCall(call_id, name, fn.get("arguments") or ""))
    return calls


def parse_completion(
    data: Any,
    *,
    provider: str,
    reasoning_of: ReasoningOf = default_reasoning,
    inline: bool = True,
    started_in_reasoning: bool = False,
) -> ChatResult:
    """A ``chat.completion`` object as a :class:`ChatResult`: choice 0's fields, every choice
    in ``choices``, logprobs typed.

    With ``inline`` and no reasoning field, ``<think>...</think>`` in the content is split out.
    """
    try:
        wire_choices = sorted(data["choices"], key=lambda c: c.get("index") or 0)
        wire_choices[0]["message"]  # a completion without choices[0].message is broken
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise DecodingError(
            f"the chat completion has no choices[0].message ({type(exc).__name__}: {exc})"
        ) from exc
    choices = []
    for position, choice in enumerate(wire_choices):
        message = choice.get("message")
        if not isinstance(message, Mapping):
            raise DecodingError(f"the chat completion's choices[{position}] has no message")
        content = message.get("content") or ""
        reasoning = reasoning_of(message)
        if reasoning is None and inline and content:
            split, content = split_reasoning(content, started_in_reasoning=started_in_reasoning)
            reasoning = split or None
        choices.append(Choice(
            int(choice.get("index") or position), content, reasoning,
            choice.get("finish_reason"), _tool_calls(message),
            TokenLogprob.list_from_wire(choice.get("logprobs")),
        ))
    head = choices[0]
    return ChatResult(
        content=head.content,
        reasoning=head.reasoning,
        finish_reason=head.finish_reason,
        usage=Usage.from_wire(data.get("usage")),
        tool_calls=head.tool_calls,
        model=str(data.get("model") or ""),
        raw=data,
        provider=provider,
        logprobs=head.logprobs,
        more_choices=choices[1:],
    )


def error_from_body(
    status: int,
    content: bytes,
    *,
    retry_after: float | None = None,
    secrets: tuple[str, ...] = (),
    **context: Any,
) -> APIStatusError:
    """The typed error for a provider's error response.

    Reads ``{"error": {"message", "type", "param", "code"}}`` (OpenAI; vLLM's ``code`` is the
    status as an int) and tolerates a bare ``{"message": ...}``, a string ``error`` or a
    non-JSON body. Any secret echoed back by the server is masked before it reaches a message.
    """
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = content[:500].decode("utf-8", "replace")
    err: Any = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("detail") or "")
        kind, param, code = err.get("type"), err.get("param"), err.get("code")
    else:
        message, kind, param, code = str(err or ""), None, None, None
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[REDACTED]")
    cls = status_error_class(status)
    text = f"{status} {cls.__name__}: {message or 'no error message'}"
    if cls.__name__ == "RateLimitError":
        context["retry_after"] = retry_after
    return cls(text, body=body, code=code, type=kind, param=param, **context)


class _ChoiceState:
    """The reasoning split of one choice's stream (each of ``n`` choices has its own)."""

    __slots__ = ("no_tag", "splitter")

    def __init__(self, inline: bool, started_in_reasoning: bool) -> None:
        self.splitter: ReasoningSplitter | None = (
            ReasoningSplitter(started_in_reasoning=started_in_reasoning) if inline else None
        )
        self.no_tag = inline and not started_in_reasoning


class ChunkParser:
    """Bytes of a ``text/event-stream`` chat reply in, :class:`ChatDelta` objects out.

    Sans-IO and shared by the sync and async streams. Every choice is read (``n > 1``: each
    delta's ``index`` names its choice, interleaved as the chunks arrive), each with its own
    reasoning split. ``done`` records ``data: [DONE]``; ``finish_reason`` the last one seen;
    ``events`` counts data events (their 0-based index names a malformed one). ``comments``
    counts ``: keep-alive`` lines, which the caller's idle timer deliberately ignores.
    """

    def __init__(
        self,
        *,
        reasoning_of: ReasoningOf = default_reasoning,
        inline: bool = True,
        started_in_reasoning: bool = False,
    ) -> None:
        self._decoder = SSEDecoder()
        self._reasoning_of = reasoning_of
        self._inline = inline
        self._started_in_reasoning = started_in_reasoning
        self._first = _ChoiceState(inline, started_in_reasoning)
        self._states: dict[int, _ChoiceState] = {0: self._first}
        self.events = 0
        self.done = False
        self.finish_reason: str | None = None
        self._held: SDKError | None = None

    @property
    def comments(self) -> int:
        return self._decoder.comment_count

    def feed(self, data: bytes) -> list[ChatDelta]:
        self._raise_held()
        out: list[ChatDelta] = []
        try:
            for event in self._decoder.feed(data):
                self._event(event.event, event.data, out)
        except SDKError as exc:
            self._hold(exc, out)
        return out

    def flush(self) -> list[ChatDelta]:
        self._raise_held()
        out: list[ChatDelta] = []
        try:
            for event in self._decoder.flush():
                self._event(event.event, event.data, out)
        except SDKError as exc:
            self._hold(exc, out)
            return out
        self._flush_all(out)
        return out

    def _hold(self, exc: SDKError, out: list[ChatDelta]) -> None:
        """A bad event (error event, invalid JSON) may share a network read with good ones:
        the deltas before it are delivered first, and the error is raised on the next call,
        so the stream's partial reply keeps them."""
        if not out:
            raise exc
        self._held = exc

    def _raise_held(self) -> None:
        if self._held is not None:
            exc, self._held = self._held, None
            raise exc

    # -- one event --------------------------------------------------------------------------
    def _event(self, name: str, data: str, out: list[ChatDelta]) -> None:
        if self.done:  # [DONE] ends the stream: whatever a server sends after it is not the reply
            return
        index = self.events
        self.events += 1
        if data == "[DONE]":
            self.done = True
            self._flush_all(out)
            return
        try:
            obj = _loads(data)
        except ValueError as exc:
            raise DecodingError(
                f"stream event {index} is not valid JSON ({exc}): {data[:80]!r}"
            ) from exc
        if not isinstance(obj, dict):
            raise DecodingError(f"stream event {index} is not a JSON object: {data[:80]!r}")
        if name == "error" or ("error" in obj and not obj.get("choices")):
            self._error(index, obj)
        try:
            self._chunk(obj, out)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            # Valid JSON of the wrong shape (a "choices" that is a string, a number for
            # "content"...): the peer broke the protocol, so it is a ProtocolError, not a bug.
            raise DecodingError(
                f"stream event {index} is not a chat.completion.chunk ({exc}): {data[:80]!r}"
            ) from exc

    def _chunk(self, obj: dict[str, Any], out: list[ChatDelta]) -> None:
        usage = obj.get("usage")
        choices = obj.get("choices")
        if choices:
            if not isinstance(choices, list):
                raise TypeError(f"choices is a {type(choices).__name__}, not a list")
            for choice in choices:
                choice = _expect(choice, dict, "choices[]")
                index = choice.get("index") or 0
                if index:
                    index = _expect(index, int, "choices[].index")
                    state = self._states.get(index)
                    if state is None:
                        state = self._states[index] = _ChoiceState(
                            self._inline, self._started_in_reasoning
                        )
                else:
                    state = self._first
                self._choice(choice, state, index, obj, out)
        if usage:
            out.append(ChatDelta(usage=Usage.from_wire(_expect(usage, dict, "usage")), raw=obj))

    def _choice(
        self, choice: dict[str, Any], state: _ChoiceState, index: int, obj: Any,
        out: list[ChatDelta],
    ) -> None:
        delta = _expect(choice.get("delta") or {}, dict, "delta")
        content = _expect(delta.get("content"), str, "delta.content")
        reasoning = _expect(self._reasoning_of(delta), str, "the reasoning field")
        tools = _expect(delta.get("tool_calls"), list, "delta.tool_calls")
        finish = _expect(choice.get("finish_reason"), str, "finish_reason")
        wire_logprobs = choice.get("logprobs")
        logprobs = None if wire_logprobs is None else TokenLogprob.list_from_wire(
            _expect(wire_logprobs, dict, "logprobs")
        )
        if reasoning and state.splitter is not None:  # the server splits: trust it
            self._flush_splitter(state, index, out)
            state.splitter = None
        if content:
            splitter = state.splitter
            if splitter is None or (state.no_tag and "<" not in content):
                # Until a "<" appears the splitter holds nothing back and is still before any
                # <think>: it would return the text unchanged, so skip it (the hot path).
                out.append(ChatDelta(content, reasoning or "", raw=obj, index=index,
                                     logprobs=logprobs))
                reasoning = logprobs = None
            else:
                state.no_tag = False
                for kind, text in splitter.feed(content):
                    if kind == "content":
                        out.append(ChatDelta(text, raw=obj, index=index, logprobs=logprobs))
                    else:
                        out.append(ChatDelta(reasoning=text, raw=obj, index=index,
                                             logprobs=logprobs))
                    logprobs = None
        if reasoning:
            out.append(ChatDelta(reasoning=reasoning, raw=obj, index=index, logprobs=logprobs))
            logprobs = None
        if logprobs:  # tokens whose text the splitter still holds back: their logprobs go now
            out.append(ChatDelta(raw=obj, index=index, logprobs=logprobs))
        if tools:
            out.append(ChatDelta(tool_calls=[_tool_delta(t) for t in tools], raw=obj,
                                 index=index))
        if finish:
            self._flush_splitter(state, index, out)
            self.finish_reason = finish
            out.append(ChatDelta(finish_reason=finish, raw=obj, index=index))

    def _flush_all(self, out: list[ChatDelta]) -> None:
        for index, state in self._states.items():
            self._flush_splitter(state, index, out)

    def _flush_splitter(self, state: _ChoiceState, index: int, out: list[ChatDelta]) -> None:
        if state.splitter is None:
            return
        for kind, text in state.splitter.flush():
            if kind == "content":
                out.append(ChatDelta(text, index=index))
            else:
                out.append(ChatDelta(reasoning=text, index=index))
        state.splitter = ReasoningSplitter(thinking=False)  # after the end, all is content

    def _error(self, index: int, obj: dict[str, Any]) -> None:
        err = obj.get("error", obj)
        message = err.get("message") if isinstance(err, dict) else err
        raise StreamErrorEvent(
            f"the server sent an error event at stream event {index}: {message or 'no message'}",
            body=obj,
        )


def _expect(value: Any, kind: type, what: str) -> Any:
    """``value`` if it is ``None`` or a ``kind``; a TypeError naming the field otherwise."""
    if value is None or isinstance(value, kind):
        return value
    raise TypeError(f"{what} is a {type(value).__name__}, not a {kind.__name__}")


def _tool_delta(data: dict[str, Any]) -> ToolCallDelta:
    data = _expect(data, dict, "a tool_calls entry")
    fn = _expect(data.get("function") or {}, dict, "tool_calls[].function")
    return ToolCallDelta(
        int(data.get("index") or 0),
        _expect(data.get("id"), str, "tool_calls[].id"),
        _expect(fn.get("name"), str, "tool_calls[].function.name"),
        _expect(fn.get("arguments"), str, "tool_calls[].function.arguments") or "",
    )
