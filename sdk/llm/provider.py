"""The ``Provider`` interface every LLM backend implements, and a helper for blocking ones.

Writing a provider
------------------
Subclass :class:`Provider`, implement ``chat`` and ``stream`` (and ``models`` if the backend can
list them), and register a factory from a plugin module::

    from hookwire.hookspecs import hookimpl
    from hookwire.llm import ChatDelta, ChatResult, ChatStream, Provider

    class EchoProvider(AsyncFromSync, Provider):
        name = "echo"

        def chat(self, req):
            return ChatResult(content=req.messages[-1].content, finish_reason="stop",
                              model=self.resolve_model(req), provider=self.name)

        def stream(self, req):
            def deltas():
                yield ChatDelta(content=req.messages[-1].content)
                yield ChatDelta(finish_reason="stop")
            return ChatStream(deltas(), provider=self.name, model=self.resolve_model(req))

    @hookimpl
    def hookwire_register_providers(register):
        register("echo", EchoProvider)

Declare the module under ``[project.entry-points.hookwire]`` and ``hookwire.LLM("echo")`` finds it:
the
built-in providers arrive the same way. The factory is called with keyword arguments only:
``model``, ``base_url``, ``api_key`` when the user gave them, and every other option of
``LLM(...)``.

A stream's source only has to yield deltas and end with one carrying ``finish_reason``;
:class:`~hookwire.llm.ChatStream` adds assembly, ``StreamInterrupted``/``StreamTruncated`` and
closing. HTTP providers should build on :class:`~hookwire.llm.OpenAICompatibleProvider` instead,
which sends everything through ``hookwire.Client``/``AsyncClient``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator
from typing import Any

from hookwire.errors import FeatureNotSupported, InvalidRequest
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    TokenCount,
    estimate_tokens,
)

__all__ = ["AsyncFromSync", "Provider"]


class Provider:
    """Base class of LLM providers: one sync and one async face over one backend."""

    #: The registered name (``"openai"``, ``"vllm"``...), used in results and messages.
    name: str = "provider"

    def __init__(self, *, model: str | None = None) -> None:
        self.model = model

    def resolve_model(self, req: ChatRequest) -> str:
        """The model for this request: ``req.model``, else the provider's; never empty."""
        model = req.model or self.model
        if not model:
            raise InvalidRequest(
                f"no model for provider {self.name!r}: "
                "pass model=... to hookwire.LLM() or to chat()"
            )
        return model

    # -- sync face -------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> ChatResult:
        raise NotImplementedError(f"{type(self).__name__} does not implement chat()")

    def stream(self, req: ChatRequest) -> ChatStream:
        raise NotImplementedError(f"{type(self).__name__} does not implement stream()")

    def models(self) -> list[str]:
        """Model ids the backend serves (the configured one when it cannot list them)."""
        return [self.model] if self.model else []

    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        """Vectors for ``texts`` (checked by ``LLM.embed``), in order, sent ``batch_size`` at
        a time. A provider without embeddings keeps this refusal."""
        raise FeatureNotSupported(
            f"provider {self.name!r} cannot make embeddings", feature="embeddings",
            provider=self.name,
        )

    def count_tokens(self, req: ChatRequest) -> TokenCount:
        """The prompt's token count; this default is the documented estimate (``exact=False``):
        a provider whose tokenizer can count overrides it."""
        return TokenCount(estimate_tokens(req.messages), False, req.model or self.model or "")

    def close(self) -> None:
        """Release connections, threads, loaded weights."""

    # -- async face ------------------------------------------------------------------------
    async def achat(self, req: ChatRequest) -> ChatResult:
        raise NotImplementedError(f"{type(self).__name__} does not implement achat()")

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        raise NotImplementedError(f"{type(self).__name__} does not implement astream()")

    async def amodels(self) -> list[str]:
        return self.models()

    async def aembed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        """:meth:`embed` on a worker thread (a provider with a real async face overrides it)."""
        return await asyncio.to_thread(
            self.embed, texts, model=model, dimensions=dimensions, batch_size=batch_size
        )

    async def acount_tokens(self, req: ChatRequest) -> TokenCount:
        return await asyncio.to_thread(self.count_tokens, req)

    async def aclose(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} model={self.model!r}>"


_END: Any = object()


def _next_or_end(stream: ChatStream) -> Any:
    return next(stream, _END)


def _close_when_made(opening: concurrent.futures.Future[ChatStream]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


class AsyncFromSync:
    """Mixin: the async face of a blocking provider, run on worker threads.

    Put it before :class:`Provider` in the bases. ``achat``/``amodels`` run on the default
    executor (the event loop never blocks). ``astream`` gives each stream its own one-thread
    executor, so every ``next()`` and the final ``close()`` of the underlying sync stream run on
    one thread, in order, never concurrently; cancelling the consuming task closes the sync
    stream as soon as the step in progress returns (which is how a local model stops
    generating).
    """

    async def achat(self, req: ChatRequest) -> ChatResult:
        result: ChatResult = await asyncio.to_thread(self.chat, req)  # type: ignore[attr-defined]
        return result

    async def amodels(self) -> list[str]:
        models: list[str] = await asyncio.to_thread(self.models)  # type: ignore[attr-defined]
        return models

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        provider: Provider = self  # type: ignore[assignment]
        model = req.model or provider.model or ""

        async def deltas() -> AsyncIterator[ChatDelta]:
            pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sdk-llm-stream")
            loop = asyncio.get_running_loop()
            stream: ChatStream | None = None
            try:
                opening = pool.submit(provider.stream, req)
                try:
                    stream = await asyncio.wrap_future(opening, loop=loop)
                except asyncio.CancelledError:
                    # cancelled while the stream was being made: close it once it exists
                    opening.add_done_callback(_close_when_made)
                    raise
                while True:
                    delta = await loop.run_in_executor(pool, _next_or_end, stream)
                    if delta is _END:
                        return
                    yield delta
            finally:
                if stream is not None:
                    pool.submit(stream.close)  # queued behind any step still running
                pool.shutdown(wait=False)

        return AsyncChatStream(deltas(), provider=provider.name, model=model)
