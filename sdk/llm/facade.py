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
import itertools
import logging
import re
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hookwire.errors import ConfigError, ContextLengthExceeded, InvalidRequest, PluginError
from hookwire.llm import _structured
from hookwire.llm import tools as tools_mod
from hookwire.llm._embed import DEFAULT_BATCH_SIZE, embed_inputs, positive
from hookwire.llm._request import ChatOptions, Prompt, build_request
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.observe import Observer
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
_CHAT_OPTIONS = frozenset(ChatOptions.__annotations__) - frozenset(("max_turns", "tool_errors",
                                                                     "approve"))


def _unexpected_keyword(exc: TypeError) -> str | None:
    """The keyword a ``TypeError`` says a call did not take, however deep the call was."""
    match = _UNEXPECTED.search(str(exc))
    return match.group(1) if match else None


_LOOP_OPTIONS = ("max_turns", "tool_errors", "approve")


def _loop_settings(options: dict[str, Any]) -> Any:
    """Python functions in ``tools=``: the loop's settings, the tools made wire dicts."""
    given = {k: options.pop(k) for k in _LOOP_OPTIONS if k in options}
    if not tools_mod.Toolbox.wanted(options.get("tools")):
        named = sorted(k for k, v in given.items() if v is not None)
        if named:
            raise InvalidRequest(
                f"{', '.join(named)} apply to the tool loop, which runs when tools= holds "
                "Python functions (these tools are dicts only: the caller runs them)"
            )
        return None
    box = tools_mod.Toolbox(options["tools"])
    max_turns, tool_errors = tools_mod.check_options(
        given.get("max_turns"), given.get("tool_errors"), given.get("approve")
    )
    options["tools"] = box.wire
    return _LoopSettings(box, max_turns, tool_errors, given.get("approve"))


class _LoopSettings:
    __slots__ = ("approve", "box", "max_turns", "tool_errors")

    def __init__(self, box: Any, max_turns: int, tool_errors: str, approve: Any) -> None:
        self.box, self.max_turns, self.tool_errors, self.approve = (
            box, max_turns, tool_errors, approve
        )

    def kwargs(self, observer: Observer | None) -> dict[str, Any]:
        return {"max_turns": self.max_turns, "tool_errors": self.tool_errors,
                "approve": self.approve, "observer": observer}


