"""OpenTelemetry traces and metrics for hookwire calls (``pip install 'hookwire[otel]'``).

Built on the public observation hooks only; nothing is registered until you ask::

    from hookwire.plugins.otel import HookwireInstrumentor

    HookwireInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)  # globals if omitted
    ...
    HookwireInstrumentor().uninstrument()

``instrument(plugin_host=host)`` registers on that :class:`~hookwire.plugin.PluginHost` instead
of the process-wide one. The entry point ``opentelemetry_instrumentor: hookwire`` lets
``opentelemetry-instrument`` do the same. What is emitted (the GenAI conventions are at
"Development" status; these follow semantic conventions 1.37, ``gen_ai.provider.name`` and not
the deprecated ``gen_ai.system``):

======================================  ==========================================================
span ``chat {model}``, CLIENT           every chat and stream reply (each turn of a tool loop);
                                        ``embeddings {model}`` for embeddings; INTERNAL for the
                                        in-process ``transformers`` provider. A stream's span
                                        ends with the stream (``hookwire.llm.outcome``: ok,
                                        closed or error).
                                        Through a router, a ``hookwire.llm.route`` event per
                                        decision, and the provider that answered
span ``execute_tool {name}``, INTERNAL  each tool run of the automatic loop, a child of the reply
                                        that asked for it
span ``{method}``, CLIENT               every HTTP exchange (each retry, redirect hop and auth
                                        round trip), a child of the LLM span it serves; carries
                                        ``traceparent`` to the server
``gen_ai.client.operation.duration``    histogram, s
``gen_ai.client.token.usage``           histogram, {token}, ``gen_ai.token.type`` input|output
``gen_ai.client.operation.time_to_first_chunk``  histogram, s, streams
``http.client.request.duration``        histogram, s
======================================  ==========================================================

Message content (``gen_ai.input.messages``, ``gen_ai.output.messages``,
``gen_ai.system_instructions``, ``gen_ai.tool.definitions``, tool arguments and results) is
opt-in, as the conventions ask: ``instrument(capture_content=True)``, or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY`` (or ``SPAN_AND_EVENT``).
URLs are recorded with credentials and secret query values redacted; headers never are.

Parenting: a chat or embeddings call makes its span current while it runs (an OTel context
attached on the calling thread or task and detached at its end), so the HTTP spans below it,
and anything else traced there, are its children. A stream is not made current (it is
consumed later, maybe in another task): its HTTP request is matched to it instead, as the first
streaming POST sent, before its first token, from the context that opened the stream.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hookwire.errors import PluginError
from hookwire.plugin import get_plugin_host, hookimpl, redact_url

try:
    from opentelemetry import context as _context
    from opentelemetry import metrics as _metrics
    from opentelemetry import propagate as _propagate
    from opentelemetry import trace as _trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    _HAS_OTEL = True
except ImportError:  # instrument() says what to install
    _HAS_OTEL = False

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.metrics import Meter, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from hookwire.llm.observe import LLMCall
    from hookwire.llm.types import ChatRequest, ChatResult, Message, ToolRun
    from hookwire.plugin import PluginHost, Request, Response

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "INSTALL_HINT",
    "PLUGIN_NAME",
    "HookwireInstrumentor",
    "OtelPlugin",
]

log = logging.getLogger(__name__)

#: The name the plugin object is registered under on the plugin host.
PLUGIN_NAME = "hookwire-otel"
INSTALL_HINT = "pip install 'hookwire[otel]'"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_SCOPE = "hookwire.plugins.otel"

# Advisory bucket boundaries, as the metric definitions give them.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)  # fmt: skip
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

#: Providers that run the model in this process (span kind INTERNAL, as the conventions allow).
_IN_PROCESS = frozenset({"transformers"})
_KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
_STREAMING_BODY = re.compile(rb'"stream"\s*:\s*true')
_STATE = "otel"  # key in LLMCall.state
_CHAIN = "hookwire.otel"  # key in Request.extensions (copied to redirect hops: one chain)
_CALL_KEY = "hookwire-otel-llm-call"  # key in the OTel context: the LLM call now current


class _Call:
    """One LLM call's span and what its end needs."""

    __slots__ = ("__weakref__", "claimed", "ctx", "ended", "metric", "pending", "server", "span",
                 "token")  # fmt: skip

    def __init__(self, span: Span, ctx: Context, metric: dict[str, Any]) -> None:
        self.span = span
        self.ctx = ctx
        self.metric = metric  # the metric attributes known at the start
        self.token: object | None = None  # from context.attach, chat and embeddings only
        self.pending = False  # a stream that has not had its first token yet
        self.claimed = False  # a pending stream whose HTTP request was matched
        self.server: tuple[str, int] | None = None
        self.ended = False


