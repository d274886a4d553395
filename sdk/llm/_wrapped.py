"""The base of providers that wrap another (a rate limit, a cache): every call passes through.

A subclass overrides the calls it changes; attributes it does not have (``base_url``, the
client...) are the inner provider's.
"""

from __future__ import annotations

from typing import Any

from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.provider import Provider
from hookwire.llm.types import ChatRequest, ChatResult, EmbeddingResult, TokenCount

__all__ = ["WrappedProvider"]


class WrappedProvider(Provider):
    """``inner``, unchanged: the calls a wrapper does not override go straight to it."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def model(self) -> str | None:
        return self.inner.model

    @model.setter
    def model(self, value: str | None) -> None:
        self.inner.model = value

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)

    def chat(self, req: ChatRequest) -> ChatResult:
        return self.inner.chat(req)

    def stream(self, req: ChatRequest) -> ChatStream:
        return self.inner.stream(req)

    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        return self.inner.embed(texts, model=model, dimensions=dimensions, batch_size=batch_size)

    def count_tokens(self, req: ChatRequest) -> TokenCount:
        return self.inner.count_tokens(req)

    def models(self) -> list[str]:
        return self.inner.models()

    def close(self) -> None:
        self.inner.close()

    async def achat(self, req: ChatRequest) -> ChatResult:
        return await self.inner.achat(req)

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        return self.inner.astream(req)

    async def aembed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        return await self.inner.aembed(
            texts, model=model, dimensions=dimensions, batch_size=batch_size
        )

    async def acount_tokens(self, req: ChatRequest) -> TokenCount:
        return await self.inner.acount_tokens(req)

    async def amodels(self) -> list[str]:
        return await self.inner.amodels()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.inner!r}>"
