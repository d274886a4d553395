"""The ``vllm`` provider: a client of one vLLM OpenAI-compatible server, or of several replicas.

::

    llm = hookwire.LLM("vllm", model="auto")                       # http://127.0.0.1:8000/v1
    llm.chat("你好哇", max_tokens=512, temperature=0.7, thinking=False)
    llm = hookwire.LLM("vllm", replicas=["http://a:8000/v1", "http://b:8000/v1"], top_k=20)

What it adds to :class:`~hookwire.llm.OpenAICompatibleProvider` (vLLM's ``serving_chat`` and
``protocol.py`` are the reference for the field names):

======================  ===================================================================
``thinking=``           ``chat_template_kwargs: {"enable_thinking": bool}``, merged with the
                        provider's ``chat_template_kwargs=`` and any in ``extra_body``
``top_k``, ``min_p``,   vLLM's sampling extras, as provider defaults (named options) or per
``repetition_penalty``  call in ``extra_body``; checked before anything is sent
``structured_outputs``  vLLM's structured-output spec (``{"json": schema}``, ``{"choice":
                        [...]}``, ``{"regex": ...}``...), passed through. A ``response_format``
                        (a pydantic model, a schema, JSON mode) is sent as vLLM's own
                        ``structured_outputs`` (``json`` / ``json_object``) AND as
                        ``response_format``: vLLM maps the latter onto the same constraint,
                        and OpenAI-compatible proxies in front of it honour only that one
reasoning               read from ``reasoning`` and from the older ``reasoning_content``
``model="auto"``        the first model ``/v1/models`` lists (vLLM serves one), looked up once
``health()``            ``GET /health`` of the server (or of every replica)
``replicas=[...]``      health-checked round-robin with failover (see :mod:`._vllm_replicas`)
======================  ===================================================================

The key is optional (``VLLM_API_KEY``, for ``vllm serve --api-key``).

Replicas: each request goes to the next replica in turn. A replica that refuses the
connection, times out, answers 502/503/504, or whose ``/health`` is not 200 is marked down for
``replica_cooldown`` seconds (default 30) and the request moves on to the next one; a replica
is probed with ``/health`` before its first request and again when its cooldown ends. With
every replica down, :class:`ReplicasUnavailable` lists each one and why. Failover happens only
while sending: once a stream has produced its first chunk there is no retry (the base rule).
Since failover is the retry, the per-replica ``retry`` default is 0 with ``replicas=``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hookwire.errors import DecodingError, InvalidRequest, RetryError, TransportError
from hookwire.llm import AsyncChatStream, ChatRequest, ChatResult, OpenAICompatibleProvider
from hookwire.llm.openai_compatible import ThinkingStyle
from hookwire.llm.types import ChatDelta
from hookwire.plugin import ProviderRegister, Response, hookimpl
from hookwire.timeouts import Timeout

from ._vllm_replicas import Replica, ReplicaPool, ReplicasUnavailable, health_url

__all__ = ["AUTO", "ReplicasUnavailable", "VLLMProvider", "check_extras", "structured_outputs_of"]

AUTO = "auto"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
#: Statuses that mean "this replica cannot serve now" (proxy errors, engine unavailable).
FAILOVER_STATUSES = frozenset({502, 503, 504})
HEALTH_TIMEOUT = Timeout(connect=2.0, read=5.0, write=5.0, pool=5.0)


def _number(name: str, value: Any, ok: Callable[[float], bool], want: str) -> None:
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if bad or not math.isfinite(value) or not ok(value):
        raise InvalidRequest(f"vLLM option {name} must be {want}, not {value!r}")


def check_extras(extras: Mapping[str, Any]) -> dict[str, Any]:
    """Validate vLLM's extra sampling fields where they are known; return them as a dict."""
    out = dict(extras)
    if out.get("top_k") is not None:
        value = out["top_k"]
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise InvalidRequest(f"vLLM option top_k must be an integer >= -1, not {value!r}")
    if out.get("min_p") is not None:
        _number("min_p", out["min_p"], lambda v: 0 <= v <= 1, "a number in [0, 1]")
    if out.get("repetition_penalty") is not None:
        _number("repetition_penalty", out["repetition_penalty"], lambda v: v > 0, "a number > 0")
    for name in ("structured_outputs", "chat_template_kwargs"):
        if out.get(name) is not None and not isinstance(out[name], Mapping):
            raise InvalidRequest(f"vLLM option {name} must be a dict, not {out[name]!r}")
    return out


