"""hookwire.LLM and Conversation: provider lookup through plugins, validation, history, parity."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import sys
import threading
import types
from collections.abc import Iterator

import pytest

import hookwire
from hookwire.errors import InvalidRequest, PluginError
from hookwire.hookspecs import hookimpl
from hookwire.llm import (
    LLM,
    AsyncChatStream,
    AsyncFromSync,
    ChatDelta,
    ChatRequest,
    ChatResult,
    ChatStream,
    Conversation,
    Provider,
    list_providers,
)
from hookwire.registry import PluginHost


class EchoProvider(AsyncFromSync, Provider):
    """A third-party provider in a dozen lines: what the Provider docstring promises."""

    name = "echo"

    def __init__(self, *, model: str | None = "echo-1", prefix: str = "", **_: object) -> None:
        super().__init__(model=model)
        self.prefix = prefix
        self.requests: list[ChatRequest] = []
        self.threads: set[str] = set()

    def _text(self, req: ChatRequest) -> str:
        self.requests.append(req)
        self.threads.add(threading.current_thread().name)
        return self.prefix + " | ".join(f"{m.role}:{m.content}" for m in req.messages)

    def chat(self, req: ChatRequest) -> ChatResult:
        return ChatResult(self._text(req), finish_reason="stop", model=self.resolve_model(req),
                          provider=self.name)

    def stream(self, req: ChatRequest) -> ChatStream:
        def deltas() -> Iterator[ChatDelta]:
            for word in self._text(req).split(" "):
                yield ChatDelta(word + " ")
            yield ChatDelta(finish_reason="stop")

        return ChatStream(deltas(), provider=self.name, model=self.resolve_model(req))


class EchoPlugin:
    @hookimpl
    def hookwire_register_providers(self, register):  # type: ignore[no-untyped-def]
        register("echo", EchoProvider, aliases=("echo-alias",))


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(load_entrypoints=False, plugins=[("echo-plugin", EchoPlugin())])


def test_third_party_provider_by_name_through_plugin_host(host: PluginHost) -> None:
    llm = LLM("echo", plugins=host, prefix=">")
    assert isinstance(llm.provider, EchoProvider) and llm.provider.prefix == ">"
    assert llm.chat("hi", system="sys").content == ">system:sys | user:hi"
    assert "echo-alias" in list_providers(host)


def test_third_party_provider_through_a_fake_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = types.ModuleType("thirdparty_echo")
    module.hookwire_register_providers = hookimpl(  # type: ignore[attr-defined]
        lambda register: register("echo", EchoProvider))
    monkeypatch.setitem(sys.modules, "thirdparty_echo", module)
    ep = importlib.metadata.EntryPoint("thirdparty", "thirdparty_echo", "hookwire")
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == "hookwire" else [])
    llm = LLM("echo", plugins=PluginHost())
    assert llm.chat("x").content == "user:x"


def test_unknown_provider_names_the_known_ones(host: PluginHost) -> None:
    with pytest.raises(PluginError, match="no provider named 'nope'; available: echo"):
        LLM("nope", plugins=host)


def test_an_option_the_factory_does_not_take_is_named_a_broken_factory_is_a_plugin_error(
) -> None:
    def broken(*, model=None):  # type: ignore[no-untyped-def]
        raise TypeError("unsupported operand type(s)")

    class Strict:
        @hookimpl
        def hookwire_register_providers(self, register):  # type: ignore[no-untyped-def]
            register("strict", lambda *, model=None: EchoProvider(model=model))
            register("broken", broken)

    host = PluginHost(load_entrypoints=False, plugins=[("strict", Strict())])
    with pytest.raises(InvalidRequest, match="LLM\\('strict'\\) does not take the option 'device'"):
        LLM("strict", plugins=host, device="cuda")
    with pytest.raises(PluginError, match="rejected its options"):
        LLM("broken", plugins=host)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"temperature": "hot"}, "temperature must be a number"),
    ({"temperature": 3}, "temperature must be between 0 and 2"),
    ({"top_p": 1.5}, "top_p"),
    ({"max_tokens": 0}, "max_tokens must be an integer >= 1"),
    ({"max_tokens": True}, "max_tokens"),
    ({"stop": [1]}, "stop must be"),
    ({"thinking": "yes"}, "thinking must be"),
    ({"thinking_budget": -1}, "thinking_budget"),
    ({"tools": "f"}, "tools must be a list"),
    ({"response_format": "yaml"}, "response_format"),
    ({"extra_body": [1]}, "extra_body must be a dict"),
    ({"history": [{"role": "wizard", "content": "x"}]}, "role must be one of"),
    ({"timeout": -1}, "timeout"),
])
def test_bad_arguments_are_rejected_by_name(host: PluginHost, kwargs: dict, match: str) -> None:
    llm = LLM("echo", plugins=host)
    with pytest.raises(InvalidRequest, match=match):
        llm.chat("hi", **kwargs)
    assert llm.provider.requests == []  # nothing reached the provider


def test_prompt_may_be_messages_and_history_comes_between(host: PluginHost) -> None:
    llm = LLM("echo", plugins=host)
    out = llm.chat([{"role": "user", "content": "q2"}], system="s",
                   history=[{"role": "user", "content": "q1"},
                            hookwire.llm.Message("assistant", "a1")])
    assert out.content == "system:s | user:q1 | assistant:a1 | user:q2"


def test_conversation_keeps_history_and_defaults(host: PluginHost) -> None:
    conv = LLM("echo", plugins=host).conversation(system="S", temperature=0.2)
    conv.send("one")
    second = conv.send("two", temperature=0.9)
    assert second.content == "system:S | user:one | assistant:system:S | user:one | user:two"
    reqs = conv.llm.provider.requests
    assert reqs[0].temperature == 0.2 and reqs[1].temperature == 0.9
    assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    conv.reset()
    assert conv.messages == [] and conv.send("x").content == "system:S | user:x"


def test_conversation_stream_commits_only_when_complete(host: PluginHost) -> None:
    conv = LLM("echo", plugins=host).conversation()
    stream = conv.stream("a b c")
    next(stream)
    stream.close()
    assert conv.messages == []  # an abandoned turn is not history
    text = "".join(d.content for d in conv.stream("hello"))
    assert conv.messages[-1].content == text and conv.messages[0].content == "hello"


async def test_async_faces_run_a_blocking_provider_off_the_loop(host: PluginHost) -> None:
    llm = LLM("echo", plugins=host)
    loop_thread = threading.current_thread().name
    result = await llm.achat("hi")
    deltas = [d async for d in llm.astream("x y")]
    assert result.content == "user:hi" and "".join(d.content for d in deltas) == "user:x y "
    assert loop_thread not in llm.provider.threads
    conv = llm.conversation()
    await conv.asend("first")
    stream = conv.astream("second")
    assert (await stream.aresult()).content.startswith("user:first")
    assert len(conv) == 4


async def test_cancelling_an_async_stream_closes_the_sync_one() -> None:
    closed = threading.Event()

    class Slow(AsyncFromSync, Provider):
        name = "slow"

        def stream(self, req: ChatRequest) -> ChatStream:
            def deltas() -> Iterator[ChatDelta]:
                try:
                    while True:
                        threading.Event().wait(0.01)
                        yield ChatDelta("t")
                finally:
                    closed.set()

            return ChatStream(deltas(), provider=self.name, model="m")

    streaming = asyncio.Event()

    async def consume() -> None:
        async for _ in LLM(Slow(model="m")).astream("go"):
            streaming.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), 30)  # cancelled mid-stream, not while opening
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(closed.wait, 5)


async def test_cancelling_while_the_sync_stream_is_made_still_closes_it() -> None:
    making, closed = threading.Event(), threading.Event()

    class SlowToOpen(AsyncFromSync, Provider):
        name = "slow-to-open"

        def stream(self, req: ChatRequest) -> ChatStream:
            making.set()
            threading.Event().wait(0.2)  # the task is cancelled meanwhile
            return ChatStream(iter([ChatDelta("t")]), provider=self.name, model="m",
                              on_close=closed.set)

    llm = LLM(SlowToOpen(model="m"))

    async def consume() -> None:
        async for _ in llm.astream("go"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.to_thread(making.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(closed.wait, 5)


PARITY = [(LLM, {"conversation"}), (Conversation, {"reset"}),
          (ChatStream, {"add_done_callback"})]


@pytest.mark.parametrize(("cls", "exempt"), PARITY, ids=lambda v: getattr(v, "__name__", ""))
def test_every_sync_method_has_an_async_twin(cls: type, exempt: set[str]) -> None:
    twin_cls = AsyncChatStream if cls is ChatStream else cls
    sync = {n for n, f in inspect.getmembers(cls, inspect.isfunction)
            if not n.startswith("_") and not n.startswith("a") and n not in exempt}
    assert sync, "the parity test must see some methods"
    for name in sync:
        twin = getattr(twin_cls, "a" + name, None)
        assert twin is not None, f"{cls.__name__}.{name} has no async twin a{name}"
        is_async = inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin)
        returns_async_stream = "AsyncChatStream" in str(inspect.signature(twin).return_annotation)
        assert is_async or returns_async_stream, f"a{name} is not async"


def test_exported_members() -> None:
    assert hookwire.LLM is LLM and hookwire.Conversation is Conversation
    assert set(hookwire.llm.__all__) <= set(dir(hookwire.llm))
    for name in hookwire.llm.__all__:
        assert getattr(hookwire.llm, name).__module__.startswith("hookwire.llm")