class _Chain:
    """One request as the client sends it, shared by its retries, redirect hops and auth round
    trips (``Request.copy_with`` copies the extensions dict, not this object)."""

    __slots__ = ("open", "parent", "sent")

    def __init__(self, parent: _Call | None) -> None:
        self.parent = parent
        self.sent = 0
        self.open: tuple[Span, float, dict[str, Any]] | None = None


#: Streams opened in this context whose HTTP request has not been sent yet (weak: a stream
#: never iterated must not keep its span alive through the context).
_PENDING: contextvars.ContextVar[tuple[weakref.ref[_Call], ...]] = contextvars.ContextVar(
    "hookwire_otel_pending_streams", default=()
)


def _capture_from_env() -> bool:
    value = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().upper()
    return value in ("SPAN_ONLY", "SPAN_AND_EVENT", "TRUE")


class OtelPlugin:
    """The hook implementations; :class:`HookwireInstrumentor` builds and registers one."""

    def __init__(self, tracer: Tracer, meter: Meter, *, capture_content: bool = False) -> None:
        self.tracer = tracer
        self.capture_content = capture_content
        # Calls whose span is current on some thread or task: uninstrument() waits for them
        # (only their end hooks can detach those contexts) before the plugin leaves its host.
        self._attached = 0
        self._lock = threading.Lock()
        self._drained: Callable[[], None] | None = None
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )  # fmt: skip
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )  # fmt: skip
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk", unit="s",
            description="Time to receive the first chunk of a streamed response",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )  # fmt: skip
        self.http_duration = meter.create_histogram(
            "http.client.request.duration", unit="s",
            description="Duration of HTTP client requests",
            explicit_bucket_boundaries_advisory=HTTP_BUCKETS,
        )  # fmt: skip

    # -- LLM calls ---------------------------------------------------------------------------
    @hookimpl
    def hookwire_llm_request(self, call: LLMCall) -> None:
        if self._drained is not None:  # uninstrumented: in-flight calls only
            return
        operation = "embeddings" if call.operation == "embeddings" else "chat"
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": call.provider,
        }
        if call.model:
            attrs["gen_ai.request.model"] = call.model
        metric = dict(attrs)
        if call.request is not None:
            attrs.update(_request_attributes(call.request))
            if self.capture_content:
                attrs.update(_input_content(call.request))
        if call.operation == "stream":
            attrs["gen_ai.request.stream"] = True
        if call.turn > 1:
            attrs["hookwire.llm.turn"] = call.turn
        kind = SpanKind.INTERNAL if call.provider in _IN_PROCESS else SpanKind.CLIENT
        name = f"{operation} {call.model}" if call.model else operation
        span = self.tracer.start_span(name, kind=kind, attributes=attrs)
        record = _Call(span, _trace.set_span_in_context(span), metric)
        record.ctx = _context.set_value(_CALL_KEY, record, record.ctx)
        call.state[_STATE] = record
        if call.operation == "stream":
            record.pending = True
            live = [r for r in (ref() for ref in _PENDING.get()) if r is not None and r.pending]
            _PENDING.set((*(weakref.ref(r) for r in live), weakref.ref(record)))
        else:
            with self._lock:
                self._attached += 1
            record.token = _context.attach(record.ctx)

    @hookimpl
    def hookwire_llm_first_token(self, call: LLMCall, seconds: float) -> None:
        record = _record(call)
        if record is None or record.ended:
            return
        record.pending = False  # its request went out before any token came back
        record.span.set_attribute("gen_ai.response.time_to_first_chunk", seconds)
        self.first_chunk.record(seconds, _metric_attributes(record))

    @hookimpl
    def hookwire_llm_response(self, call: LLMCall, result: object) -> None:
        record = _record(call)
        if record is None or record.ended:
            return
        attrs = _result_attributes(result)
        provider = getattr(result, "provider", "")
        if isinstance(provider, str) and provider and provider != call.provider:
            attrs["gen_ai.provider.name"] = record.metric["gen_ai.provider.name"] = provider
        if self.capture_content and call.operation != "embeddings":
            attrs.update(_output_content(result))
        attrs["hookwire.llm.outcome"] = call.outcome or "ok"
        self._end_call(call, record, attrs, _usage_of(result))

    @hookimpl
    def hookwire_llm_error(self, call: LLMCall, error: BaseException) -> None:
        record = _record(call)
        if record is None or record.ended:
            return
        partial = getattr(error, "partial", None)
        attrs = _result_attributes(partial) if partial is not None else {}
        attrs["error.type"] = _error_type(error)
        attrs["hookwire.llm.outcome"] = "error"
        record.span.record_exception(error)
        record.span.set_status(Status(StatusCode.ERROR, _describe(error)))
        self._end_call(call, record, attrs, None)

    def _end_call(
        self, call: LLMCall, record: _Call, attrs: dict[str, Any], usage: tuple[int, int] | None
    ) -> None:
        record.ended, record.pending = True, False
        if record.token is not None:
            token, record.token = record.token, None
            _context.detach(token)  # type: ignore[arg-type]
            with self._lock:
                self._attached -= 1
                drained = self._drained if self._attached == 0 else None
            if drained is not None:
                drained()
        span = record.span
        span.set_attributes(attrs)
        span.end()
        metric = _metric_attributes(record)
        if "gen_ai.response.model" in attrs:
            metric["gen_ai.response.model"] = attrs["gen_ai.response.model"]
        if "error.type" in attrs:
            metric["error.type"] = attrs["error.type"]
        self.duration.record(call.seconds, metric)
        if usage is not None:
            inputs, outputs = usage
            self.tokens.record(inputs, {**metric, "gen_ai.token.type": "input"})
            if call.operation != "embeddings":
                self.tokens.record(outputs, {**metric, "gen_ai.token.type": "output"})

    @hookimpl
    def hookwire_llm_tool_call(self, call: LLMCall | None, run: ToolRun) -> None:
        record = _record(call) if call is not None else None
        name = run.call.name
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
        }
        if run.call.id:
            attrs["gen_ai.tool.call.id"] = run.call.id
        if not run.approved:
            attrs["hookwire.tool.approved"] = False
        if self.capture_content:
            attrs["gen_ai.tool.call.arguments"] = run.call.arguments
            attrs["gen_ai.tool.call.result"] = run.output
        end = time.time_ns()
        span = self.tracer.start_span(
            f"execute_tool {name}",
            context=record.ctx if record is not None else None,
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=end - int(max(run.seconds, 0.0) * 1e9),
        )
        if run.error is not None:
            span.set_attribute("error.type", _error_type(run.error))
            span.record_exception(run.error)
            span.set_status(Status(StatusCode.ERROR, _describe(run.error)))
        span.end(end_time=end)

    @hookimpl
    def hookwire_llm_route(
        self, router: object, deployment: str | None, event: str, error: BaseException | None
    ) -> None:
        """A router's decisions become events of the LLM span they serve, and its last attempt
        names ``hookwire.route.deployment`` (the reply's provider then names the span's real
        ``gen_ai.provider.name``: the call's own is ``router``)."""
        record = _current_call() or _newest_stream()
        if record is None:
            return
        attrs: dict[str, Any] = {"hookwire.route.event": event}
        if deployment is not None:
            attrs["hookwire.route.deployment"] = deployment
        if error is not None:
            attrs["error.type"] = _error_type(error)
        record.span.add_event("hookwire.llm.route", attrs)
        if event == "attempt" and deployment is not None:
            record.span.set_attribute("hookwire.route.deployment", deployment)

    # -- HTTP exchanges ----------------------------------------------------------------------
    def drain(self, done: Callable[[], None]) -> None:
        """Stop tracing new calls; ``done()`` once no call's span is current anywhere (now, or
        from the end hook of the last one)."""
        with self._lock:
            self._drained = done
            idle = self._attached == 0
        if idle:
            done()

    @hookimpl
    def hookwire_request_prepared(self, request: Request) -> None:
        if self._drained is not None:
            return
        chain = request.extensions.get(_CHAIN)
        if not isinstance(chain, _Chain):
            chain = request.extensions[_CHAIN] = _Chain(_current_call() or _claim(request))
        elif chain.open is not None:  # an exchange that never came back (a bug upstream)
            self._end_exchange(chain, {"error.type": "_OTHER"})
        parent = chain.parent
        attrs, metric = _http_attributes(request)
        if chain.sent:
            attrs["http.request.resend_count"] = chain.sent
        chain.sent += 1
        method = metric["http.request.method"]
        span = self.tracer.start_span(
            "HTTP" if method == "_OTHER" else method,
            context=parent.ctx if parent is not None and not parent.ended else None,
            kind=SpanKind.CLIENT,
            attributes=attrs,
        )
        chain.open = (span, time.perf_counter(), metric)
        if parent is not None and parent.server is None and "server.address" in metric:
            parent.server = (metric["server.address"], metric["server.port"])
            if not parent.ended:
                parent.span.set_attributes(
                    {"server.address": parent.server[0], "server.port": parent.server[1]}
                )
        _propagate.inject(request.headers, context=_trace.set_span_in_context(span))

    @hookimpl
    def hookwire_response_received(self, request: Request, response: Response) -> None:
        chain = request.extensions.get(_CHAIN)
        if not isinstance(chain, _Chain) or chain.open is None:
            return
        status = response.status_code
        attrs: dict[str, Any] = {"http.response.status_code": status}
        version = str(getattr(response, "http_version", "") or "")
        if version.upper().startswith("HTTP/"):
            attrs["network.protocol.version"] = version[5:]
        if status >= 400:  # a client span counts 4xx as errors too
            attrs["error.type"] = str(status)
        self._end_exchange(chain, attrs)

    @hookimpl
    def hookwire_retry_scheduled(
        self, request: Request, attempt: int, delay: float, reason: str
    ) -> None:
        chain = request.extensions.get(_CHAIN)
        if isinstance(chain, _Chain) and chain.open is not None:  # no response: a transport error
            kind = reason[: -len(" error")] if reason.endswith(" error") else "_OTHER"
            self._end_exchange(chain, {"error.type": kind})

    @hookimpl
    def hookwire_request_failed(self, request: Request, error: BaseException) -> None:
        chain = request.extensions.get(_CHAIN)
        if isinstance(chain, _Chain) and chain.open is not None:
            span = chain.open[0]
            span.record_exception(error)
            self._end_exchange(chain, {"error.type": _error_type(error)}, _describe(error))

    def _end_exchange(
        self, chain: _Chain, attrs: dict[str, Any], description: str | None = None
    ) -> None:
        assert chain.open is not None
        (span, started, metric), chain.open = chain.open, None
        span.set_attributes(attrs)
        if "error.type" in attrs:
            span.set_status(Status(StatusCode.ERROR, description))
        for key in ("http.response.status_code", "error.type", "network.protocol.version"):
            if key in attrs:
                metric[key] = attrs[key]
        span.end()
        self.http_duration.record(time.perf_counter() - started, metric)


