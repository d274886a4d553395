"""``Conversation``: a chat that remembers its turns.

::

    conv = llm.conversation(system="You are a terse assistant", temperature=0.2)
    conv.send("My name is Ada.")
    print(conv.send("What is my name?"))        # the first turn is in the history
    for delta in conv.stream("Spell it"):       # appended once the stream completes
        print(delta.content, end="")

A turn is committed to ``messages`` only when it succeeds: a failed call (or a stream that
breaks, is truncated or is closed early) leaves the history as it was, so the next ``send`` does
not carry half a turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hookwire.llm._request import Prompt, messages_of
from hookwire.llm.cost import Cost, CostTotals
from hookwire.llm.types import ChatResult, Message, MessageInput

if TYPE_CHECKING:
    from hookwire.llm._stream import AsyncChatStream, ChatStream
    from hookwire.llm.facade import LLM

__all__ = ["Conversation"]


class Conversation:
    """History plus per-turn defaults over an :class:`~hookwire.llm.LLM`.

    ``send(prompt, **options)`` / ``stream`` / ``asend`` / ``astream`` take the same options as
    ``LLM.chat`` (they override the defaults given at creation). A prompt may also be a tool
    result message: ``conv.send({"role": "tool", "tool_call_id": ..., "content": ...})``.
    """

    def __init__(
        self,
        llm: LLM,
        *,
        system: str | None = None,
        messages: list[MessageInput] | None = None,
        **defaults: Any,
    ) -> None:
        if "history" in defaults:
            raise TypeError("pass earlier turns as messages=..., not history=")
        self.llm = llm
        self.system = system
        self.defaults = defaults
        self.messages: list[Message] = [Message.of(m) for m in messages or ()]
        self._costs = CostTotals()

    @property
    def cost(self) -> Cost | None:
        """What this conversation's turns cost so far (``None`` until a priced turn)."""
        return self._costs.total()

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.defaults, **options}
        merged.setdefault("system", self.system)
        merged["history"] = list(self.messages)
        return merged

    def _commit(self, turn: list[Message], result: ChatResult) -> None:
        self.messages.extend(turn)
        # a tool loop's reply brings the whole exchange: its tool calls and results, then itself
        self.messages.extend(result.messages or [result.message()])
        self._costs.add(result.cost)

    # -- sync -------------------------------------------------------------------------------
    def send(self, prompt: Prompt, **options: Any) -> ChatResult:
        turn = messages_of(prompt)
        result = self.llm.chat(turn, **self._options(options))
        self._commit(turn, result)
        return result

    def stream(self, prompt: Prompt, **options: Any) -> ChatStream:
        turn = messages_of(prompt)
        stream = self.llm.stream(turn, **self._options(options))
        stream.add_done_callback(lambda result: self._commit(turn, result))
        return stream

    def reset(self) -> None:
        """Forget every turn (the system prompt and defaults stay)."""
        self.messages.clear()

    # -- async ------------------------------------------------------------------------------
    async def asend(self, prompt: Prompt, **options: Any) -> ChatResult:
        turn = messages_of(prompt)
        result = await self.llm.achat(turn, **self._options(options))
        self._commit(turn, result)
        return result

    def astream(self, prompt: Prompt, **options: Any) -> AsyncChatStream:
        turn = messages_of(prompt)
        stream = self.llm.astream(turn, **self._options(options))
        stream.add_done_callback(lambda result: self._commit(turn, result))
        return stream

    def __len__(self) -> int:
        return len(self.messages)

    def __repr__(self) -> str:
        return f"<Conversation {len(self.messages)} messages via {self.llm.name!r}>"
