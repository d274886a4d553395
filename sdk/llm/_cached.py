"""A provider in front of a response cache (``LLM(..., cache=...)``; see :mod:`hookwire.llm.cache`).

A hit is answered without the inner provider (and so without its rate limiter); a miss goes to
it, and a reply worth keeping is stored: the result, and for a stream the deltas it arrived in,
so a cached stream replays as a stream. Everything else is the inner provider's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm._wrapped import WrappedProvider
from hookwire.llm.cache import ResponseCache, request_key
from hookwire.llm.provider import Provider
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

__all__ = ["CachedProvider"]

_FINISHED = frozenset({"stop", "length", "tool_calls"})


# -- the stored layout (JSON) ---------------------------------------------------------------


def _usage(u: Usage | None) -> list[Any] | None:
    return None if u is None else [u.prompt_tokens, u.completion_tokens, u.total_tokens,
                                   u.reasoning_tokens, u.cached_tokens]


def _logprobs(items: Any) -> Any:
    if items is None:
        return None
    return [[t.token, t.logprob, list(t.bytes) if t.bytes is not None else None,
             _logprobs(t.top_logprobs) or []] for t in items]


def _logprobs_of(data: Any) -> list[TokenLogprob] | None:
    if data is None:
        return None
    return [TokenLogprob(t, lp, tuple(b) if b is not None else None,
                         tuple(_logprobs_of(top) or ())) for t, lp, b, top in data]


def _choice(c: Choice) -> dict[str, Any]:
    return {"i": c.index, "c": c.content, "r": c.reasoning, "f": c.finish_reason,
            "t": [[t.id, t.name, t.arguments] for t in c.tool_calls],
            "l": _logprobs(c.logprobs)}


def _choice_of(d: dict[str, Any]) -> Choice:
    return Choice(d["i"], d["c"], d["r"], d["f"], [ToolCall(*t) for t in d["t"]],
                  _logprobs_of(d["l"]))


def dump(result: ChatResult, deltas: list[ChatDelta] | None) -> bytes:
    data: dict[str, Any] = {
        "model": result.model, "provider": result.provider, "usage": _usage(result.usage),
        "choices": [_choice(c) for c in result.choices],
    }
    if deltas is not None:
        data["deltas"] = [
            [d.index, d.content, d.reasoning,
             [[t.index, t.id, t.name, t.arguments] for t in d.tool_calls], d.finish_reason,
             _logprobs(d.logprobs)]
            for d in deltas if d.content or d.reasoning or d.tool_calls or d.finish_reason
            or d.logprobs
        ]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def load(value: bytes) -> tuple[ChatResult, list[ChatDelta] | None]:
    data = json.loads(value)
    choices = [_choice_of(c) for c in data["choices"]]
    head = choices[0]
    usage = Usage(*data["usage"]) if data["usage"] is not None else None
    result = ChatResult(
        content=head.content, reasoning=head.reasoning, finish_reason=head.finish_reason,
        usage=usage, tool_calls=head.tool_calls, model=data["model"],
        provider=data["provider"], logprobs=head.logprobs, more_choices=choices[1:],
        cached=True,
    )
    deltas = None
    if "deltas" in data:
        deltas = [
            ChatDelta(content, reasoning, [ToolCallDelta(*t) for t in tools], finish,
                      index=index, logprobs=_logprobs_of(lps))
            for index, content, reasoning, tools, finish, lps in data["deltas"]
        ]
        if deltas:
            last = deltas[-1]
            last.usage = usage
    return result, deltas


def _marked(result: ChatResult) -> ChatResult:
    result.cached = True
    return result


def _replay(result: ChatResult, deltas: list[ChatDelta] | None) -> list[ChatDelta]:
    """The deltas of a cached reply: as recorded, or the whole reply in one piece a choice."""
    if deltas is not None:
        return deltas
    out = []
    for c in result.choices:
        calls = [ToolCallDelta(i, t.id, t.name, t.arguments) for i, t in enumerate(c.tool_calls)]
        out.append(ChatDelta(c.content, c.reasoning or "", calls, index=c.index,
                             logprobs=c.logprobs))
        out.append(ChatDelta(finish_reason=c.finish_reason or "stop", index=c.index))
    out[-1].usage = result.usage
    return out


# -- the provider ---------------------------------------------------------------------------


class CachedProvider(WrappedProvider):
    """``inner`` with replies kept in ``cache`` for ``ttl`` seconds."""

    def __init__(
        self, inner: Provider, cache: ResponseCache, *, ttl: float | None, sampled: bool
    ) -> None:
        super().__init__(inner)
        self.cache = cache
        self.ttl = ttl
        self.sampled = sampled
        self.hits = 0
        self.misses = 0

    def _key(self, req: ChatRequest) -> str | None:
        """The key, or None when this request's reply is not to be kept."""
        if not self.sampled and req.temperature != 0:
            return None
        return request_key(self.inner, req)

    def _hit(self, key: str | None) -> tuple[ChatResult, list[ChatDelta] | None] | None:
        if key is None:
            return None
        value = self.cache.get(key)
        if value is None:
            self.misses += 1
            return None
        try:
            found = load(value)
        except (ValueError, KeyError, TypeError, IndexError):
            self.misses += 1
            return None  # an unreadable entry is a miss; the new reply replaces it
        self.hits += 1
        return found

    def _keep(self, key: str | None, result: ChatResult,
              deltas: list[ChatDelta] | None = None) -> None:
        if key is None or result.cached:
            return
        if any(c.finish_reason not in _FINISHED for c in result.choices):
            return
        self.cache.set(key, dump(result, deltas), self.ttl)

    # -- sync ------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> ChatResult:
        key = self._key(req)
        found = self._hit(key)
        if found is not None:
            return found[0]
        result = self.inner.chat(req)
        self._keep(key, result)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        key = self._key(req)
        model = req.model or self.model or ""

        def deltas() -> Iterator[ChatDelta]:
            found = self._hit(key)
            if found is not None:
                stream._set_final(_marked)
                yield from _replay(*found)
                return
            inner = self.inner.stream(req)
            seen: list[ChatDelta] = []
            try:
                for delta in inner:
                    seen.append(delta)
                    yield delta
                self._keep(key, inner.result(), seen)
            finally:
                inner.close()

        stream = ChatStream(deltas(), provider=self.name, model=model)
        return stream

    # -- async -----------------------------------------------------------------------------
    async def achat(self, req: ChatRequest) -> ChatResult:
        key = self._key(req)
        found = await asyncio.to_thread(self._hit, key) if key is not None else None
        if found is not None:
            return found[0]
        result = await self.inner.achat(req)
        await asyncio.to_thread(self._keep, key, result)
        return result

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        key = self._key(req)
        model = req.model or self.model or ""

        async def deltas() -> AsyncIterator[ChatDelta]:
            found = await asyncio.to_thread(self._hit, key) if key is not None else None
            if found is not None:
                stream._set_final(_marked)
                for delta in _replay(*found):
                    yield delta
                return
            inner = self.inner.astream(req)
            seen: list[ChatDelta] = []
            try:
                async for delta in inner:
                    seen.append(delta)
                    yield delta
                await asyncio.to_thread(self._keep, key, await inner.aresult(), seen)
            finally:
                await inner.aclose()

        stream = AsyncChatStream(deltas(), provider=self.name, model=model)
        return stream

    def __repr__(self) -> str:
        return f"<CachedProvider {self.inner!r} hits={self.hits} misses={self.misses}>"
