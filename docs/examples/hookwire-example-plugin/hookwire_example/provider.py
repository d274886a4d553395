"""``shout``: a tiny model provider that answers in capitals (no network, no weights).

It shows the whole Provider contract: ``chat``, ``stream`` (a generator of deltas ending with
a ``finish_reason``), ``models``; ``AsyncFromSync`` supplies ``achat``/``astream`` by running
the blocking code on a worker thread.
"""

from __future__ import annotations

from hookwire.llm import AsyncFromSync, ChatDelta, ChatResult, ChatStream, Provider


class ShoutProvider(AsyncFromSync, Provider):
    name = "shout"

    def __init__(self, *, model: str | None = None, **_options) -> None:
        super().__init__(model=model or "shout-1")

    def _answer(self, req) -> str:
        last = next((m for m in reversed(req.messages) if m.role == "user"), None)
        return (last.content if last else "").upper()

    def chat(self, req):
        return ChatResult(
            content=self._answer(req), reasoning=None, finish_reason="stop", usage=None,
            tool_calls=[], model=self.resolve_model(req), raw=None, provider=self.name,
        )

    def stream(self, req):
        words = self._answer(req).split(" ")

        def deltas():
            for i, word in enumerate(words):
                yield ChatDelta(content=word if i == 0 else " " + word)
            yield ChatDelta(finish_reason="stop")

        return ChatStream(deltas(), provider=self.name, model=self.resolve_model(req))

    def models(self):
        return ["shout-1"]
