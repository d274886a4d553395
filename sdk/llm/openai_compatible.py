"""``OpenAICompatibleProvider``: any server that speaks ``POST /chat/completions``.

Every call goes through ``hookwire.Client`` / ``hookwire.AsyncClient``, so auth, retry, transport
and
observation plugins apply to LLM calls exactly as to any other request. The protocol itself is
in :mod:`hookwire.llm._openai_wire` (pure) and stream handling in :mod:`hookwire.llm._stream`; this
class
only wires them to the clients.

Extending it (presets, vLLM) means overriding a few small hooks:

=========================  ======================================================================
hook                       default
=========================  ======================================================================
``thinking_fields(req)``   from ``thinking_style``: ``"enable_thinking"`` (top-level
                           ``enable_thinking`` + ``thinking_budget``), ``"chat_template_kwargs"``
                           (``{"chat_template_kwargs": {"enable_thinking": ...}}``) or ``None``
                           (a thinking argument is an error: it would be silently ignored)
``extra_fields(req)``      ``{}``: provider-specific body fields
``parse_reasoning(obj)``   ``reasoning`` or ``reasoning_content`` of a message or delta
``resolve_model(req)``     ``req.model`` or the configured model
``url(path)``              ``base_url + path`` (override to pick a replica)
=========================  ======================================================================
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

from hookwire._client import AsyncClient, Client
from hookwire._models import Request, Response
from hookwire.auth import BearerAuth
from hookwire.errors import (
    APIStatusError,
    ConfigError,
    InvalidRequest,
    MissingAPIKeyError,
    NotFoundError,
    RetryError,
)
from hookwire.llm import _embed
from hookwire.llm import _openai_wire as wire
from hookwire.llm._stream import AsyncChatStream, ChatStream, StreamDeadlines, aiter_sse, iter_sse
from hookwire.llm.provider import Provider
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    StreamTimeout,
    TokenCount,
)
from hookwire.retry import RetryPolicy, parse_retry_after
from hookwire.timeouts import Timeout

__all__ = ["OpenAICompatibleProvider", "ThinkingStyle", "config_key"]

ThinkingStyle = Literal["enable_thinking", "chat_template_kwargs"] | None

#: Non-streamed replies can take minutes to generate: a long read, a short connect.
DEFAULT_TIMEOUT = Timeout(connect=5.0, read=600.0, write=60.0, pool=10.0)


def config_key(provider: str, env_var: str | None = None) -> str | None:
    """The key stored by the CLI's config (``hookwire.config``: keyring or key file), if any."""
    try:
        from hookwire import config
    except ImportError:  # the CLI helper's module may be absent: keys then come from args/env
        return None
    try:
        key = config.load_config().get_key(provider, env_var)
    except ConfigError:
        raise  # a refusal the user must act on (a key file others can read: chmod 600 ...)
    except Exception:  # a broken config file must not hide the MissingAPIKeyError hint
        return None
    return key if isinstance(key, str) and key else None


def _stream_timeout(value: Any, default: StreamTimeout) -> StreamTimeout:
    if value is None:
        return default
    if isinstance(value, StreamTimeout):
        return value
    if isinstance(value, Timeout):
        return StreamTimeout(value.connect, value.first_byte or value.read, value.read, value.total)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return StreamTimeout(value, value, value, None)
    raise InvalidRequest(f"timeout= takes seconds, a StreamTimeout or a Timeout, not {value!r}")


def _retry(value: RetryPolicy | int | None) -> RetryPolicy | int | None:
    """``None``: openai-python's policy; ``n``: that policy with n retries; a policy: its
    attempts, backoff and statuses, with POST allowed. Every call of an LLM API is a POST, and
    every OpenAI client retries chat completions: a ``RetryPolicy()`` given here (whose default
    methods leave POST out, as an HTTP client's should) would otherwise never retry at all."""
    if value is None:
        return RetryPolicy.from_openai()
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return RetryPolicy.from_openai().replace(attempts=value + 1)
    if isinstance(value, RetryPolicy) and not value.retry_post:
        return value.replace(retry_post=True)
    return value