# -- attributes ------------------------------------------------------------------------------


def _record(call: LLMCall | None) -> _Call | None:
    record = call.state.get(_STATE) if call is not None else None
    return record if isinstance(record, _Call) else None


def _current_call() -> _Call | None:
    record = _context.get_value(_CALL_KEY)
    return record if isinstance(record, _Call) and not record.ended else None


def _claim(request: Request) -> _Call | None:
    """The stream opened in this context that ``request`` serves, if it is a streaming POST (a
    plain request sent meanwhile is not the stream's): the oldest whose request has not gone
    out yet, else the newest still waiting for its first token (a second replica tried)."""
    pending = _PENDING.get()
    if not pending or request.method != "POST":
        return None
    body = request.content
    if not body or not _STREAMING_BODY.search(body):
        return None
    waiting = [r for r in (ref() for ref in pending) if r is not None and r.pending]
    _PENDING.set(tuple(weakref.ref(r) for r in waiting))
    for record in waiting:
        if not record.claimed:
            record.claimed = True
            return record
    return waiting[-1] if waiting else None


def _newest_stream() -> _Call | None:
    """The newest stream of this context still waiting for its first token."""
    for ref in reversed(_PENDING.get()):
        record = ref()
        if record is not None and record.pending and not record.ended:
            return record
    return None


