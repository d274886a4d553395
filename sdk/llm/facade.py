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

import functools
import inspect
import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from hookwire.errors import ConfigError, ContextLengthExceeded, InvalidRequest, PluginError
from hookwire.llm import _structured
from hookwire.llm import tools as tools_mod
from hookwire.llm._cached import CachedProvider
from hookwire.llm._embed import DEFAULT_BATCH_SIZE, embed_inputs, positive
from hookwire.llm._limited import LimitedProvider
from hookwire.llm._request import ChatOptions, Prompt, build_request
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.cache import cache_of
from hookwire.llm.cost import Cost, CostTotals, PriceTable
from hookwire.llm.limits import RateLimiter
from hookwire.llm.observe import Observer
from hookwire.llm.provider import Provider
from hookwire.registry import PluginHost, get_plugin_host

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from hookwire.llm.batch import BatchResult
    from hookwire.llm.conversation import Conversation
    from hookwire.llm.types import ChatDelta, ChatRequest, ChatResult, EmbeddingResult, TokenCount

__all__ = ["LLM", "Router", "list_providers"]

_S = TypeVar("_S", ChatStream, AsyncChatStream)

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



def _price_table(prices: Any, config: Callable[[], Any]) -> PriceTable:
    if isinstance(prices, PriceTable):
        return prices
    if prices is not None:
        return PriceTable(prices)
    table = getattr(config(), "prices", None)
    return table() if callable(table) else PriceTable()


def _make_provider(
    provider: str | Provider | None,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    plugins: PluginHost | None,
    options: dict[str, Any],
    config_of: Callable[[], Any],
) -> Provider:
    """The provider named by ``provider`` (or the config's), built by its plugin's factory."""
    if isinstance(provider, Provider):
        return provider
    if provider is not None and not isinstance(provider, str):
        raise InvalidRequest(
            f"provider must be a name, a Provider or a list of deployments, not "
            f"{type(provider).__name__}"
        )
    config = config_of()
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
    return made


def _deployment(spec: Any, plugins: PluginHost | None) -> tuple[Provider, str]:
    """One router deployment and its name, from a name, a dict, an LLM or a Provider."""
    if isinstance(spec, LLM):
        return spec.provider, _default_name(spec.provider)
    if isinstance(spec, Provider):
        return spec, _default_name(spec)
    if isinstance(spec, str):
        made = LLM(spec, plugins=plugins).provider
        return made, _default_name(made)
    if isinstance(spec, Mapping):
        settings = dict(spec)
        if "provider" not in settings:
            raise InvalidRequest(f"a deployment dict needs 'provider': {sorted(settings)}")
        name = settings.pop("name", None)
        if "plugins" in settings:
            raise InvalidRequest("a deployment takes the router's plugins, not its own")
        made = LLM(settings.pop("provider"), plugins=plugins, **settings).provider
        return made, str(name) if name is not None else _default_name(made)
    raise InvalidRequest(
        f"a deployment is a provider name, a dict of LLM arguments, an LLM or a Provider, "
        f"not {type(spec).__name__}"
    )


def _default_name(provider: Provider) -> str:
    return f"{provider.name}:{provider.model}" if provider.model else provider.name


