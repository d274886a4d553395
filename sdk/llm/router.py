"""Routing and fallbacks over several deployments, behind the ordinary ``LLM`` API.

::

    llm = hookwire.LLM([
        {"provider": "siliconflow", "model": "Qwen/Qwen3-8B", "rpm": 60},
        {"provider": "vllm", "base_url": "http://gpu-box:8000/v1", "model": "Qwen/Qwen3-8B"},
        {"provider": "transformers", "model": "/models/Qwen3-0.6B"},
    ], strategy="ordered")
    llm.chat("你好")                      # SiliconFlow; on a 429/5xx/timeout, the next one
    hookwire.LLM("openai", model="gpt-4o", fallbacks=["deepseek"])   # the same, spelled short

``LLM([...])`` (or ``hookwire.Router([...])``, the spelling litellm users know) puts a
:class:`RoutedProvider` behind an ``LLM``, so chat, stream, embed, their async twins, tool
loops, structured output and the observation hooks work as on one model. A deployment is a
provider name, a dict of ``LLM`` arguments (``provider``, ``model``, ``base_url``,
``api_key``, ``name``, ``rpm``, ``tpm``...), an ``LLM`` or a ``Provider``.

Strategies: ``"ordered"`` (the first healthy deployment, in the order given), ``"round_robin"``,
``"least_busy"`` (fewest calls in flight) and ``"lowest_latency"`` (the best recent latency; an
unmeasured deployment is tried first). A call moves to the next deployment on the errors of
``fallback_on`` (default: rate limits, 5xx, timeouts, connection and protocol errors), never on
a bad request or an auth error, and never once a stream has yielded its first delta (a failure
then is ``StreamInterrupted`` with the partial reply, as on one model). A deployment that fails
``allowed_fails`` times within a minute, or answers 429 with ``Retry-After``, cools down for
``cooldown`` seconds (or the Retry-After) and is skipped meanwhile. When every deployment failed,
the last error is raised (its ``routed`` attribute lists each deployment's error); when every
one is cooling down, :class:`~hookwire.errors.NoDeploymentAvailable` says when one returns.
Each decision fires ``hookwire_llm_route(router, deployment, event, error)``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from hookwire.errors import (
    InternalServerError,
    InvalidRequest,
    NoDeploymentAvailable,
    RateLimitError,
    TransportError,
)
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.provider import Provider
from hookwire.llm.types import ChatDelta, ChatRequest, ChatResult, EmbeddingResult, TokenCount

__all__ = ["DEFAULT_FALLBACK_ON", "STRATEGIES", "Deployment", "RoutedProvider"]

STRATEGIES = ("ordered", "round_robin", "least_busy", "lowest_latency")
#: Errors that move a call to the next deployment (the deployment's trouble, not the request's).
DEFAULT_FALLBACK_ON: tuple[type[BaseException], ...] = (
    RateLimitError, InternalServerError, TransportError,
)
_WINDOW = 60.0  # seconds in which allowed_fails failures cool a deployment down
_EWMA = 0.3  # weight of the newest latency sample


class Deployment:
    """One target of a router: its provider, health and load, kept under a lock."""

    def __init__(self, provider: Provider, name: str, order: int) -> None:
        self.provider = provider
        self.name = name
        self.order = order
        self.in_flight = 0
        self.calls = 0
        self.failures = 0
        self.latency: float | None = None
        self.cooling_until = 0.0
        self._recent: deque[float] = deque()

    def snapshot(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name, "provider": self.provider.name, "model": self.provider.model,
            "calls": self.calls, "failures": self.failures, "in_flight": self.in_flight,
            "latency": self.latency, "cooling_for": max(0.0, self.cooling_until - now),
        }

    def __repr__(self) -> str:
        return f"<Deployment {self.name} {self.provider!r}>"


def _moves_on(exc: BaseException, classes: tuple[type[BaseException], ...]) -> bool:
    return isinstance(exc, classes)


class RoutedProvider(Provider):
    """A provider that sends each call to one of ``deployments``, falling back on failure."""

    name = "router"

    def __init__(
        self,
        deployments: Sequence[tuple[Provider, str]],
        *,
        strategy: str = "ordered",
        cooldown: float = 5.0,
        allowed_fails: int = 3,
        fallback_on: tuple[type[BaseException], ...] = DEFAULT_FALLBACK_ON,
        hook: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if strategy not in STRATEGIES:
            raise InvalidRequest(
                f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}"
            )
        if not deployments:
            raise InvalidRequest("a router needs at least one deployment")
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or cooldown < 0:
            raise InvalidRequest(f"cooldown must be seconds >= 0, not {cooldown!r}")
        if isinstance(allowed_fails, bool) or not isinstance(allowed_fails, int) or (
            allowed_fails < 1
        ):
            raise InvalidRequest(f"allowed_fails must be an integer >= 1, not {allowed_fails!r}")
        names = [n for _, n in deployments]
        if len(set(names)) != len(names):
            raise InvalidRequest(f"deployment names must differ: {names}")
        super().__init__(model=deployments[0][0].model)
        self.deployments = [Deployment(p, n, i) for i, (p, n) in enumerate(deployments)]
        self.strategy = strategy
        self.cooldown = float(cooldown)
        self.allowed_fails = allowed_fails
        self.fallback_on = tuple(fallback_on)
        self._hook = hook
        self._clock = clock
        self._lock = threading.Lock()
        self._turn = itertools.count()

    # -- choosing ------------------------------------------------------------------------
    def _event(self, deployment: Deployment | None, event: str,
               error: BaseException | None = None) -> None:
        hook = self._hook
        if hook is not None and hook.hookwire_llm_route.get_hookimpls():
            hook.hookwire_llm_route(
                router=self, deployment=deployment.name if deployment else None, event=event,
                error=error,
            )

    def _serving(self, req: ChatRequest | None) -> list[Deployment]:
        """The deployments a request may go to: all, or those serving ``model=``."""
        if req is None or req.model is None:
            return list(self.deployments)
        wanted = req.model
        chosen = [d for d in self.deployments if wanted in (d.name, d.provider.model)]
        if not chosen:
            known = ", ".join(f"{d.name} ({d.provider.model})" for d in self.deployments)
            raise InvalidRequest(f"no deployment serves model {wanted!r}; the router has {known}")
        return chosen

    def _candidates(self, req: ChatRequest | None) -> list[Deployment]:
        """Healthy deployments in the strategy's order; NoDeploymentAvailable if none."""
        pool = self._serving(req)
        now = self._clock()
        with self._lock:
            healthy = [d for d in pool if d.cooling_until <= now]
            if not healthy:
                back = min(d.cooling_until for d in pool) - now
                error = NoDeploymentAvailable(
                    f"every deployment is cooling down after failures; the first is back in "
                    f"{back:.1f}s ({', '.join(d.name for d in pool)})",
                    retry_after=back,
                )
                self._event(None, "exhausted", error)
                raise error
            if self.strategy == "round_robin":
                start = next(self._turn) % len(healthy)
                return healthy[start:] + healthy[:start]
            if self.strategy == "least_busy":
                return sorted(healthy, key=lambda d: (d.in_flight, d.order))
            if self.strategy == "lowest_latency":
                return sorted(
                    healthy, key=lambda d: (d.latency is not None, d.latency or 0.0, d.order)
                )
            return healthy

    def _begin(self, deployment: Deployment) -> float:
        with self._lock:
            deployment.in_flight += 1
            deployment.calls += 1
        self._event(deployment, "attempt")
        return self._clock()

    def _succeeded(self, deployment: Deployment, started: float) -> None:
        took = self._clock() - started
        with self._lock:
            deployment.in_flight -= 1
            deployment.latency = took if deployment.latency is None else (
                _EWMA * took + (1 - _EWMA) * deployment.latency
            )
        self._event(deployment, "success")

    def _failed(self, deployment: Deployment, exc: BaseException, *, moves_on: bool) -> None:
        now = self._clock()
        cooled = False
        with self._lock:
            deployment.in_flight -= 1
            if moves_on:
                deployment.failures += 1
                recent = deployment._recent
                recent.append(now)
                while recent and now - recent[0] > _WINDOW:
                    recent.popleft()
                retry_after = getattr(exc, "retry_after", None)
                if isinstance(exc, RateLimitError) and retry_after:
                    deployment.cooling_until = max(deployment.cooling_until, now + retry_after)
                    cooled = True
                elif len(recent) >= self.allowed_fails:
                    deployment.cooling_until = now + self.cooldown
                    recent.clear()
                    cooled = True
        self._event(deployment, "fallback" if moves_on else "error", exc)
        if cooled:
            self._event(deployment, "cooldown", exc)

    def _exhausted(self, errors: list[tuple[str, BaseException]]) -> BaseException:
        last = errors[-1][1]
        last.routed = list(errors)  # type: ignore[attr-defined]
        self._event(None, "exhausted", last)
        return last

    @staticmethod
    def _for(deployment: Deployment, req: ChatRequest) -> ChatRequest:
        """The request as the deployment gets it: its own model, not the router's name."""
        return req if req.model is None else replace(req, model=None)

    def _route(self, req: ChatRequest | None, send: Callable[[Deployment], Any]) -> Any:
        """``send(deployment)`` on each candidate in turn until one answers."""
        errors: list[tuple[str, BaseException]] = []
        for deployment in self._candidates(req):
            started = self._begin(deployment)
            try:
                result = send(deployment)
            except Exception as exc:
                self._give_up_unless_moving_on(deployment, exc, errors)
                continue
            self._succeeded(deployment, started)
            return result
        raise self._exhausted(errors)

    async def _aroute(
        self, req: ChatRequest | None, send: Callable[[Deployment], Awaitable[Any]]
    ) -> Any:
        """The async :meth:`_route`."""
        errors: list[tuple[str, BaseException]] = []
        for deployment in self._candidates(req):
            started = self._begin(deployment)
            try:
                result = await send(deployment)
            except Exception as exc:
                self._give_up_unless_moving_on(deployment, exc, errors)
                continue
            self._succeeded(deployment, started)
            return result
        raise self._exhausted(errors)

    def _give_up_unless_moving_on(
        self, deployment: Deployment, exc: Exception, errors: list[tuple[str, BaseException]],
        *, began: bool = False,
    ) -> None:
        """Record the failure; re-raise ``exc`` unless the call moves to the next deployment."""
        moves_on = not began and _moves_on(exc, self.fallback_on)
        self._failed(deployment, exc, moves_on=moves_on)
        if not moves_on:
            raise exc
        errors.append((deployment.name, exc))

    # -- sync ------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> ChatResult:
        result: ChatResult = self._route(
            req, lambda d: d.provider.chat(self._for(d, req))
        )
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        def deltas() -> Iterator[ChatDelta]:
            errors: list[tuple[str, BaseException]] = []
            for deployment in self._candidates(req):
                started = self._begin(deployment)
                inner = deployment.provider.stream(self._for(deployment, req))
                stream.provider, stream.model = deployment.provider.name, inner.model
                began = False
                try:
                    for delta in inner:
                        began = True
                        yield delta
                except Exception as exc:
                    self._give_up_unless_moving_on(deployment, exc, errors, began=began)
                    continue
                finally:
                    inner.close()
                self._succeeded(deployment, started)
                return
            raise self._exhausted(errors)

        stream = ChatStream(deltas(), provider=self.name, model=self.model or "")
        return stream

    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        result: EmbeddingResult = self._route(None, lambda d: d.provider.embed(
            texts, model=model, dimensions=dimensions, batch_size=batch_size))
        return result

    def count_tokens(self, req: ChatRequest) -> TokenCount:
        deployment = self._candidates(req)[0]
        return deployment.provider.count_tokens(self._for(deployment, req))

    def models(self) -> list[str]:
        return [d.name for d in self.deployments]

    def close(self) -> None:
        for d in self.deployments:
            d.provider.close()

    # -- async -----------------------------------------------------------------------------
    async def achat(self, req: ChatRequest) -> ChatResult:
        result: ChatResult = await self._aroute(
            req, lambda d: d.provider.achat(self._for(d, req))
        )
        return result

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        async def deltas() -> AsyncIterator[ChatDelta]:
            errors: list[tuple[str, BaseException]] = []
            for deployment in self._candidates(req):
                started = self._begin(deployment)
                inner = deployment.provider.astream(self._for(deployment, req))
                stream.provider, stream.model = deployment.provider.name, inner.model
                began = False
                try:
                    async for delta in inner:
                        began = True
                        yield delta
                except Exception as exc:
                    self._give_up_unless_moving_on(deployment, exc, errors, began=began)
                    continue
                finally:
                    await inner.aclose()
                self._succeeded(deployment, started)
                return
            raise self._exhausted(errors)

        stream = AsyncChatStream(deltas(), provider=self.name, model=self.model or "")
        return stream

    async def aembed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        result: EmbeddingResult = await self._aroute(None, lambda d: d.provider.aembed(
            texts, model=model, dimensions=dimensions, batch_size=batch_size))
        return result

    async def acount_tokens(self, req: ChatRequest) -> TokenCount:
        deployment = self._candidates(req)[0]
        return await deployment.provider.acount_tokens(self._for(deployment, req))

    async def amodels(self) -> list[str]:
        return self.models()

    async def aclose(self) -> None:
        for d in self.deployments:
            await d.provider.aclose()

    # -- looking at it ----------------------------------------------------------------------
    def stats(self) -> list[dict[str, Any]]:
        """Each deployment's calls, failures, calls in flight, latency and cooldown left."""
        now = self._clock()
        with self._lock:
            return [d.snapshot(now) for d in self.deployments]

    def __repr__(self) -> str:
        names = ", ".join(d.name for d in self.deployments)
        return f"<RoutedProvider {self.strategy} [{names}]>"
