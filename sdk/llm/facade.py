"""``hookwire.LLM``: the one entry point to every chat model, cloud, local or mock.

::

    llm = hookwire.LLM("siliconflow", model="Qwen/Qwen3-8B")      # key from SILICONFLOW_API_KEY
    print(llm.chat("你好", system="Answer briefly", temperature=0.7))
    for delta in llm.stream("Tell me a story", max_tokens=200):
        print(delta.content, end="")

The provider is chosen by name from the providers that plugins registered through
``hookwire_register_providers`` (built-in ones included, by the same entry-point path a third-party
plugin takes). ``LLM`` itself only validates arguments and delegates.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hookwire.errors import ConfigError, ContextLengthExceeded, InvalidRequest, PluginError
from hookwire.llm import _structured
from hookwire.llm._embed import DEFAULT_BATCH_SIZE, embed_inputs, positive
from hookwire.llm._request import ChatOptions, Prompt, build_request
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.provider import Provider
from hookwire.registry import PluginHost, get_plugin_host

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from hookwire.llm.conversation import Conversation
    from hookwire.llm.types import ChatDelta, ChatRequest, ChatResult, EmbeddingResult, TokenCount

__all__ = ["LLM", "list_providers"]

log = logging.getLogger("hookwire.llm")

#: Said when nothing names a provider: hookwire never starts a server behind a caller's back.
NO_PROVIDER = (
    "no LLM provider chosen: pass one, e.g. LLM(\"openai\", model=...), LLM(\"vllm\", "
    "base_url=...), or LLM(\"mock\") for the bundled offline mock; or set HOOKWIRE_PROVIDER "
    "or `provider =` in the config file (`hookwire config path` shows where it is)"
)


def _config() -> Any:
    """The CLI helper's config, if its module exists (a guarded import keeps ``hookwire`` light)."""
    try:
        from hookwire import config
    except ImportError:
        return None
    try:
        return config.load_config()
    except Exception as exc:
        log.warning("ignoring the config file: %s", exc)
        return None