def _router(
    specs: list[Any], plugins: PluginHost | None, routing: dict[str, Any], hook: Any
) -> Provider:
    from hookwire.llm.router import RoutedProvider

    if not specs:
        raise InvalidRequest("a router needs at least one deployment")
    made: list[tuple[Provider, str]] = []
    try:
        for spec in specs:
            provider, name = _deployment(spec, plugins)
            taken = {n for _, n in made}
            base, k = name, 2
            while name in taken:  # the same model twice (two replicas): name them apart
                name, k = f"{base}#{k}", k + 1
            made.append((provider, name))
    except BaseException:
        for provider, _ in made:
            provider.close()
        raise
    return RoutedProvider(made, hook=hook, **routing)


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
        provider: str | Provider | Sequence[Any] | None = None,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        plugins: PluginHost | None = None,
        max_context: int | None = None,
        rpm: float | None = None,
        tpm: float | None = None,
        rate_limiter: RateLimiter | None = None,
        fallbacks: Sequence[Any] | None = None,
        strategy: str | None = None,
        cooldown: float | None = None,
        allowed_fails: int | None = None,
        fallback_on: tuple[type[BaseException], ...] | None = None,
        prices: PriceTable | Mapping[str, Any] | None = None,
        cache: Any = None,
        cache_ttl: float | None = None,
        cache_sampled: bool = False,
        **options: Any,
    ) -> None:
        # checked here, not by the provider: any provider's prompts can be refused before sending
        self.max_context = positive("max_context", max_context)
        self._plugins = plugins  # whose observation hooks fire (default: the process-wide host)
        config_of = functools.cache(_config)  # the config file is read once, and only if needed
        limiter = rate_limiter
        if limiter is not None and not isinstance(limiter, RateLimiter):
            raise InvalidRequest(f"rate_limiter must be a RateLimiter, not {limiter!r}")
        store = cache_of(cache)
        if cache_ttl is not None and (
            isinstance(cache_ttl, bool) or not isinstance(cache_ttl, (int, float)) or cache_ttl <= 0
        ):
            raise InvalidRequest(f"cache_ttl must be seconds > 0, not {cache_ttl!r}")
        if store is None and (cache_ttl is not None or cache_sampled):
            raise InvalidRequest("cache_ttl= and cache_sampled= need cache=...")
        if rpm is not None or tpm is not None:  # refused now, before any server starts
            if limiter is not None:
                raise InvalidRequest("pass rpm=/tpm= or rate_limiter=, not both")
            limiter = RateLimiter(rpm, tpm)
        routing = {"strategy": strategy, "cooldown": cooldown, "allowed_fails": allowed_fails,
                   "fallback_on": fallback_on}
        routing = {k: v for k, v in routing.items() if v is not None}
        many = isinstance(provider, Sequence) and not isinstance(provider, (str, bytes))
        if many or fallbacks is not None:
            if many:
                given = {"model": model, "base_url": base_url, "api_key": api_key}
                mixed = sorted(k for k, v in given.items() if v is not None) + sorted(options)
                if mixed or fallbacks is not None:
                    raise InvalidRequest(
                        f"LLM([...]) takes its deployments' settings inside the list, not "
                        f"{', '.join(mixed) or 'fallbacks='}"
                    )
                specs = list(provider)  # type: ignore[arg-type]
            else:
                if isinstance(fallbacks, (str, bytes)) or not isinstance(fallbacks, Sequence):
                    raise InvalidRequest(
                        f"fallbacks must be a list of deployments, not {type(fallbacks).__name__}"
                    )
                primary = {"provider": provider, "model": model, "base_url": base_url,
                           "api_key": api_key, **options}
                specs = [{k: v for k, v in primary.items() if v is not None}, *fallbacks]
            made: Provider = _router(specs, plugins, routing,
                                     (plugins or get_plugin_host()).hook)
        else:
            if routing:
                raise InvalidRequest(
                    f"{', '.join(sorted(routing))} apply to a router: pass a list of "
                    "deployments, LLM([...]), or fallbacks=[...]"
                )
            one = cast("str | Provider | None", provider)  # not a list: checked above
            made = _make_provider(one, model, base_url, api_key, plugins, options, config_of)
        if limiter is not None:
            made = LimitedProvider(made, limiter)
        if store is not None:  # outside the limiter: a cache hit takes no rate budget
            made = CachedProvider(made, store, ttl=cache_ttl, sampled=bool(cache_sampled))
        self.provider = made
        #: The price table (``prices=``, else the config file's ``[prices...]``; may be empty).
        self.prices = _price_table(prices, config_of)
        self._costs = CostTotals()

    # -- cost -------------------------------------------------------------------------------
    @property
    def cost(self) -> Cost | None:
        """What this LLM's calls cost so far (``None`` until a priced call; a ValueError when
        the prices are in several currencies: read :attr:`costs`)."""
        return self._costs.total()

    @property
    def costs(self) -> dict[str, Cost]:
        """The totals so far, one per currency."""
        return dict(self._costs.by_currency)

    def _priced(self, result: Any, req: ChatRequest | None = None) -> Any:
        """Set ``result.cost`` from the price table and add it to the totals."""
        prices = self.prices
        if not prices or result.usage is None:
            return result
        provider = result.provider or self.provider.name
        for model in (req.model if req is not None else None, result.model, self.model):
            price = prices.price(provider, model) if model else None
            if price is not None:
                # a reply from the response cache cost nothing this time
                result.cost = Cost(0.0, price.currency) if getattr(result, "cached", False) \
                    else price.cost(result.usage)
                self._costs.add(result.cost)
                break
        return result

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def model(self) -> str | None:
        return self.provider.model

    # -- observation ------------------------------------------------------------------------
    def _observer(self) -> Observer | None:
        """An Observer for one call when a plugin observes LLM calls or approves tool calls."""
        observer = Observer((self._plugins or get_plugin_host()).hook)
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
                except BaseException as exc:  # cancellation too: observers end their spans
                    observer.failed(call, exc)
                    raise
                observer.done(call, result)
                return result

            return asend

        def sync_send(req: ChatRequest) -> ChatResult:
            call = observer.start(operation, name, self._model_of(req), req, turn=next(turns))
            try:
                result: ChatResult = send(req)
            except BaseException as exc:  # cancellation too: observers end their spans
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
            except BaseException as exc:  # cancellation too: observers end their spans
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
            return self._priced(  # type: ignore[no-any-return]
                tools_mod.tool_loop(send, request, loop.box, **loop.kwargs(observer)), request
            )
        if request.structured is not None:
            return self._priced(_structured.ask(send, request), request)  # type: ignore[no-any-return]
        result: ChatResult = send(request)
        return self._priced(result, request)  # type: ignore[no-any-return]

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

            looped = tools_mod.stream_loop(
                self._opener(observer, provider_stream), request, loop.box,
                provider=self.provider.name, model=self._model_of(request),
                **loop.kwargs(observer),
            )
            return self._price_stream(looped, request)
        stream: ChatStream = self._opener(observer, provider_stream)(request)
        return self._price_stream(_structured.checked(stream, request), request)

    def _price_stream(self, stream: _S, request: ChatRequest) -> _S:
        if self.prices:
            stream.add_done_callback(lambda result: self._priced(result, request))
        return stream

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
            return self._priced(  # type: ignore[no-any-return]
                self.provider.embed(items, model=model, dimensions=dimensions, batch_size=size)
            )
        call = observer.start("embeddings", self.provider.name, model or self.provider.model or "",
                              inputs=len(items))
        try:
            result = self.provider.embed(items, model=model, dimensions=dimensions,
                                         batch_size=size)
        except BaseException as exc:  # cancellation too: observers end their spans
            observer.failed(call, exc)
            raise
        observer.done(call, self._priced(result))
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
            return self._priced(  # type: ignore[no-any-return]
                await self.provider.aembed(
                    items, model=model, dimensions=dimensions, batch_size=size
                )
            )
        call = observer.start("embeddings", self.provider.name, model or self.provider.model or "",
                              inputs=len(items))
        try:
            result = await self.provider.aembed(
                items, model=model, dimensions=dimensions, batch_size=size
            )
        except BaseException as exc:  # cancellation too: observers end their spans
            observer.failed(call, exc)
            raise
        observer.done(call, self._priced(result))
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
            return self._priced(  # type: ignore[no-any-return]
                await tools_mod.atool_loop(send, request, loop.box, **loop.kwargs(observer)),
                request,
            )
        if request.structured is not None:
            return self._priced(await _structured.aask(send, request), request)  # type: ignore[no-any-return]
        result: ChatResult = await send(request)
        return self._priced(result, request)  # type: ignore[no-any-return]

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
            return self._price_stream(tools_mod.astream_loop(
                opener, request, loop.box, provider=self.provider.name,
                model=self._model_of(request), **loop.kwargs(observer),
            ), request)
        stream: AsyncChatStream = opener(request)
        return self._price_stream(_structured.checked(stream, request), request)

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

    # -- batch jobs (hookwire.llm.batch) ------------------------------------------------------
    def batch(self, items: Any, *, concurrency: int = 16, retries: int = 3,
              checkpoint: Any = None, resume: bool = True, progress: Any = None,
              on_result: Any = None) -> BatchResult:
        """Run every item (prompts, option dicts or OpenAI batch lines) on ``concurrency``
        threads; a :class:`~hookwire.llm.batch.BatchResult` in input order. See
        :mod:`hookwire.llm.batch` for retries, the checkpoint and resuming."""
        from hookwire.llm import batch as batch_mod

        run = batch_mod.start(self, items, concurrency=concurrency, retries=retries,
                              checkpoint=checkpoint, resume=resume, progress=progress,
                              on_result=on_result)
        return batch_mod.run_sync(run)

    async def abatch(self, items: Any, *, concurrency: int = 16, retries: int = 3,
                     checkpoint: Any = None, resume: bool = True, progress: Any = None,
                     on_result: Any = None) -> BatchResult:
        """``await llm.abatch(...)``: :meth:`batch` as ``concurrency`` tasks on this loop."""
        from hookwire.llm import batch as batch_mod

        run = batch_mod.start(self, items, concurrency=concurrency, retries=retries,
                              checkpoint=checkpoint, resume=resume, progress=progress,
                              on_result=on_result)
        return await batch_mod.run_async(run)

    def __repr__(self) -> str:
        return f"<LLM provider={self.provider!r}>"


class Router(LLM):
    """``hookwire.Router([...], strategy=..., cooldown=...)``: an :class:`LLM` over several
    deployments, the spelling litellm users know (the same as ``LLM([...])``; see
    :mod:`hookwire.llm.router`). ``stats()`` reports each deployment."""

    def __init__(self, deployments: Sequence[Any], **options: Any) -> None:
        if isinstance(deployments, (str, bytes)) or not isinstance(deployments, Sequence):
            raise InvalidRequest(
                f"Router takes a list of deployments, not {type(deployments).__name__}"
            )
        super().__init__(list(deployments), **options)

    def stats(self) -> list[dict[str, Any]]:
        """Each deployment's calls, failures, calls in flight, latency and cooldown left."""
        stats: list[dict[str, Any]] = self.provider.stats()  # type: ignore[attr-defined]
        return stats
