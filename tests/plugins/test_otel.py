"""The OpenTelemetry plugin against the live mock server (and the tiny local model).

Spans go to opentelemetry-sdk's InMemorySpanExporter, metrics to an InMemoryMetricReader; the
providers are injected (the global ones can be set only once per process) and the plugin is
registered on a private PluginHost per test, then removed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("opentelemetry.sdk")

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import hookwire
from hookwire.errors import ConnectError, NotFoundError, RetryError
from hookwire.llm import LLM
from hookwire.plugin import PluginHost
from hookwire.plugins import otel as otel_module
from hookwire.plugins.otel import PLUGIN_NAME, HookwireInstrumentor

KEY = "sk-otel-test-key-0123456789"  # pragma: allowlist secret
QUERY_SECRET = "q-secret-value-42"  # pragma: allowlist secret
MODEL = "mock-model"
_HAS_LOCAL = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))


class Telemetry:
    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, **options: Any) -> None:
        HookwireInstrumentor().instrument(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider,
            plugin_host=self.host, **options,
        )  # fmt: skip

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, [s.name for s in self.spans()]
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        span_id = parent.context.span_id
        return [s for s in self.spans() if s.parent is not None and s.parent.span_id == span_id]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    t = Telemetry(PluginHost())
    t.instrument()
    yield t
    HookwireInstrumentor().uninstrument()
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


@pytest.fixture
def llm(mock_server: Any, telemetry: Telemetry) -> Iterator[LLM]:
    made = LLM("openai-compatible", base_url=mock_server.openai_base_url, model=MODEL,
               api_key=KEY, plugins=telemetry.host)  # fmt: skip
    yield made
    made.close()


def _everything(span: ReadableSpan) -> str:
    """Every attribute and event value of a span, as text."""
    values = [str(v) for v in span.attributes.values()]
    for event in span.events:
        values += [event.name, *(str(v) for v in event.attributes.values())]
    return " ".join([span.name, *values])


def _no_secrets(telemetry: Telemetry) -> None:
    for span in telemetry.spans():
        text = _everything(span)
        assert KEY not in text and QUERY_SECRET not in text, span.name


def test_chat_span_follows_the_genai_conventions(llm: LLM, telemetry: Telemetry) -> None:
    result = llm.chat("hello", temperature=0.5, top_p=0.9, max_tokens=16, seed=7,
                      stop=["END"], n=2)  # fmt: skip
    span = telemetry.one(f"chat {MODEL}")
    attrs = dict(span.attributes)
    assert span.kind is SpanKind.CLIENT and span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai-compatible"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.request.temperature"] == 0.5 and attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.max_tokens"] == 16 and attrs["gen_ai.request.seed"] == 7
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.request.choice.count"] == 2
    assert attrs["gen_ai.response.model"] == result.model
    assert attrs["gen_ai.response.id"] == result.raw["id"]
    assert len(attrs["gen_ai.response.finish_reasons"]) == 2
    assert result.usage is not None
    assert attrs["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == result.usage.completion_tokens
    assert "gen_ai.system" not in attrs and "gen_ai.request.stream" not in attrs
    # the HTTP request it made is its child, and told it where the server is
    (http,) = telemetry.children(span)
    assert http.name == "POST" and http.kind is SpanKind.CLIENT
    assert http.attributes["http.response.status_code"] == 200
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == http.attributes["server.port"]
    assert "gen_ai.input.messages" not in attrs  # content capture is opt-in
    _no_secrets(telemetry)


def test_chat_metrics(llm: LLM, telemetry: Telemetry) -> None:
    result = llm.chat("hello", max_tokens=16)
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1 and duration.sum > 0
    assert duration.attributes["gen_ai.operation.name"] == "chat"
    assert duration.attributes["gen_ai.request.model"] == MODEL
    assert duration.attributes["gen_ai.response.model"] == result.model
    assert duration.attributes["server.address"] == "127.0.0.1"
    assert "error.type" not in duration.attributes
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]  # the advisory buckets
    tokens = {p.attributes["gen_ai.token.type"]: p for p in
              telemetry.points("gen_ai.client.token.usage")}  # fmt: skip
    assert set(tokens) == {"input", "output"}
    assert result.usage is not None
    assert tokens["input"].sum == result.usage.prompt_tokens
    assert tokens["output"].sum == result.usage.completion_tokens
    (http,) = telemetry.points("http.client.request.duration")
    assert http.attributes["http.request.method"] == "POST"
    assert http.attributes["http.response.status_code"] == 200


def test_stream_span_ends_with_the_stream(llm: LLM, telemetry: Telemetry) -> None:
    stream = llm.stream("hello", max_tokens=16)
    assert telemetry.spans() == []  # nothing sent, nothing ended
    first = next(iter(stream))
    assert first is not None and telemetry.named(f"chat {MODEL}") == []  # still running
    result = stream.result()
    span = telemetry.one(f"chat {MODEL}")
    attrs = dict(span.attributes)
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["hookwire.llm.outcome"] == "ok"
    assert attrs["gen_ai.response.time_to_first_chunk"] >= 0
    assert attrs["gen_ai.response.finish_reasons"] == (result.finish_reason,)
    (http,) = telemetry.children(span)
    assert http.name == "POST" and attrs["server.port"] == http.attributes["server.port"]
    (ttfc,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1


def test_a_stream_closed_early_ends_its_span_as_closed(llm: LLM, telemetry: Telemetry) -> None:
    with llm.stream("hello there, a longer prompt", max_tokens=32) as stream:
        next(iter(stream))
    span = telemetry.one(f"chat {MODEL}")
    assert span.attributes["hookwire.llm.outcome"] == "closed"
    assert span.status.status_code is StatusCode.UNSET


def test_a_request_sent_while_a_stream_waits_is_not_the_streams(
    llm: LLM, telemetry: Telemetry, mock_server: Any
) -> None:
    stream = llm.stream("hello", max_tokens=16)
    with hookwire.Client(plugins=telemetry.host) as client:
        client.get(f"{mock_server.url}/get")
    stream.result()
    get = telemetry.one("GET")
    assert get.parent is None  # a root of its own, not under the stream
    chat = telemetry.one(f"chat {MODEL}")
    assert [s.name for s in telemetry.children(chat)] == ["POST"]


def test_embeddings_span(llm: LLM, telemetry: Telemetry) -> None:
    result = llm.embed(["a", "b"])
    span = telemetry.one(f"embeddings {MODEL}")
    attrs = dict(span.attributes)
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.embeddings.dimension.count"] == len(result.vectors[0])
    assert result.usage is not None
    assert attrs["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert "gen_ai.usage.output_tokens" not in attrs
    assert [s.name for s in telemetry.children(span)] == ["POST"]
    tokens = telemetry.points("gen_ai.client.token.usage")
    assert [p.attributes["gen_ai.token.type"] for p in tokens] == ["input"]


def test_tool_runs_are_execute_tool_children(llm: LLM, telemetry: Telemetry) -> None:
    def lookup(city: str) -> str:
        """Look the weather up."""
        raise ValueError("no weather today")

    llm.chat("use lookup for Paris", tools=[lookup], max_turns=2)
    turns = telemetry.named(f"chat {MODEL}")
    assert len(turns) == 2
    first = next(s for s in turns if "hookwire.llm.turn" not in s.attributes)
    second = next(s for s in turns if s.attributes.get("hookwire.llm.turn") == 2)
    tool = telemetry.one("execute_tool lookup")
    assert tool.parent is not None and tool.parent.span_id == first.context.span_id
    assert tool.kind is SpanKind.INTERNAL
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "lookup"
    assert str(tool.attributes["gen_ai.tool.call.id"])
    assert tool.attributes["error.type"] == "ValueError"
    assert tool.status.status_code is StatusCode.ERROR
    assert first.end_time is not None and second.start_time is not None
    assert first.end_time <= tool.end_time <= second.start_time  # type: ignore[operator]


def test_an_error_marks_the_span(llm: LLM, telemetry: Telemetry) -> None:
    with pytest.raises(NotFoundError):
        llm.chat("hello", model="no-such-model")
    span = telemetry.one("chat no-such-model")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "NotFoundError"
    assert span.attributes["hookwire.llm.outcome"] == "error"
    assert [e.name for e in span.events] == ["exception"]
    (http,) = telemetry.children(span)
    assert http.attributes["http.response.status_code"] == 404
    assert http.attributes["error.type"] == "404" and http.status.status_code is StatusCode.ERROR
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "NotFoundError"
    _no_secrets(telemetry)


def test_a_failed_stream_marks_the_span(llm: LLM, telemetry: Telemetry) -> None:
    stream = llm.stream("hello", extra_headers={"X-Mock-Fault": "no-done"})
    with pytest.raises(hookwire.errors.StreamTruncated):
        stream.result()
    span = telemetry.one(f"chat {MODEL}")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "StreamTruncated"


def test_http_get_span_and_traceparent(telemetry: Telemetry, mock_server: Any) -> None:
    with hookwire.Client(plugins=telemetry.host) as client:
        echoed = client.get(f"{mock_server.url}/headers", params={"api_key": QUERY_SECRET,
                                                                   "page": "2"}).json()
    span = telemetry.one("GET")
    attrs = dict(span.attributes)
    assert span.kind is SpanKind.CLIENT and span.parent is None
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.response.status_code"] == 200
    assert attrs["server.address"] == "127.0.0.1"
    assert f":{attrs['server.port']}/headers?" in str(attrs["url.full"])
    assert "api_key=[REDACTED]" in str(attrs["url.full"]) and "page=2" in str(attrs["url.full"])
    assert "http.request.resend_count" not in attrs
    # W3C trace context reached the server, naming this very span
    traceparent = echoed["headers"]["Traceparent"]
    version, trace_id, span_id, _flags = traceparent.split("-")
    assert version == "00"
    assert int(trace_id, 16) == span.context.trace_id
    assert int(span_id, 16) == span.context.span_id
    _no_secrets(telemetry)


def test_retries_count_resends(telemetry: Telemetry, mock_server: Any) -> None:
    retry = hookwire.RetryPolicy(attempts=2, backoff_base=0, jitter=0)
    with hookwire.Client(plugins=telemetry.host, retry=retry) as client, pytest.raises(RetryError):
        client.get(f"{mock_server.url}/status/503")
    first, second = sorted(telemetry.named("GET"), key=lambda s: s.start_time or 0)
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.request.resend_count"] == 1
    for span in (first, second):
        assert span.attributes["error.type"] == "503"
        assert span.status.status_code is StatusCode.ERROR


def test_a_transport_error_ends_the_span(telemetry: Telemetry) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = hookwire.RetryPolicy(attempts=2, backoff_base=0, jitter=0)
    client = hookwire.Client(plugins=telemetry.host, retry=retry)
    with client, pytest.raises(ConnectError):
        client.get(f"http://127.0.0.1:{port}/nowhere")
    first, last = sorted(telemetry.named("GET"), key=lambda s: s.start_time or 0)
    assert first.attributes["error.type"] == "connect"  # retried: the retry hook's reason
    assert last.attributes["error.type"] == "ConnectError"  # given up: the error itself
    assert last.attributes["http.request.resend_count"] == 1
    for span in (first, last):
        assert span.status.status_code is StatusCode.ERROR
        assert "http.response.status_code" not in span.attributes
    assert [e.name for e in last.events] == ["exception"]


def test_concurrent_async_calls_each_parent_their_own_http_span(
    llm: LLM, telemetry: Telemetry
) -> None:
    # the delay keeps both requests in flight together
    slow = {"X-Mock-Fault": "delay=0.2"}

    async def run() -> None:
        await asyncio.gather(
            llm.achat("one", max_tokens=8, extra_headers=slow),
            llm.achat("two", max_tokens=8, extra_headers=slow),
            llm.astream("three", max_tokens=8, extra_headers=slow).aresult(),
        )
        await llm.aclose()

    asyncio.run(run())
    chats = telemetry.named(f"chat {MODEL}")
    assert len(chats) == 3
    posts = telemetry.named("POST")
    assert len(posts) == 3
    parents = sorted(p.parent.span_id for p in posts if p.parent is not None)
    assert parents == sorted(c.context.span_id for c in chats)
    assert all(c.parent is None for c in chats)  # no call is nested under another


def test_an_outer_span_parents_the_llm_span(
    llm: LLM, telemetry: Telemetry, mock_server: Any
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("request handler") as outer:
        llm.chat("hello", max_tokens=8)
        llm.stream("hello", max_tokens=8).result()
    for chat in telemetry.named(f"chat {MODEL}"):
        assert chat.parent is not None
        assert chat.parent.span_id == outer.get_span_context().span_id
    # after the call, the outer span is current again
    client = hookwire.Client(plugins=telemetry.host)
    with client, tracer.start_as_current_span("after") as after:
        client.get(f"{mock_server.url}/get")
    get = telemetry.one("GET")
    assert get.parent is not None and get.parent.span_id == after.get_span_context().span_id


def test_content_capture_is_opt_in(mock_server: Any) -> None:
    t = Telemetry(PluginHost())
    t.instrument(capture_content=True)
    try:
        with LLM("openai-compatible", base_url=mock_server.openai_base_url, model=MODEL,
                 api_key=KEY, plugins=t.host) as llm:  # fmt: skip
            llm.chat("hello", system="Be brief.", max_tokens=8)
    finally:
        HookwireInstrumentor().uninstrument()
    attrs = t.one(f"chat {MODEL}").attributes
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]}
    ]
    assert json.loads(str(attrs["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be brief."}
    ]
    (output,) = json.loads(str(attrs["gen_ai.output.messages"]))
    assert output["role"] == "assistant" and output["parts"][-1]["type"] == "text"
    assert output["finish_reason"]


@pytest.mark.parametrize(("value", "captured"), [("span_only", True), ("SPAN_AND_EVENT", True),
                                                 ("NO_CONTENT", False), ("bogus", False)])
def test_content_capture_follows_the_environment(
    value: str, captured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(otel_module.CAPTURE_CONTENT_ENV, value)
    t = Telemetry(PluginHost(load_entrypoints=False))
    t.instrument()
    try:
        plugin = HookwireInstrumentor().plugin
        assert plugin is not None and plugin.capture_content is captured
    finally:
        HookwireInstrumentor().uninstrument()


def test_instrument_registers_and_uninstrument_removes(
    mock_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host = PluginHost()
    t = Telemetry(host)
    assert HookwireInstrumentor() is HookwireInstrumentor()
    assert not host.pm.has_plugin(PLUGIN_NAME)  # not registered by default
    t.instrument()
    assert host.pm.has_plugin(PLUGIN_NAME)
    assert HookwireInstrumentor().is_instrumented_by_opentelemetry
    with caplog.at_level(logging.WARNING, logger="hookwire.plugins.otel"):
        t.instrument()  # a second time: a warning, nothing doubled
    assert "already instrumented" in caplog.text
    with hookwire.Client(plugins=host) as client:
        client.get(f"{mock_server.url}/get")
        HookwireInstrumentor().uninstrument()
        assert not host.pm.has_plugin(PLUGIN_NAME)
        assert "traceparent" not in client.get(f"{mock_server.url}/headers").json()["headers"]
    assert len(t.named("GET")) == 1
    HookwireInstrumentor().uninstrument()  # again: nothing to do


def test_a_blocked_plugin_is_a_typed_error() -> None:
    host = PluginHost(disable=[PLUGIN_NAME], load_entrypoints=False)
    with pytest.raises(hookwire.errors.PluginError, match=PLUGIN_NAME):
        Telemetry(host).instrument()
    assert not HookwireInstrumentor().is_instrumented_by_opentelemetry


def test_without_opentelemetry_instrument_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(otel_module, "_HAS_OTEL", False)
    with pytest.raises(ImportError, match=r"pip install 'hookwire\[otel\]'"):
        HookwireInstrumentor().instrument(plugin_host=PluginHost(load_entrypoints=False))


def test_the_module_imports_without_opentelemetry(tmp_path: Path) -> None:
    import subprocess
    import sys

    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'opentelemetry' or name.startswith('opentelemetry.'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    code = (
        "from hookwire.plugins.otel import HookwireInstrumentor\n"
        "try:\n"
        "    HookwireInstrumentor().instrument()\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ImportError:" in done.stdout and "hookwire[otel]" in done.stdout


def test_the_instrumentor_entry_point_is_declared() -> None:
    pyproject = tomllib.loads(Path("pyproject.toml").read_text())
    eps = pyproject["project"]["entry-points"]
    target = eps["opentelemetry_instrumentor"]["hookwire"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is HookwireInstrumentor
    assert "otel" not in eps["hookwire"] and PLUGIN_NAME not in eps["hookwire"]
    extras = pyproject["project"]["optional-dependencies"]
    assert any(d.startswith("opentelemetry-api") for d in extras["otel"])


@pytest.mark.slow  # the tiny model is built and loaded first (about 30 s)
@pytest.mark.local
@pytest.mark.skipif(not _HAS_LOCAL, reason="torch/transformers not installed")
def test_local_model_span_is_internal(tiny_engine: Any, telemetry: Telemetry) -> None:
    from tests.contract.test_llm_contract_local import ScriptedReply

    with LLM("transformers", engine=tiny_engine, model="tiny-qwen3", plugins=telemetry.host,
             logits_processor=[ScriptedReply(tiny_engine.tokenizer)]) as llm:  # fmt: skip
        llm.chat("hello", max_tokens=16)
        llm.stream("hello", max_tokens=16).result()
    spans = telemetry.named("chat tiny-qwen3")
    assert len(spans) == 2
    for span in spans:
        assert span.kind is SpanKind.INTERNAL
        assert span.attributes["gen_ai.provider.name"] == "transformers"
        assert "server.address" not in span.attributes
        assert telemetry.children(span) == []  # no HTTP under a local model
    assert [p.count for p in telemetry.points("gen_ai.client.operation.duration")] == [2]


def test_a_retried_stream_request_stays_under_the_stream(
    mock_server: Any, telemetry: Telemetry
) -> None:
    retry = hookwire.RetryPolicy(attempts=2, retry_post=True, backoff_base=0, jitter=0)
    with LLM("openai-compatible", base_url=mock_server.openai_base_url, model=MODEL,
             api_key=KEY, plugins=telemetry.host, retry=retry) as llm:  # fmt: skip
        fault = {"X-Mock-Fault": "status=503;calls=1", "X-Mock-Session": "otel-retried-stream"}
        llm.stream("hello", max_tokens=8, extra_headers=fault).result()
    chat = telemetry.one(f"chat {MODEL}")
    posts = sorted(telemetry.children(chat), key=lambda s: s.start_time or 0)
    assert [p.attributes["http.response.status_code"] for p in posts] == [503, 200]
    assert posts[1].attributes["http.request.resend_count"] == 1


def test_a_stream_closed_before_it_began_still_ends(llm: LLM, telemetry: Telemetry) -> None:
    with llm.stream("hello", max_tokens=8):
        pass
    llm.chat("hello", max_tokens=8)  # the unsent stream does not claim this call's request
    spans = telemetry.named(f"chat {MODEL}")
    assert sorted(str(s.attributes["hookwire.llm.outcome"]) for s in spans) == ["closed", "ok"]
    assert all(telemetry.children(s) == [] or "gen_ai.request.stream" not in s.attributes
               for s in spans)  # fmt: skip


def test_uninstrument_during_a_call_waits_for_it_to_detach(
    mock_server: Any, telemetry: Telemetry
) -> None:
    import threading

    from opentelemetry import trace

    sent, released = threading.Event(), threading.Event()

    class Gate:  # holds the first call in flight until uninstrument() was called
        @hookwire.plugin.hookimpl
        def hookwire_response_received(self, request: Any, response: Any) -> None:
            if not sent.is_set():
                sent.set()
                released.wait(10)

    telemetry.host.register(Gate(), "gate")
    seen: dict[str, Any] = {}

    def call() -> None:
        with LLM("openai-compatible", base_url=mock_server.openai_base_url, model=MODEL,
                 api_key=KEY, plugins=telemetry.host) as llm:  # fmt: skip
            llm.chat("hello", max_tokens=8)
            seen["current"] = trace.get_current_span()
            llm.chat("again", max_tokens=8)  # after uninstrument: not traced

    worker = threading.Thread(target=call)
    worker.start()
    assert sent.wait(10)
    HookwireInstrumentor().uninstrument()
    assert telemetry.host.pm.has_plugin(PLUGIN_NAME)  # the call in flight still needs it
    released.set()
    worker.join(10)
    assert not worker.is_alive()
    assert not telemetry.host.pm.has_plugin(PLUGIN_NAME)  # left with that call's end
    assert seen["current"] is trace.INVALID_SPAN  # its context was detached on its thread
    assert len(telemetry.named(f"chat {MODEL}")) == 1


def test_a_streamed_tool_loop_parents_each_turn(llm: LLM, telemetry: Telemetry) -> None:
    def lookup(city: str) -> str:
        """Look the weather up."""
        return f"sunny in {city}"

    llm.stream("use lookup for Paris", tools=[lookup], max_turns=2).result()
    turns = sorted(telemetry.named(f"chat {MODEL}"), key=lambda s: s.start_time or 0)
    assert len(turns) == 2
    for turn in turns:
        assert turn.attributes["gen_ai.request.stream"] is True
        assert [s.name for s in telemetry.children(turn) if s.name == "POST"] == ["POST"]
    tool = telemetry.one("execute_tool lookup")
    assert tool.parent is not None and tool.parent.span_id == turns[0].context.span_id
    assert "error.type" not in tool.attributes


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
def test_a_routed_call_records_its_fallback(
    streamed: bool, mock_server: Any, mock_server_factory: Any, telemetry: Telemetry
) -> None:
    import socket

    with socket.socket() as sock:  # a deployment nothing listens on: a connect error
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    once = hookwire.RetryPolicy(attempts=1)
    vllm = mock_server_factory(dialect="vllm")
    deployments = [
        {"provider": "openai-compatible", "base_url": dead, "model": MODEL, "api_key": KEY,
         "name": "down", "retry": once},
        {"provider": "vllm", "base_url": vllm.openai_base_url, "model": "Qwen/Qwen3-4B",
         "name": "up", "retry": once},
    ]  # fmt: skip
    with LLM(deployments, plugins=telemetry.host) as llm:
        if streamed:
            llm.stream("hello", max_tokens=8).result()
        else:
            llm.chat("hello", max_tokens=8)
    (span,) = [s for s in telemetry.spans() if s.name.startswith("chat")]
    assert span.attributes["gen_ai.provider.name"] == "vllm"  # who answered, not "router"
    assert span.attributes["hookwire.route.deployment"] == "up"
    events = [(e.attributes["hookwire.route.event"], e.attributes.get("hookwire.route.deployment"))
              for e in span.events if e.name == "hookwire.llm.route"]  # fmt: skip
    assert events[:3] == [("attempt", "down"), ("fallback", "down"), ("attempt", "up")]
    posts = telemetry.children(span)  # both deployments' requests are under the one call
    assert sorted(p.attributes["server.port"] for p in posts) == sorted(
        [int(dead.rsplit(":", 1)[1].split("/")[0]), urlsplit(vllm.url).port]
    )
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["gen_ai.provider.name"] == "vllm"
