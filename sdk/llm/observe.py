"""Observation of LLM calls: what the ``hookwire_llm_*`` hooks receive, and how ``LLM`` fires them.

Every call through :class:`~hookwire.LLM` (chat, stream, embeddings; each reply of a tool loop
is one call) fires, on the plugin host's hooks, whatever the provider (clouds, vLLM, the mock,
a local model alike):

===============================  ==============================================================
``hookwire_llm_request(call)``   before anything is sent
``hookwire_llm_first_token``     a stream's first content, reasoning or tool delta (``seconds``
                                 since the request)
``hookwire_llm_tool_call``       a tool of the loop ran or was refused (``run``: a ``ToolRun``)
``hookwire_llm_response``        the call completed (``result``; a stream closed early gives its
                                 partial result and ``call.outcome == "closed"``)
``hookwire_llm_error``           the call failed (``error``)
===============================  ==============================================================

``hookwire_approve_tool_call(call, tool_call, tool)`` is a ``firstresult`` hook: a plugin that
returns ``False`` vetoes the call (the model is told it was refused).

An :class:`LLMCall` is one call: its ``id``, ``operation`` (``"chat"``, ``"stream"``,
``"embeddings"``), ``provider``, ``model``, ``request`` (the :class:`ChatRequest`; ``None`` for
embeddings, whose ``inputs`` count is set), ``turn`` in a tool loop, and ``state``, a dict where a
plugin keeps what it needs between hooks (a span, a start time). Hooks must be pure and fast.
When no plugin implements any of these hooks, ``LLM`` skips all of it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookwire.llm._stream import AsyncChatStream, ChatStream
    from hookwire.llm.tools import Tool
    from hookwire.llm.types import ChatRequest, ToolCall, ToolRun

__all__ = ["HOOKS", "LLMCall", "Observer"]

#: The observation hooks of LLM calls (``hookwire_approve_tool_call`` aside).
HOOKS = (
    "hookwire_llm_request",
    "hookwire_llm_first_token",
    "hookwire_llm_tool_call",
    "hookwire_llm_response",
    "hookwire_llm_error",
)
_ids = itertools.count(1)


@dataclass(eq=False)
class LLMCall:
    """One LLM call, as the observation hooks see it."""

    operation: str
    provider: str
    model: str
    request: ChatRequest | None = None
    inputs: int | None = None
    turn: int = 1
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.perf_counter)
    #: ``"ok"``, ``"error"`` or ``"closed"`` (a stream given up early) once it ended.
    outcome: str | None = None
    #: Free room for plugins (a span, counters): hookwire never reads it.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Time since the call started."""
        return time.perf_counter() - self.started


class Observer:
    """Fires the hooks of one plugin host for the calls of one ``LLM``."""

    __slots__ = ("hook", "last")

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        #: The call most recently started (a tool loop's tool runs belong to it).
        self.last: LLMCall | None = None

    @property
    def active(self) -> bool:
        """Whether any plugin observes LLM calls (checked per call: plugins may come later)."""
        hook = self.hook
        return any(getattr(hook, name).get_hookimpls() for name in HOOKS)

    @property
    def approving(self) -> bool:
        return bool(self.hook.hookwire_approve_tool_call.get_hookimpls())

    def start(
        self,
        operation: str,
        provider: str,
        model: str,
        request: ChatRequest | None = None,
        *,
        inputs: int | None = None,
        turn: int = 1,
    ) -> LLMCall:
        call = self.last = LLMCall(operation, provider, model, request, inputs, turn)
        self.hook.hookwire_llm_request(call=call)
        return call

    def done(self, call: LLMCall, result: Any, *, outcome: str = "ok") -> None:
        call.outcome = outcome
        self.hook.hookwire_llm_response(call=call, result=result)

    def failed(self, call: LLMCall, error: BaseException) -> None:
        call.outcome = "error"
        self.hook.hookwire_llm_error(call=call, error=error)

    def tool_ran(self, run: ToolRun) -> None:
        self.hook.hookwire_llm_tool_call(call=self.last, run=run)

    def vetoed(self, tool_call: ToolCall, tool: Tool | None) -> bool:
        if not self.approving:
            return False
        verdict = self.hook.hookwire_approve_tool_call(
            call=self.last, tool_call=tool_call, tool=tool
        )
        return verdict is False

    def watch(self, call: LLMCall, stream: ChatStream | AsyncChatStream) -> None:
        """Fire first-token and end hooks from the stream's own events (no wrapper)."""

        def first() -> None:
            self.hook.hookwire_llm_first_token(call=call, seconds=call.seconds)

        def end(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.failed(call, error)
            else:
                self.done(call, result, outcome="closed" if stream.done is False else "ok")

        stream._observe(first, end)