def structured_outputs_of(fmt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """vLLM's ``structured_outputs`` for an OpenAI ``response_format`` (None: no constraint)."""
    kind = fmt.get("type") if fmt else None
    if kind == "json_object":
        return {"json_object": True}
    if kind == "json_schema" and fmt is not None:
        schema = (fmt.get("json_schema") or {}).get("schema")
        return {"json": schema} if isinstance(schema, Mapping) else None
    return None


class VLLMProvider(OpenAICompatibleProvider):
    """vLLM's OpenAI-compatible server (see the module docstring for every option).

    Options beyond the base class: ``replicas`` (list of ``/v1`` URLs; excludes
    ``base_url``), ``replica_cooldown`` (seconds), ``health_timeout`` (a ``Timeout`` or
    seconds), ``top_k``, ``min_p``, ``repetition_penalty``, ``structured_outputs``,
    ``chat_template_kwargs`` (defaults for every request).
    """

    name = "vllm"
    default_base_url = DEFAULT_BASE_URL
    tokenize_path = "/tokenize"  # vLLM's, at the server root: exact counts
    env_var = "VLLM_API_KEY"
    key_required = False
    default_thinking_style: ThinkingStyle = "chat_template_kwargs"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        replicas: Sequence[str] | None = None,
        replica_cooldown: float = 30.0,
        health_timeout: Timeout | float | None = None,
        top_k: int | None = None,
        min_p: float | None = None,
        repetition_penalty: float | None = None,
        structured_outputs: Mapping[str, Any] | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        self.pool: ReplicaPool | None = None
        if replicas is not None:
            if base_url is not None:
                raise InvalidRequest("give base_url= or replicas=, not both")
            if isinstance(replicas, str):
                raise InvalidRequest("replicas= takes a list of URLs, not one string")
            self.pool = ReplicaPool(list(replicas), cooldown=replica_cooldown)
            base_url = self.pool.urls[0]
            options.setdefault("retry", 0)  # failover to the next replica is the retry
        super().__init__(model=model or AUTO, base_url=base_url, **options)
        self.health_timeout = (
            HEALTH_TIMEOUT if health_timeout is None else Timeout.of(health_timeout)
        )
        defaults = {
            "top_k": top_k,
            "min_p": min_p,
            "repetition_penalty": repetition_penalty,
            "structured_outputs": structured_outputs,
        }
        self.defaults = check_extras({k: v for k, v in defaults.items() if v is not None})
        if structured_outputs is not None:
            self.defaults["structured_outputs"] = dict(structured_outputs)
        self.chat_template_kwargs = dict(
            check_extras({"chat_template_kwargs": chat_template_kwargs or {}})[
                "chat_template_kwargs"
            ]
        )
        self._served: str | None = None
        self._served_lock = threading.Lock()

    # -- request body ----------------------------------------------------------------------
    def extra_fields(self, req: ChatRequest) -> dict[str, Any]:
        return dict(self.defaults)

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        """The base body, with ``chat_template_kwargs`` merged from its three sources."""
        check_extras(req.extra_body)
        body = super().build_body(req)
        merged = {
            **self.chat_template_kwargs,
            **self.thinking_fields(req).get("chat_template_kwargs", {}),
            **req.extra_body.get("chat_template_kwargs", {}),
        }
        if merged:
            body["chat_template_kwargs"] = merged
        native = structured_outputs_of(req.response_format)
        if native is not None and "structured_outputs" not in req.extra_body:
            # A per-call format replaces the provider's default spec: vLLM refuses two constraints.
            body["structured_outputs"] = native
        return body

    # -- model="auto" ----------------------------------------------------------------------
    def resolve_model(self, req: ChatRequest) -> str:
        model = super().resolve_model(req)
        if model != AUTO:
            return model
        if self._served is None:
            self._remember(self.models())
        return self._served  # type: ignore[return-value]

    async def _aresolved(self, req: ChatRequest) -> ChatRequest:
        """``req`` with ``model="auto"`` replaced, discovered without blocking the loop."""
        if (req.model or self.model) != AUTO:
            return req
        if self._served is None:
            self._remember(await self.amodels())
        return replace(req, model=self._served)

    def _remember(self, models: list[str]) -> None:
        if not models:
            raise DecodingError(f"model='auto': the vLLM server at {self.base_url} lists no model")
        with self._served_lock:
            self._served = self._served or models[0]

    @property
    def served_model(self) -> str | None:
        """The model ``"auto"`` resolved to, once it has been looked up."""
        return self._served

    # -- sending (with failover when there are replicas) -----------------------------------
    def _send(
        self, req: ChatRequest, body: dict[str, Any], timeout: Timeout, stream: bool
    ) -> Response:
        if self.pool is None:
            return super()._send(req, body, timeout, stream)
        client = self.client

        def one(base: str) -> Response:
            request = client.build_request(
                "POST",
                base + self.chat_path,
                json=body,
                timeout=timeout,
                headers=req.extra_headers or None,
            )
            return client.send(request, stream=stream)

        return self._checked(self._failover(one))

    async def _asend(
        self, req: ChatRequest, body: dict[str, Any], timeout: Timeout, stream: bool
    ) -> Response:
        if self.pool is None:
            return await super()._asend(req, body, timeout, stream)
        client = self.async_client

        async def one(base: str) -> Response:
            request = client.build_request(
                "POST",
                base + self.chat_path,
                json=body,
                timeout=timeout,
                headers=req.extra_headers or None,
            )
            return await client.send(request, stream=stream)

        response = await self._afailover(one)
        if response.status_code >= 400:
            await response.aread()
            raise self._status_error(response)
        return response

    def _checked(self, response: Response) -> Response:
        if response.status_code >= 400:
            response.read()
            raise self._status_error(response)
        return response

    def _outcome(self, attempt: Callable[[], Response]) -> tuple[Response | None, str]:
        """Run one attempt: ``(response, "")`` if it counts, ``(None, reason)`` to fail over."""
        try:
            response = attempt()
        except RetryError as exc:
            last: Response | None = getattr(exc, "last_response", None)
            if last is None:
                return None, f"{type(exc.__cause__).__name__}: {exc.__cause__ or exc}"
            response = last
        except TransportError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if response.status_code in FAILOVER_STATUSES:
            response.close()
            return None, f"HTTP {response.status_code}"
        return response, ""

    def _failover(self, one: Callable[[str], Response]) -> Response:
        pool = self._pool()
        clock = self.client.clock
        plan, tried = pool.plan(clock.monotonic())
        for replica, probe in plan:
            if probe and not self._probe(replica):
                tried.append((replica.base_url, f"unhealthy ({replica.reason})"))
                continue
            response, reason = self._outcome(lambda: one(replica.base_url))  # noqa: B023
            if response is None:
                pool.mark_down(replica, clock.monotonic(), reason)
                tried.append((replica.base_url, reason))
                continue
            pool.served(replica)
            return response
        raise _unavailable(tried)

    async def _afailover(self, one: Callable[[str], Awaitable[Response]]) -> Response:
        pool = self._pool()
        clock = self.async_client.clock
        plan, tried = pool.plan(clock.monotonic())
        for replica, probe in plan:
            if probe and not await self._aprobe(replica):
                tried.append((replica.base_url, f"unhealthy ({replica.reason})"))
                continue
            reason = ""
            try:
                got: Response | None = await one(replica.base_url)
            except RetryError as exc:
                got = getattr(exc, "last_response", None)
                reason = f"{type(exc.__cause__).__name__}: {exc.__cause__ or exc}"
            except TransportError as exc:
                got, reason = None, f"{type(exc).__name__}: {exc}"
            if got is not None and got.status_code in FAILOVER_STATUSES:
                reason = f"HTTP {got.status_code}"
                await got.aclose()
                got = None
            if got is None:
                pool.mark_down(replica, clock.monotonic(), reason)
                tried.append((replica.base_url, reason))
                continue
            pool.served(replica)
            return got
        raise _unavailable(tried)

    def _pool(self) -> ReplicaPool:
        assert self.pool is not None
        return self.pool

    # -- health ----------------------------------------------------------------------------
    def _probe(self, replica: Replica) -> bool:
        ok, reason = _health_verdict(
            lambda: self.client.get(replica.health_url, timeout=self.health_timeout)
        )
        self._note(replica, ok, reason, self.client.clock.monotonic())
        return ok

    async def _aprobe(self, replica: Replica) -> bool:
        try:
            response = await self.async_client.get(replica.health_url, timeout=self.health_timeout)
            ok, reason = response.status_code == 200, f"/health answered {response.status_code}"
        except (TransportError, RetryError) as exc:
            ok, reason = False, f"/health failed: {type(exc).__name__}"
        self._note(replica, ok, reason, self.async_client.clock.monotonic())
        return ok

    def _note(self, replica: Replica, ok: bool, reason: str, now: float) -> None:
        if ok:
            self._pool().mark_up(replica)
        else:
            self._pool().mark_down(replica, now, reason)

    def health(self) -> dict[str, bool]:
        """``{base_url: /health answered 200}`` for the server, or for every replica.

        With replicas, the answers also update the pool (a failing one is marked down).
        """
        if self.pool is None:
            ok, _ = _health_verdict(
                lambda: self.client.get(health_url(self.base_url), timeout=self.health_timeout)
            )
            return {self.base_url: ok}
        return {r.base_url: self._probe(r) for r in self.pool.replicas}

    async def ahealth(self) -> dict[str, bool]:
        if self.pool is None:
            try:
                response = await self.async_client.get(
                    health_url(self.base_url), timeout=self.health_timeout
                )
                return {self.base_url: response.status_code == 200}
            except (TransportError, RetryError):
                return {self.base_url: False}
        return {r.base_url: await self._aprobe(r) for r in self.pool.replicas}

    # -- model listing and async paths that need "auto" resolved first ---------------------
    def models(self) -> list[str]:
        if self.pool is None:
            return super().models()
        client = self.client
        response = self._checked(
            self._failover(lambda base: client.get(base + self.models_path, timeout=self.timeout))
        )
        return _ids(response)

    async def amodels(self) -> list[str]:
        if self.pool is None:
            return await super().amodels()
        client = self.async_client

        async def one(base: str) -> Response:
            return await client.get(base + self.models_path, timeout=self.timeout)

        response = await self._afailover(one)
        if response.status_code >= 400:
            raise self._status_error(response)
        return _ids(response)

    async def achat(self, req: ChatRequest) -> ChatResult:
        return await super().achat(await self._aresolved(req))

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        if (req.model or self.model) != AUTO or self._served is not None:
            return super().astream(req)

        async def deltas() -> AsyncIterator[ChatDelta]:
            inner = super(VLLMProvider, self).astream(await self._aresolved(req))
            try:
                async for delta in inner:
                    yield delta
            finally:
                await inner.aclose()

        return AsyncChatStream(deltas(), provider=self.name, model=AUTO)

    def __repr__(self) -> str:
        where = f"replicas={self.pool.urls!r}" if self.pool else f"base_url={self.base_url!r}"
        key = "[REDACTED]" if self.has_key else None
        return f"<VLLMProvider model={self.model!r} {where} api_key={key}>"


def _health_verdict(get: Callable[[], Response]) -> tuple[bool, str]:
    try:
        response = get()
    except (TransportError, RetryError) as exc:
        return False, f"/health failed: {type(exc).__name__}"
    return response.status_code == 200, f"/health answered {response.status_code}"


def _ids(response: Response) -> list[str]:
    data = response.json()
    try:
        return [str(card["id"]) for card in data["data"]]
    except (KeyError, TypeError) as exc:
        raise DecodingError(f"the model list has no data[].id ({exc})") from exc


def _unavailable(tried: list[tuple[str, str]]) -> ReplicasUnavailable:
    listing = "; ".join(f"{url}: {why}" for url, why in tried)
    return ReplicasUnavailable(
        f"no vLLM replica could take the request ({len(tried)} tried) -- {listing}",
        replicas=tried,
    )


@hookimpl(trylast=True)
def hookwire_register_providers(register: ProviderRegister) -> None:
    register("vllm", VLLMProvider)