def _check_client_options(provider: str, options: Mapping[str, Any]) -> None:
    """Refuse, when the provider is built, an option no ``Client`` takes (``rpm=60``): it would
    otherwise surface on the first call as a ``TypeError`` naming an internal function."""
    import inspect

    from hookwire._client_base import BaseClient

    accepted = set(inspect.signature(BaseClient.__init__).parameters) - {"self"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InvalidRequest(
            f"LLM({provider!r}) does not take {', '.join(map(repr, unknown))} (check the "
            "spelling; provider options are the provider's own and every hookwire.Client option)"
        )


class OpenAICompatibleProvider(Provider):
    """A provider for OpenAI-style chat APIs (OpenAI, SiliconFlow, DeepSeek, DashScope...).

    Arguments: ``model``, ``base_url``, ``api_key`` (else ``env_var`` in the environment, else
    the config file; required when ``key_required``), ``thinking_style`` (see the module table),
    ``started_in_reasoning`` (the server's chat template opens ``<think>`` in the prompt, so
    inline output holds only ``</think>``), ``inline_reasoning`` (split ``<think>`` tags out of
    content when the server does not; default on), ``retry`` (default
    ``RetryPolicy.from_openai()``; a number n means that policy with n retries), ``timeout``
    (non-stream calls, a ``Timeout`` or seconds), ``stream_timeout`` (a ``StreamTimeout``),
    ``headers``, and every other ``hookwire.Client`` option (``transport``, ``max_connections``,
    ``plugins``, ``clock``, ``verify``, ``proxy``...). ``client=`` / ``async_client=`` hand
    over ready-made clients instead.
    """

    name = "openai-compatible"
    default_base_url: str | None = None
    env_var: str | None = "OPENAI_API_KEY"
    key_required = False
    default_thinking_style: ThinkingStyle = "enable_thinking"
    chat_path = "/chat/completions"
    models_path = "/models"
    embeddings_path = "/embeddings"
    #: vLLM's ``/tokenize`` (at the server root, beside ``/v1``); ``None``: the API has no
    #: tokenizer endpoint, so ``count_tokens`` estimates
    tokenize_path: str | None = None
    #: Batches of one ``embed`` call in flight at once (threads in sync, tasks in async)
    embed_concurrency = 4

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        name: str | None = None,
        env_var: str | object | None = ...,
        key_required: bool | None = None,
        thinking_style: ThinkingStyle | object = ...,
        started_in_reasoning: bool = False,
        inline_reasoning: bool = True,
        retry: RetryPolicy | int | None = None,
        timeout: Timeout | float | None = None,
        stream_timeout: StreamTimeout | None = None,
        headers: Mapping[str, str] | None = None,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        **client_options: Any,
    ) -> None:
        super().__init__(model=model)
        if name is not None:
            self.name = name
        _check_client_options(self.name, client_options)
        if env_var is not ...:
            self.env_var = env_var  # type: ignore[assignment]
        if key_required is not None:
            self.key_required = key_required
        self.thinking_style: ThinkingStyle = (
            self.default_thinking_style if thinking_style is ... else thinking_style  # type: ignore[assignment]
        )
        url = base_url or self.default_base_url
        if not url:
            raise InvalidRequest(f"provider {self.name!r} needs base_url=... (the API's /v1 URL)")
        self.base_url = url.rstrip("/")
        self.__key = self._resolve_key(api_key)
        self.started_in_reasoning = started_in_reasoning
        self.inline_reasoning = inline_reasoning
        self.timeout = Timeout.of(timeout) if timeout is not None else DEFAULT_TIMEOUT
        self.stream_timeout = stream_timeout or StreamTimeout()
        options: dict[str, Any] = {
            "retry": _retry(retry),
            "headers": {"Accept": "application/json", **(headers or {})},
            **client_options,
        }
        if self.__key:
            options["auth"] = BearerAuth(self.__key)
        self._client_options = options
        self._client = client
        self._async_client = async_client
        self._owns = (client is None, async_client is None)
        self._lock = threading.Lock()

    # -- keys -------------------------------------------------------------------------------
    def _resolve_key(self, api_key: str | None) -> str | None:
        """Argument > environment variable > config file; a clear error when required."""
        from_env = os.environ.get(self.env_var, "").strip() if self.env_var else ""
        key = api_key or from_env or None
        key = key or config_key(self.name, self.env_var)
        if not key and self.key_required:
            where = f"set {self.env_var} or pass api_key=..." if self.env_var else "pass api_key="
            raise MissingAPIKeyError(
                f"no API key for provider {self.name!r}: {where}",
                provider=self.name,
                env_var=self.env_var,
            )
        return key or None

    @property
    def has_key(self) -> bool:
        return self.__key is not None

    # -- clients ----------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        """The sync client, made on first use (one pool shared by every thread)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = Client(**self._client_options)
        return self._client

    @property
    def async_client(self) -> AsyncClient:
        if self._async_client is None:
            with self._lock:
                if self._async_client is None:
                    self._async_client = AsyncClient(**self._client_options)
        return self._async_client

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- hooks ------------------------------------------------------------------------------
    def thinking_fields(self, req: ChatRequest) -> dict[str, Any]:
        """Body fields that switch thinking on/off and set its budget (see the module table)."""
        if req.thinking is None and req.thinking_budget is None:
            return {}
        style = self.thinking_style
        if style is None:
            raise InvalidRequest(
                f"provider {self.name!r} has no thinking switch: choose a reasoning model, or "
                "send the provider's own field with extra_body={...}"
            )
        if style == "chat_template_kwargs":
            if req.thinking_budget is not None:
                raise InvalidRequest(
                    f"provider {self.name!r} has no thinking budget; use extra_body={{...}}"
                )
            return {"chat_template_kwargs": {"enable_thinking": req.thinking is not False}}
        fields: dict[str, Any] = {}
        if req.thinking is not None:
            fields["enable_thinking"] = req.thinking
        if req.thinking_budget is not None:
            fields["thinking_budget"] = req.thinking_budget
        return fields

    def extra_fields(self, req: ChatRequest) -> dict[str, Any]:
        """Provider-specific body fields (none here)."""
        return {}

    def parse_reasoning(self, message_or_delta: Mapping[str, Any]) -> str | None:
        return wire.default_reasoning(message_or_delta)

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        fields = {**self.thinking_fields(req), **self.extra_fields(req)}
        return wire.build_body(req, self.resolve_model(req), fields)

    def _inline(self, req: ChatRequest) -> bool:
        return self.inline_reasoning and req.thinking is not False

    def _started_in_reasoning(self, req: ChatRequest) -> bool:
        """Whether inline output begins inside the reasoning block.

        Asked to think (``thinking=True``), a template-driven model (Qwen3 Thinking-2507, QwQ)
        has its ``<think>`` opened by the chat template in the prompt, and a server with no
        reasoning parser passes on ``plan</think>answer``. As vLLM's qwen3 parser does when
        thinking is on, the text before the first ``</think>`` is then reasoning (a ``<think>``
        the model writes anyway is dropped). A server that splits for itself (a ``reasoning``
        field) is trusted instead, and ``thinking=None`` keeps to the tags the output holds.
        """
        return self.started_in_reasoning or req.thinking is True

    def _parser(self, req: ChatRequest) -> wire.ChunkParser:
        return wire.ChunkParser(
            reasoning_of=self.parse_reasoning,
            inline=self._inline(req),
            started_in_reasoning=self._started_in_reasoning(req),
        )

    def _result(self, req: ChatRequest, data: Any) -> ChatResult:
        return wire.parse_completion(
            data,
            provider=self.name,
            reasoning_of=self.parse_reasoning,
            inline=self._inline(req),
            started_in_reasoning=self._started_in_reasoning(req),
        )

    # -- errors -----------------------------------------------------------------------------
    def _status_error(self, response: Response) -> APIStatusError:
        now = time.time()  # only an HTTP-date Retry-After needs it
        return wire.error_from_body(
            response.status_code,
            response.content,
            retry_after=parse_retry_after(response.headers, now),
            secrets=(self.__key,) if self.__key else (),
            request=response.request,
            response=response,
            attempts=response.attempts,
        )

    def _timeouts(self, req: ChatRequest) -> tuple[Timeout, StreamTimeout]:
        st = req.timeout or self.stream_timeout
        if not req.stream:
            http = self.timeout if req.timeout is None else Timeout(
                connect=st.connect, read=st.first_token, write=60.0, pool=10.0, total=st.total
            )
            return http, st
        http = Timeout(
            connect=st.connect,
            read=st.idle,
            write=self.timeout.write,
            pool=self.timeout.pool,
            total=st.total,
            first_byte=st.first_token,
        )
        return http, st

    # -- sync -------------------------------------------------------------------------------
    def _build(self, client: Client | AsyncClient, req: ChatRequest, body: dict[str, Any],
               timeout: Timeout) -> Request:
        return client.build_request(
            "POST", self.url(self.chat_path), json=body, timeout=timeout,
            headers=req.extra_headers or None,
        )

    def _send(self, req: ChatRequest, body: dict[str, Any], timeout: Timeout,
              stream: bool) -> Response:
        return self._send_request(self._build(self.client, req, body, timeout), stream)

    def _send_request(self, request: Request, stream: bool) -> Response:
        """Send on the sync client; a refused status (also the last one of spent retries) is
        the provider's typed error, with the body read into it."""
        try:
            response = self.client.send(request, stream=stream)
        except RetryError as exc:
            last: Response | None = getattr(exc, "last_response", None)
            if last is None:
                raise
            last.read()
            raise self._status_error(last) from exc
        if response.status_code >= 400:
            response.read()
            raise self._status_error(response)
        return response

    def chat(self, req: ChatRequest) -> ChatResult:
        body = self.build_body(req)
        response = self._send(req, body, self._timeouts(req)[0], stream=False)
        return self._result(req, response.json())

    def stream(self, req: ChatRequest) -> ChatStream:
        if not req.stream:
            req = _with_stream(req)
        body = self.build_body(req)
        return ChatStream(self._deltas(req, body), provider=self.name, model=body["model"])

    def _deltas(self, req: ChatRequest, body: dict[str, Any]) -> Iterator[ChatDelta]:
        http, st = self._timeouts(req)
        clock = self.client.clock
        deadlines = StreamDeadlines(st, clock.monotonic())
        response = self._send(req, body, http, stream=True)
        try:
            if not _is_event_stream(response):  # a server that ignored stream=True
                response.read()
                yield from _deltas_of(self._result(req, response.json()))
                return
            yield from iter_sse(response, self._parser(req), deadlines, clock)
        finally:
            response.close()

    def models(self) -> list[str]:
        response = self.client.get(self.url(self.models_path), timeout=self.timeout)
        if response.status_code >= 400:
            raise self._status_error(response)
        return _model_ids(response.json())

    # -- embeddings and token counts (sync) ------------------------------------------------
    def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        request = self.client.build_request("POST", url, json=body, timeout=self.timeout)
        return self._send_request(request, stream=False).json()

    def _embed_batch(self, batch: Any, model: str, dimensions: int | None) -> Any:
        data = self._post_json(
            self.url(self.embeddings_path), _embed.embedding_body(batch, model, dimensions)
        )
        return (*_embed.parse_embeddings(data, len(batch)), data)

    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        name = self.resolve_model(ChatRequest(messages=[], model=model))
        chunks = list(_embed.batches(texts, batch_size))
        if len(chunks) == 1:
            parts = [self._embed_batch(chunks[0], name, dimensions)]
        else:  # the client's pool is shared by threads; map() keeps the batches in order
            from concurrent.futures import ThreadPoolExecutor

            workers = min(self.embed_concurrency, len(chunks))
            with ThreadPoolExecutor(workers, thread_name_prefix="sdk-llm-embed") as pool:
                # each batch runs in its own copy of the caller's context (a tracing span)
                contexts = [contextvars.copy_context() for _ in chunks]
                parts = list(pool.map(
                    lambda ctx, c: ctx.run(self._embed_batch, c, name, dimensions),
                    contexts, chunks,
                ))
        return _embed.merge(parts, name, self.name)

    def _tokenize_url(self) -> str | None:
        return _embed.root_url(self.base_url) + self.tokenize_path if self.tokenize_path else None

    def _token_count(self, req: ChatRequest, model: str, data: Any) -> TokenCount:
        if data is None:  # no tokenizer endpoint: the documented estimate
            return super().count_tokens(req)
        count, window = _embed.parse_tokenize(data)
        return TokenCount(count, True, model, window)

    def _tokenize_body(self, req: ChatRequest) -> tuple[str, dict[str, Any]]:
        """``/tokenize``'s chat form, from the body a chat would send: the same messages, tools
        and ``chat_template_kwargs`` (thinking on/off changes what the template renders)."""
        chat = self.build_body(req)
        body = _embed.tokenize_body(chat["messages"], chat["model"])
        body.update({k: chat[k] for k in ("tools", "chat_template_kwargs") if k in chat})
        return chat["model"], body

    def count_tokens(self, req: ChatRequest) -> TokenCount:
        url = self._tokenize_url()
        if url is None:
            return super().count_tokens(req)
        model, body = self._tokenize_body(req)
        try:
            data = self._post_json(url, body)
        except NotFoundError as exc:  # a server (or proxy) without /tokenize: estimate instead
            data = _no_tokenizer(exc)
        return self._token_count(req, model, data)

    def close(self) -> None:
        if self._client is not None and self._owns[0]:
            self._client.close()

    # -- async ------------------------------------------------------------------------------
    async def _asend(self, req: ChatRequest, body: dict[str, Any], timeout: Timeout,
                     stream: bool) -> Response:
        return await self._asend_request(self._build(self.async_client, req, body, timeout), stream)

    async def _asend_request(self, request: Request, stream: bool) -> Response:
        """The async twin of :meth:`_send_request`."""
        try:
            response = await self.async_client.send(request, stream=stream)
        except RetryError as exc:
            last: Response | None = getattr(exc, "last_response", None)
            if last is None:
                raise
            await last.aread()
            raise self._status_error(last) from exc
        if response.status_code >= 400:
            await response.aread()
            raise self._status_error(response)
        return response

    async def achat(self, req: ChatRequest) -> ChatResult:
        body = self.build_body(req)
        response = await self._asend(req, body, self._timeouts(req)[0], stream=False)
        return self._result(req, response.json())

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        if not req.stream:
            req = _with_stream(req)
        body = self.build_body(req)
        return AsyncChatStream(self._adeltas(req, body), provider=self.name, model=body["model"])

    async def _adeltas(self, req: ChatRequest, body: dict[str, Any]) -> AsyncIterator[ChatDelta]:
        http, st = self._timeouts(req)
        clock = self.async_client.clock
        deadlines = StreamDeadlines(st, clock.monotonic())
        response = await self._asend(req, body, http, stream=True)
        try:
            if not _is_event_stream(response):
                await response.aread()
                for delta in _deltas_of(self._result(req, response.json())):
                    yield delta
                return
            async for delta in aiter_sse(response, self._parser(req), deadlines, clock):
                yield delta
        finally:
            await response.aclose()

    async def amodels(self) -> list[str]:
        response = await self.async_client.get(self.url(self.models_path), timeout=self.timeout)
        if response.status_code >= 400:
            raise self._status_error(response)
        return _model_ids(response.json())

    # -- embeddings and token counts (async) -----------------------------------------------
    async def _apost_json(self, url: str, body: dict[str, Any]) -> Any:
        request = self.async_client.build_request("POST", url, json=body, timeout=self.timeout)
        return (await self._asend_request(request, stream=False)).json()

    async def aembed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        import asyncio

        name = self.resolve_model(ChatRequest(messages=[], model=model))
        gate = asyncio.Semaphore(self.embed_concurrency)
        url = self.url(self.embeddings_path)

        async def one(batch: Any) -> Any:
            async with gate:
                data = await self._apost_json(url, _embed.embedding_body(batch, name, dimensions))
            return (*_embed.parse_embeddings(data, len(batch)), data)

        parts = await asyncio.gather(*(one(c) for c in _embed.batches(texts, batch_size)))
        return _embed.merge(parts, name, self.name)

    async def acount_tokens(self, req: ChatRequest) -> TokenCount:
        url = self._tokenize_url()
        if url is None:
            return super().count_tokens(req)
        model, body = self._tokenize_body(req)
        try:
            data = await self._apost_json(url, body)
        except NotFoundError as exc:
            data = _no_tokenizer(exc)
        return self._token_count(req, model, data)

    async def aclose(self) -> None:
        if self._async_client is not None and self._owns[1]:
            await self._async_client.aclose()
        self.close()

    def __repr__(self) -> str:
        key = "[REDACTED]" if self.__key else None
        return (
            f"<{type(self).__name__} name={self.name!r} model={self.model!r} "
            f"base_url={self.base_url!r} api_key={key}>"
        )