def _accepts(factory: Any, name: str) -> bool:
    """Whether ``factory`` takes keyword ``name`` (directly or through ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")
_CHAT_OPTIONS = frozenset(ChatOptions.__annotations__)


def _unexpected_keyword(exc: TypeError) -> str | None:
    """The keyword a ``TypeError`` says a call did not take, however deep the call was."""
    match = _UNEXPECTED.search(str(exc))
    return match.group(1) if match else None


def _chat_request(prompt: Prompt, options: dict[str, Any], *, stream: bool, method: str) -> Any:
    """The ChatRequest for ``method``; an unknown option is an InvalidRequest naming it."""
    unknown = set(options) - _CHAT_OPTIONS
    if unknown:
        if "stream" in unknown and not stream:
            raise InvalidRequest(
                f"llm.{method}() returns the whole reply and takes no stream=; "
                f"use llm.{'astream' if method.startswith('a') else 'stream'}(...) to stream"
            )
        known = ", ".join(sorted(_CHAT_OPTIONS))
        raise InvalidRequest(
            f"llm.{method}() does not take {', '.join(map(repr, sorted(unknown)))}; "
            f"its options are: {known}"
        )
    # A schema response_format travels on the request as its OutputSpec (request.structured):
    # the wire dict goes to the provider, the spec stays with LLM to parse and re-ask.
    retries = _structured.retries_of(options.pop("validation_retries", None))
    spec = _structured.output_spec(options.get("response_format"), retries)
    if spec is not None:
        options["response_format"] = spec.wire
    request = build_request(prompt, stream=stream, **options)
    request.structured = spec
    return request


def _embed_args(texts: Any, dimensions: Any, batch_size: Any) -> tuple[list[str], int]:
    """The inputs as a list and the batch size, every argument checked before any request."""
    items = embed_inputs(texts)
    positive("dimensions", dimensions)
    size = positive("batch_size", batch_size)
    return items, size or DEFAULT_BATCH_SIZE


def list_providers(plugins: PluginHost | None = None) -> list[str]:
    """Names of every registered provider (aliases included), sorted."""
    return sorted((plugins or get_plugin_host()).providers())


class LLM:
    """A chat model behind a provider plugin.

    ``LLM(provider=None, *, model=None, base_url=None, api_key=None, plugins=None, **options)``:
    ``provider`` is a registered name (``"openai"``, ``"siliconflow"``, ``"vllm"``,
    ``"transformers"``, ``"mock"``...; default: ``HOOKWIRE_PROVIDER`` or the config file's;
    with neither, a :class:`~hookwire.errors.ConfigError` says how to choose, and no server
    starts unasked) or a ready :class:`Provider`. ``options`` go to the provider's factory
    (``transport=``, ``retry=``, ``timeout=``, ``stream_timeout=``, ``max_connections=``,
    ``device=``...), after the config file's settings for that provider. ``plugins`` is the
    plugin host whose providers and hooks apply (default: the process-wide one).

    The chat methods take a prompt (a string, a message dict or a list of them) and the
    keyword arguments of :class:`~hookwire.llm._request.ChatOptions`.
    """

    def __init__(
        self,
        provider: str | Provider | None = None,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        plugins: PluginHost | None = None,
        max_context: int | None = None,
        **options: Any,
    ) -> None:
        # checked here, not by the provider: any provider's prompts can be refused before sending
        self.max_context = positive("max_context", max_context)
        if isinstance(provider, Provider):
            self.provider = provider
            return
        config = _config()
        name = provider or getattr(config, "default_provider", None)
        if not name:
            raise ConfigError(NO_PROVIDER)
        if provider is None and model is None:  # the config's model goes with its provider
            model = getattr(config, "default_model", None)
        entry = (plugins or get_plugin_host()).lookup("provider", name)
        settings: dict[str, Any] = {}
        if config is not None:
            try:
                settings = dict(config.provider_settings(name) or {})
            except Exception as exc:
                log.warning("ignoring config settings for provider %r: %s", name, exc)
        explicit = {"model": model, "base_url": base_url, "api_key": api_key}
        settings.update(options)
        settings.update({k: v for k, v in explicit.items() if v is not None})
        if plugins is not None and _accepts(entry.value, "plugins"):
            settings["plugins"] = plugins  # so the provider's clients run this host's hooks
        try:
            made = entry.value(**settings)
        except TypeError as exc:
            unknown = _unexpected_keyword(exc)
            if unknown in settings:
                raise InvalidRequest(
                    f"LLM({name!r}) does not take the option {unknown!r}"
                    f" (check its spelling, or the provider's documentation)"
                ) from exc
            raise PluginError(
                f"provider {name!r} rejected its options ({exc})", plugin=entry.plugin
            ) from exc
        if not isinstance(made, Provider):
            raise PluginError(
                f"provider {name!r} factory returned {type(made).__name__}, not a Provider",
                plugin=entry.plugin,
            )
        self.provider = made

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def model(self) -> str | None:
        return self.provider.model

    # -- sync -------------------------------------------------------------------------------
    def chat(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatResult:
        """Send the prompt and wait for the whole reply."""
        request = _chat_request(prompt, dict(options), stream=False, method="chat")
        if self.max_context is not None:
            self._check_fits(request, self.provider.count_tokens(request))
        if request.structured is not None:
            return _structured.ask(self.provider.chat, request)
        return self.provider.chat(request)

    def stream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatStream:
        """Stream the reply: iterate for deltas (the request is sent on first iteration)."""
        request = _chat_request(prompt, dict(options), stream=True, method="stream")
        if self.max_context is not None:  # refused here, at the call, like a bad option
            self._check_fits(request, self.provider.count_tokens(request))
        return _structured.checked(self.provider.stream(request), request)

    # -- embeddings and token counts ---------------------------------------------------------
    def embed(
        self,
        texts: str | list[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        batch_size: int | None = None,
    ) -> EmbeddingResult:
        """Embedding vectors for ``texts`` (one string: one vector), in input order.

        Long lists go ``batch_size`` at a time (default 256, a few batches at once);
        ``dimensions`` shortens the vectors where the model allows it (OpenAI's v3 models).
        """
        items, size = _embed_args(texts, dimensions, batch_size)
        return self.provider.embed(items, model=model, dimensions=dimensions, batch_size=size)

    async def aembed(
        self,
        texts: str | list[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        batch_size: int | None = None,
    ) -> EmbeddingResult:
        """``await llm.aembed(...)``: :meth:`embed`, with the batches sent concurrently."""
        items, size = _embed_args(texts, dimensions, batch_size)
        return await self.provider.aembed(
            items, model=model, dimensions=dimensions, batch_size=size
        )

    def count_tokens(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> TokenCount:
        """Tokens the prompt (a string, messages, with ``system=``/``history=``) would take.

        ``.exact`` is True when the model's tokenizer counted them with its chat template
        (vLLM's and the mock's ``/tokenize``, a local model); otherwise ``.count`` is the
        estimate of :func:`~hookwire.llm.types.estimate_tokens` (about 4 characters a token).
        """
        request = _chat_request(prompt, dict(options), stream=False, method="count_tokens")
        return self.provider.count_tokens(request)

    async def acount_tokens(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> TokenCount:
        """``await llm.acount_tokens(...)``: :meth:`count_tokens` without blocking the loop."""
        request = _chat_request(prompt, dict(options), stream=False, method="acount_tokens")
        return await self.provider.acount_tokens(request)

    def _check_fits(self, request: ChatRequest, counted: TokenCount) -> None:
        """Refuse a prompt that, with room for ``max_tokens`` of reply, exceeds max_context."""
        limit = self.max_context
        reserved = request.max_tokens or 0
        if limit is None or counted.count + reserved <= limit:
            return
        how = "" if counted.exact else "about "
        room = f" + max_tokens={reserved}" if reserved else ""
        raise ContextLengthExceeded(
            f"the prompt takes {how}{counted.count} tokens{room}, more than "
            f"max_context={limit}: shorten it (or lower max_tokens); nothing was sent",
            tokens=counted.count, reserved=reserved, max_context=limit, exact=counted.exact,
        )

    def models(self) -> list[str]:
        """Model ids the provider serves."""
        return self.provider.models()

    def conversation(self, system: str | None = None, **defaults: Any) -> Conversation:
        """A :class:`Conversation` that keeps its history; ``defaults`` apply to every turn."""
        from hookwire.llm.conversation import Conversation

        return Conversation(self, system=system, **defaults)

    def close(self) -> None:
        """Close the provider's connections (and stop a local model's workers)."""
        self.provider.close()

    def __enter__(self) -> LLM:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- async ------------------------------------------------------------------------------
    async def achat(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatResult:
        """``await llm.achat(...)``: :meth:`chat` without blocking the event loop."""
        request = _chat_request(prompt, dict(options), stream=False, method="achat")
        if self.max_context is not None:
            self._check_fits(request, await self.provider.acount_tokens(request))
        if request.structured is not None:
            return await _structured.aask(self.provider.achat, request)
        return await self.provider.achat(request)

    def astream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """``async for delta in llm.astream(...)``: sent on first iteration."""
        request = _chat_request(prompt, dict(options), stream=True, method="astream")
        if self.max_context is None:
            return _structured.checked(self.provider.astream(request), request)
        return _structured.checked(self._checked_astream(request), request)

    def _checked_astream(self, request: ChatRequest) -> AsyncChatStream:
        """The stream, counted (asynchronously, on first iteration) before anything is sent."""
        provider = self.provider

        async def deltas() -> AsyncIterator[ChatDelta]:
            self._check_fits(request, await provider.acount_tokens(request))
            inner = provider.astream(request)
            try:
                async for delta in inner:
                    yield delta
            finally:
                await inner.aclose()

        model = request.model or provider.model or ""
        return AsyncChatStream(deltas(), provider=provider.name, model=model)

    async def amodels(self) -> list[str]:
        """Model ids the provider serves (async)."""
        return await self.provider.amodels()

    async def aclose(self) -> None:
        """Close the provider's connections (async)."""
        await self.provider.aclose()

    async def __aenter__(self) -> LLM:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<LLM provider={self.provider!r}>"