def _chat_request(prompt: Prompt, options: dict[str, Any], *, stream: bool, method: str) -> Any:
    """The ChatRequest for ``method``; an unknown option is an InvalidRequest naming it."""
    loop = _loop_settings(options)
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
    if loop is not None:
        if spec is not None:
            raise InvalidRequest(
                "a schema response_format and Python functions in tools= cannot be combined "
                "yet: run the tool loop first, then ask for the structured answer"
            )
        if (request.n or 1) > 1:
            raise InvalidRequest("the tool loop follows one reply: n must be 1 with tools=[fn]")
        request.loop = loop
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
        self._hook = (plugins or get_plugin_host()).hook  # the observation hooks' host
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

    # -- observation ------------------------------------------------------------------------
    def _observer(self) -> Observer | None:
        """An Observer for one call when a plugin observes LLM calls or approves tool calls."""
        observer = Observer(self._hook)
        return observer if observer.active or observer.approving else None

    def _model_of(self, req: ChatRequest) -> str:
        return req.model or self.provider.model or ""

    def _sender(self, observer: Observer | None, send: Any, operation: str = "chat") -> Any:
        """``send`` (a provider's chat/achat), with the hooks fired around each call."""
        if observer is None or not observer.active:
            return send
        turns = itertools.count(1)
        name = self.provider.name
        if inspect.iscoroutinefunction(send):

            async def asend(req: ChatRequest) -> ChatResult:
                call = observer.start(operation, name, self._model_of(req), req,
                                      turn=next(turns))
                try:
                    result: ChatResult = await send(req)
                except Exception as exc:
                    observer.failed(call, exc)
                    raise
                observer.done(call, result)
                return result

            return asend

        def sync_send(req: ChatRequest) -> ChatResult:
            call = observer.start(operation, name, self._model_of(req), req, turn=next(turns))
            try:
                result: ChatResult = send(req)
            except Exception as exc:
                observer.failed(call, exc)
                raise
            observer.done(call, result)
            return result

        return sync_send

    def _opener(self, observer: Observer | None, open_stream: Any) -> Any:
        """``open_stream`` (a request -> stream function), with the hooks watching each stream."""
        if observer is None or not observer.active:
            return open_stream
        turns = itertools.count(1)
        name = self.provider.name

        def open_observed(req: ChatRequest) -> Any:
            call = observer.start("stream", name, self._model_of(req), req, turn=next(turns))
            try:
                stream = open_stream(req)
            except Exception as exc:
                observer.failed(call, exc)
                raise
            observer.watch(call, stream)
            return stream

        return open_observed

    # -- sync -------------------------------------------------------------------------------
    def chat(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatResult:
        """Send the prompt and wait for the whole reply.

        With Python functions in ``tools=``, runs the tool loop (:mod:`hookwire.llm.tools`)
        and returns the final reply, ``tool_runs`` and ``messages`` filled in.
        """
        request = _chat_request(prompt, dict(options), stream=False, method="chat")
        observer = self._observer()
        provider_chat = self.provider.chat
        if self.max_context is not None:
            provider_chat = self._fitting(provider_chat)
        send = self._sender(observer, provider_chat)
        loop = request.loop
        if loop is not None:
            return tools_mod.tool_loop(send, request, loop.box, **loop.kwargs(observer))
        if request.structured is not None:
            return _structured.ask(send, request)
        result: ChatResult = send(request)
        return result

    def _fitting(self, send: Any) -> Any:
        def checked(req: ChatRequest) -> Any:
            self._check_fits(req, self.provider.count_tokens(req))
            return send(req)

        return checked

    def stream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatStream:
        """Stream the reply: iterate for deltas (the request is sent on first iteration).

        Through a tool loop the deltas of every reply arrive in order, the tools run between
        replies (``stream.tool_runs``), and ``stream.result()`` is the final reply.
        """
        request = _chat_request(prompt, dict(options), stream=True, method="stream")
        if self.max_context is not None:  # refused here, at the call, like a bad option
            self._check_fits(request, self.provider.count_tokens(request))
        observer = self._observer()
        provider_stream = self.provider.stream
        loop = request.loop
        if loop is not None:
            if self.max_context is not None:
                first = request

                def provider_stream(req: ChatRequest) -> ChatStream:  # later turns are checked
                    if req is not first and req.messages != first.messages:
                        self._check_fits(req, self.provider.count_tokens(req))
                    return self.provider.stream(req)

            return tools_mod.stream_loop(
                self._opener(observer, provider_stream), request, loop.box,
                provider=self.provider.name, model=self._model_of(request),
                **loop.kwargs(observer),
            )
        stream: ChatStream = self._opener(observer, provider_stream)(request)
        return _structured.checked(stream, request)

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
        observer = self._observer()
        if observer is None or not observer.active:
            return self.provider.embed(items, model=model, dimensions=dimensions, batch_size=size)
        call = observer.start("embeddings", self.provider.name, model or self.provider.model or "",
                              inputs=len(items))
        try:
            result = self.provider.embed(items, model=model, dimensions=dimensions,
                                         batch_size=size)
        except Exception as exc:
            observer.failed(call, exc)
            raise
        observer.done(call, result)
        return result

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
        observer = self._observer()
        if observer is None or not observer.active:
            return await self.provider.aembed(
                items, model=model, dimensions=dimensions, batch_size=size
            )
        call = observer.start("embeddings", self.provider.name, model or self.provider.model or "",
                              inputs=len(items))
        try:
            result = await self.provider.aembed(
                items, model=model, dimensions=dimensions, batch_size=size
            )
        except Exception as exc:
            observer.failed(call, exc)
            raise
        observer.done(call, result)
        return result

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
        """``await llm.achat(...)``: :meth:`chat` without blocking the event loop; a tool
        loop runs the calls of one reply concurrently."""
        request = _chat_request(prompt, dict(options), stream=False, method="achat")
        observer = self._observer()
        provider_chat = self.provider.achat
        if self.max_context is not None:
            provider_chat = self._afitting(provider_chat)
        send = self._sender(observer, provider_chat)
        loop = request.loop
        if loop is not None:
            return await tools_mod.atool_loop(send, request, loop.box, **loop.kwargs(observer))
        if request.structured is not None:
            return await _structured.aask(send, request)
        result: ChatResult = await send(request)
        return result

    def _afitting(self, send: Any) -> Any:
        async def checked(req: ChatRequest) -> Any:
            self._check_fits(req, await self.provider.acount_tokens(req))
            return await send(req)

        return checked

    def astream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """``async for delta in llm.astream(...)``: sent on first iteration."""
        request = _chat_request(prompt, dict(options), stream=True, method="astream")
        observer = self._observer()
        open_stream = self.provider.astream if self.max_context is None else self._checked_astream
        opener = self._opener(observer, open_stream)
        loop = request.loop
        if loop is not None:
            return tools_mod.astream_loop(
                opener, request, loop.box, provider=self.provider.name,
                model=self._model_of(request), **loop.kwargs(observer),
            )
        stream: AsyncChatStream = opener(request)
        return _structured.checked(stream, request)

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