def _metric_attributes(record: _Call) -> dict[str, Any]:
    metric = dict(record.metric)
    if record.server is not None:
        metric["server.address"], metric["server.port"] = record.server
    return metric


def _request_attributes(req: ChatRequest) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key, value in (
        ("gen_ai.request.temperature", req.temperature),
        ("gen_ai.request.top_p", req.top_p),
        ("gen_ai.request.max_tokens", req.max_tokens),
        ("gen_ai.request.seed", req.seed),
    ):
        if value is not None:
            attrs[key] = value
    if req.stop:
        attrs["gen_ai.request.stop_sequences"] = [req.stop] if isinstance(req.stop, str) else [
            str(s) for s in req.stop
        ]
    if req.n is not None and req.n != 1:
        attrs["gen_ai.request.choice.count"] = req.n
    extra = req.extra_body or {}
    for field in ("frequency_penalty", "presence_penalty", "top_k"):
        value = extra.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attrs[f"gen_ai.request.{field}"] = value
    if req.response_format or req.structured is not None:
        attrs["gen_ai.output.type"] = "json"
    return attrs


def _result_attributes(result: object) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    model = getattr(result, "model", "")
    if model:
        attrs["gen_ai.response.model"] = str(model)
    raw = getattr(result, "raw", None)
    if isinstance(raw, list):  # embeddings: one raw body per batch
        raw = raw[0] if raw else None
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        attrs["gen_ai.response.id"] = raw["id"]
    if hasattr(result, "finish_reason"):
        reasons = [getattr(result, "finish_reason", None)]
        reasons += [c.finish_reason for c in getattr(result, "more_choices", ())]
        attrs["gen_ai.response.finish_reasons"] = [r for r in reasons if r]
    vectors = getattr(result, "vectors", None)
    if vectors:
        attrs["gen_ai.embeddings.dimension.count"] = len(vectors[0])
    usage = getattr(result, "usage", None)
    if usage is not None:
        attrs["gen_ai.usage.input_tokens"] = usage.prompt_tokens
        if not hasattr(result, "vectors"):
            attrs["gen_ai.usage.output_tokens"] = usage.completion_tokens
        if usage.reasoning_tokens is not None:
            attrs["gen_ai.usage.reasoning.output_tokens"] = usage.reasoning_tokens
    return attrs


