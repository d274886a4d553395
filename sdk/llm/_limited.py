"""A provider behind a :class:`~hookwire.llm.limits.RateLimiter` (``LLM(..., rpm=, tpm=)``).

Every call takes its budget first (sync calls wait with ``time.sleep``, async ones with
``asyncio.sleep``; a stream waits at its first iteration, when it sends), the tokens taken are
corrected from the reply's usage, and a ``RateLimitError`` with ``retry_after`` pauses the
limiter for every caller. Everything else is the inner provider's (attributes included).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator

from hookwire.errors import RateLimitError
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm._wrapped import WrappedProvider
from hookwire.llm.limits import RateLimiter
from hookwire.llm.provider import Provider
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    estimate_tokens,
)

__all__ = ["LimitedProvider", "request_tokens"]


def request_tokens(req: ChatRequest) -> int:
    """The tokens a request is expected to take: the prompt's estimate plus ``max_tokens``."""
    return estimate_tokens(req.messages) + (req.max_tokens or 0) * (req.n or 1)


def _used(result: ChatResult | EmbeddingResult) -> int | None:
    usage = result.usage
    return None if usage is None else usage.total_tokens


class LimitedProvider(WrappedProvider):
    """``inner`` with every call taken from ``limiter`` first."""

    def __init__(self, inner: Provider, limiter: RateLimiter) -> None:
        super().__init__(inner)
        self.limiter = limiter

    def _refused(self, exc: RateLimitError) -> None:
        self.limiter.pause(getattr(exc, "retry_after", None))

    # -- sync ------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> ChatResult:
        tokens = request_tokens(req)
        self.limiter.acquire(tokens)
        try:
            result = self.inner.chat(req)
        except RateLimitError as exc:
            self._refused(exc)
            raise
        self.limiter.settle(tokens, _used(result))
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        tokens = request_tokens(req)

        def deltas() -> Iterator[ChatDelta]:
            self.limiter.acquire(tokens)
            inner = self.inner.stream(req)
            try:
                yield from inner
                self.limiter.settle(tokens, _used(inner.result()))
            except RateLimitError as exc:
                self._refused(exc)
                raise
            finally:
                inner.close()

        return ChatStream(deltas(), provider=self.name, model=req.model or self.model or "")

    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        tokens = _embed_tokens(texts)
        for _ in range(math.ceil(len(texts) / batch_size) - 1):  # a request a batch
            self.limiter.acquire(0)
        self.limiter.acquire(tokens)
        try:
            result = self.inner.embed(texts, model=model, dimensions=dimensions,
                                      batch_size=batch_size)
        except RateLimitError as exc:
            self._refused(exc)
            raise
        self.limiter.settle(tokens, _used(result))
        return result

    # -- async -----------------------------------------------------------------------------
    async def achat(self, req: ChatRequest) -> ChatResult:
        tokens = request_tokens(req)
        await self.limiter.aacquire(tokens)
        try:
            result = await self.inner.achat(req)
        except RateLimitError as exc:
            self._refused(exc)
            raise
        self.limiter.settle(tokens, _used(result))
        return result

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        tokens = request_tokens(req)

        async def deltas() -> AsyncIterator[ChatDelta]:
            await self.limiter.aacquire(tokens)
            inner = self.inner.astream(req)
            try:
                async for delta in inner:
                    yield delta
                self.limiter.settle(tokens, _used(await inner.aresult()))
            except RateLimitError as exc:
                self._refused(exc)
                raise
            finally:
                await inner.aclose()

        return AsyncChatStream(deltas(), provider=self.name, model=req.model or self.model or "")

    async def aembed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        tokens = _embed_tokens(texts)
        for _ in range(math.ceil(len(texts) / batch_size) - 1):
            await self.limiter.aacquire(0)
        await self.limiter.aacquire(tokens)
        try:
            result = await self.inner.aembed(texts, model=model, dimensions=dimensions,
                                             batch_size=batch_size)
        except RateLimitError as exc:
            self._refused(exc)
            raise
        self.limiter.settle(tokens, _used(result))
        return result

    def __repr__(self) -> str:
        return f"<LimitedProvider {self.inner!r} {self.limiter!r}>"


def _embed_tokens(texts: list[str]) -> int:
    return -(-sum(len(t) for t in texts) // 4)
