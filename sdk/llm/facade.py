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
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hookwire.errors import ConfigError, InvalidRequest, PluginError
from hookwire.llm import _structured
from hookwire.llm._request import ChatOptions, Prompt, build_request
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.provider import Provider
from hookwire.registry import PluginHost, get_plugin_host

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from hookwire.llm.conversation import Conversation
    from hookwire.llm.types import ChatResult

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
        **options: Any,
    ) -> None:
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
        if request.structured is not None:
            return _structured.ask(self.provider.chat, request)
        return self.provider.chat(request)

    def stream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> ChatStream:
        """Stream the reply: iterate for deltas (the request is sent on first iteration)."""
        request = _chat_request(prompt, dict(options), stream=True, method="stream")
        return _structured.checked(self.provider.stream(request), request)

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
        if request.structured is not None:
            return await _structured.aask(self.provider.achat, request)
        return await self.provider.achat(request)

    def astream(self, prompt: Prompt, **options: Unpack[ChatOptions]) -> AsyncChatStream:
        """``async for delta in llm.astream(...)``: sent on first iteration."""
        request = _chat_request(prompt, dict(options), stream=True, method="astream")
        return _structured.checked(self.provider.astream(request), request)

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