def _usage_of(result: object) -> tuple[int, int] | None:
    usage = getattr(result, "usage", None)
    return None if usage is None else (usage.prompt_tokens, usage.completion_tokens)


def _http_attributes(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    method = request.method
    metric: dict[str, Any] = {"http.request.method": method}
    attrs: dict[str, Any] = {"url.full": redact_url(request.url)}
    if method not in _KNOWN_METHODS:
        metric["http.request.method"] = "_OTHER"
        attrs["http.request.method_original"] = method
    try:
        parts = urlsplit(request.url)
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    else:
        if host:
            metric["server.address"] = host
            metric["server.port"] = port or (443 if parts.scheme == "https" else 80)
    attrs.update(metric)
    return attrs, metric


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# -- opt-in content (the input/output message JSON schemas of the conventions) ----------------


def _parts(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [{"type": "tool_call_response", "id": message.tool_call_id,
                 "response": message.content}]  # fmt: skip
    parts: list[dict[str, Any]] = []
    if message.reasoning:
        parts.append({"type": "reasoning", "content": message.reasoning})
    content = message.content
    if isinstance(content, str):
        if content:
            parts.append({"type": "text", "content": content})
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append({"type": "text", "content": part.get("text", "")})
            elif isinstance(part, dict):
                parts.append({"type": str(part.get("type", "unknown"))})
    for tool_call in message.tool_calls or ():
        parts.append({"type": "tool_call", "id": tool_call.id, "name": tool_call.name,
                      "arguments": _loads(tool_call.arguments)})  # fmt: skip
    return parts


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _input_content(req: ChatRequest) -> dict[str, Any]:
    system = [p for m in req.messages if m.role in ("system", "developer") for p in _parts(m)]
    others = [{"role": m.role, "parts": _parts(m)} for m in req.messages
              if m.role not in ("system", "developer")]  # fmt: skip
    attrs: dict[str, Any] = {"gen_ai.input.messages": _dumps(others)}
    if system:
        attrs["gen_ai.system_instructions"] = _dumps(system)
    if req.tools:
        attrs["gen_ai.tool.definitions"] = _dumps(req.tools)
    return attrs


def _output_content(result: object) -> dict[str, Any]:
    if not hasattr(result, "content"):
        return {}
    chat: ChatResult = result  # type: ignore[assignment]
    choices: list[Any] = [chat, *chat.more_choices]
    messages = []
    for choice in choices:
        parts: list[dict[str, Any]] = []
        if choice.reasoning:
            parts.append({"type": "reasoning", "content": choice.reasoning})
        if choice.content:
            parts.append({"type": "text", "content": choice.content})
        for tool_call in choice.tool_calls:
            parts.append({"type": "tool_call", "id": tool_call.id, "name": tool_call.name,
                          "arguments": _loads(tool_call.arguments)})  # fmt: skip
        messages.append({"role": "assistant", "parts": parts,
                         "finish_reason": choice.finish_reason or ""})  # fmt: skip
    return {"gen_ai.output.messages": _dumps(messages)}


# -- activation --------------------------------------------------------------------------------


class HookwireInstrumentor:
    """Turns the plugin on and off, the way OpenTelemetry instrumentors do (one per process).

    ``instrument(tracer_provider=None, meter_provider=None, plugin_host=None,
    capture_content=None)``: omitted providers are the global ones, an omitted host the
    process-wide one, an omitted ``capture_content`` follows
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``. A second ``instrument()`` before
    ``uninstrument()`` does nothing (with a warning), as ``BaseInstrumentor`` does.
    """

    _instance: HookwireInstrumentor | None = None
    _lock = threading.Lock()
    _plugin: OtelPlugin | None = None
    _host: PluginHost | None = None

    def __new__(cls) -> HookwireInstrumentor:
        with cls._lock:
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        return self._plugin is not None

    @property
    def plugin(self) -> OtelPlugin | None:
        """The registered plugin object while instrumented."""
        return self._plugin

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()  # hookwire itself; the plugin ships inside it

    def instrument(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        plugin_host: PluginHost | None = None,
        capture_content: bool | None = None,
        **_ignored: Any,  # what opentelemetry-instrument passes along
    ) -> None:
        if not _HAS_OTEL:
            raise ImportError(
                f"hookwire's OpenTelemetry plugin needs opentelemetry-api: {INSTALL_HINT}"
            )
        with self._lock:
            if self._plugin is not None:
                log.warning("hookwire is already instrumented; call uninstrument() first")
                return
            import hookwire

            version = hookwire.__version__
            tracer = _trace.get_tracer(_SCOPE, version, tracer_provider, SCHEMA_URL)
            meter = _metrics.get_meter(_SCOPE, version, meter_provider, SCHEMA_URL)
            capture = _capture_from_env() if capture_content is None else bool(capture_content)
            plugin = OtelPlugin(tracer, meter, capture_content=capture)
            host = plugin_host if plugin_host is not None else get_plugin_host()
            old = host.pm.get_plugin(PLUGIN_NAME)
            if isinstance(old, OtelPlugin):  # still draining calls of an earlier instrument()
                host.pm.unregister(old)
            if not host.register(plugin, PLUGIN_NAME):
                why = host.errors[-1] if host.errors else None
                raise PluginError(
                    f"plugin {PLUGIN_NAME!r} could not be registered"
                    + (f": {why}" if why else " (is it blocked by HOOKWIRE_DISABLE_PLUGINS?)"),
                    plugin=PLUGIN_NAME,
                )
            type(self)._plugin, type(self)._host = plugin, host

    def uninstrument(self, **_ignored: Any) -> None:
        """Remove the plugin from its host: at once, or, while chat or embeddings calls are in
        flight, as the last of them ends (so each detaches the context it attached; no new
        call is traced meanwhile). Streams already open still end their spans if they end
        first."""
        with self._lock:
            plugin, host = self._plugin, self._host
            if plugin is None or host is None:
                return
            type(self)._plugin = type(self)._host = None

        def remove() -> None:
            if host.pm.is_registered(plugin):
                host.pm.unregister(plugin)

        plugin.drain(remove)