def _no_tokenizer(exc: NotFoundError) -> Any:
    """None when a 404 means "no /tokenize here"; an unknown model is the caller's to fix."""
    code, param = getattr(exc, "code", None), getattr(exc, "param", None)
    if code == "model_not_found" or param == "model" or "model" in str(exc).lower():
        raise exc
    return None


def _with_stream(req: ChatRequest) -> ChatRequest:
    from dataclasses import replace

    return replace(req, stream=True)


def _is_event_stream(response: Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "text/event-stream")


def _deltas_of(result: ChatResult) -> Iterator[ChatDelta]:
    """A whole reply as deltas (for servers that answer a stream request with JSON)."""
    from hookwire.llm.types import ToolCallDelta

    calls = [ToolCallDelta(i, c.id, c.name, c.arguments) for i, c in enumerate(result.tool_calls)]
    yield ChatDelta(result.content, result.reasoning or "", calls, raw=result.raw)
    yield ChatDelta(finish_reason=result.finish_reason or "stop", usage=result.usage)


def _model_ids(data: Any) -> list[str]:
    try:
        return [str(card["id"]) for card in data["data"]]
    except (KeyError, TypeError) as exc:
        from hookwire.errors import DecodingError

        raise DecodingError(f"the model list has no data[].id ({exc})") from exc
