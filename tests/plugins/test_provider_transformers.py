"""The transformers provider on the tiny local Qwen3-style model: every chat argument honoured.

The tiny model's weights are random, so answers are forced with ``Script`` (a logits processor
passed per call through ``extra_body``); what the tests assert is what the provider and engine
computed from that: the reasoning/content split, stop cuts, finish reasons, token counts, the
prompt the template rendered and the keywords ``model.generate`` received.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import hookwire
import hookwire.llm
from hookwire._clock import Clock
from hookwire.errors import DeadlineExceeded, InvalidRequest, StreamInterrupted
from hookwire.llm import StreamTimeout
from hookwire.plugins.providers._local_engine import LocalEngine
from hookwire.plugins.providers.transformers_provider import TransformersProvider, parse_tool_calls
from tests._tiny_model import Ban, Script

pytestmark = pytest.mark.local

THOUGHT = "hmm, let me think"
ANSWER = "Hello! I am a tiny language model."
LONG = 3000


def ids(engine, text):
    return engine.tokenizer.encode(text, add_special_tokens=False)


def eos(engine):
    return engine.tokenizer.convert_tokens_to_ids("<|im_end|>")


def forced(engine, text):
    return {"logits_processor": [Script(ids(engine, text), then=eos(engine))]}


def thinking_reply(engine):
    return forced(engine, f"{THOUGHT}\n</think>\n\n{ANSWER}")


def prompt_len(engine, messages, thinking=True):
    text = engine.render_prompt(messages, enable_thinking=thinking)
    return len(ids(engine, text))


@pytest.fixture
def llm(tiny_engine):
    with hookwire.LLM("transformers", engine=tiny_engine, model="tiny-qwen3") as made:
        yield made


@pytest.fixture
def generate_calls(tiny_engine, monkeypatch):
    """Every ``model.generate`` call's keywords, with the prompt decoded."""
    calls = []
    real = tiny_engine.model.generate

    def spy(*args, **kwargs):
        prompt = tiny_engine.tokenizer.decode(kwargs["input_ids"][0])
        calls.append({**kwargs, "prompt": prompt})
        return real(*args, **kwargs)

    monkeypatch.setattr(tiny_engine.model, "generate", spy)
    return calls


def test_registered_and_lists_its_model(llm):
    assert "transformers" in hookwire.llm.list_providers()
    assert isinstance(llm.provider, TransformersProvider)
    assert llm.models() == ["tiny-qwen3"]


def test_thinking_on_splits_reasoning_and_counts_tokens(llm, tiny_engine):
    result = llm.chat("你好，请介绍一下自己", extra_body=thinking_reply(tiny_engine))
    assert (result.reasoning, result.content) == (THOUGHT, ANSWER)
    assert result.finish_reason == "stop"
    completion = len(ids(tiny_engine, f"{THOUGHT}\n</think>\n\n{ANSWER}")) + 1  # + EOS
    messages = [{"role": "user", "content": "你好，请介绍一下自己"}]
    assert result.usage.prompt_tokens == prompt_len(tiny_engine, messages)
    assert result.usage.completion_tokens == completion
    assert result.usage.total_tokens == result.usage.prompt_tokens + completion
    assert (result.provider, result.model) == ("transformers", "tiny-qwen3")


def test_thinking_off_reaches_the_template(llm, tiny_engine, generate_calls):
    result = llm.chat("hi", thinking=False, extra_body=forced(tiny_engine, ANSWER))
    assert (result.reasoning, result.content) == (None, ANSWER)
    assert generate_calls[-1]["prompt"].endswith("<think>\n\n</think>\n\n")
    messages = [{"role": "user", "content": "hi"}]
    assert result.usage.prompt_tokens == prompt_len(tiny_engine, messages, thinking=False)


def test_system_and_history_are_rendered_into_the_prompt(llm, tiny_engine, generate_calls):
    history = [
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "你好！我是Qwen，一个AI助手。"},
    ]
    llm.chat("你能帮我写一首诗吗？", system="You are terse.", history=history,
             extra_body=forced(tiny_engine, ANSWER))  # fmt: skip
    prompt = generate_calls[-1]["prompt"]
    order = [prompt.index(t) for t in ("You are terse.", "你好", "你好！我是Qwen", "一首诗")]
    assert order == sorted(order)


def test_sampling_options_reach_generate(llm, tiny_engine, generate_calls):
    llm.chat("x", temperature=0.7, top_p=0.9, max_tokens=7, seed=3,
             extra_body={"top_k": 5, "repetition_penalty": 1.1})  # fmt: skip
    kw = generate_calls[-1]
    assert (kw["do_sample"], kw["temperature"], kw["top_p"]) == (True, 0.7, 0.9)
    assert (kw["max_new_tokens"], kw["top_k"], kw["repetition_penalty"]) == (7, 5, 1.1)
    llm.chat("x", temperature=0)
    assert generate_calls[-1]["do_sample"] is False


def test_seed_reproduces_a_sampled_answer(llm):
    a = llm.chat("x", temperature=1.0, seed=7, max_tokens=12).raw.raw_text
    b = llm.chat("x", temperature=1.0, seed=7, max_tokens=12).raw.raw_text
    assert a == b


def test_max_tokens_ends_with_length(llm, tiny_engine):
    result = llm.chat("x", max_tokens=6, extra_body={"logits_processor": [Ban([eos(tiny_engine)])]})
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 6


def test_stop_cuts_the_content(llm, tiny_engine):
    result = llm.chat("x", thinking=False, stop=["STOP"],
                      extra_body=forced(tiny_engine, "Hello! STOP and more"))  # fmt: skip
    assert result.content.rstrip() == "Hello!"
    assert result.finish_reason == "stop"


def test_stream_keeps_reasoning_apart_and_matches_chat(llm, tiny_engine):
    whole = llm.chat("q", extra_body=thinking_reply(tiny_engine))
    stream = llm.stream("q", extra_body=thinking_reply(tiny_engine))
    deltas = list(stream)
    assert not any(d.content and d.reasoning for d in deltas)
    assert "".join(d.reasoning for d in deltas) == whole.reasoning
    assert "".join(d.content for d in deltas) == whole.content
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage == whole.usage


def test_closing_a_stream_stops_generation(llm, tiny_engine):
    ban = Ban([eos(tiny_engine)])
    stream = llm.stream("x", max_tokens=LONG, temperature=1.0, seed=0,
                        extra_body={"logits_processor": [ban]})  # fmt: skip
    for _, _delta in zip(range(3), stream, strict=False):
        pass
    stream.close()
    assert ban.thread is not None and not ban.thread.is_alive()
    assert ban.calls < LONG


def test_tools_are_rendered_and_tool_calls_parsed(llm, tiny_engine, generate_calls):
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    result = llm.chat("weather in Paris?", tools=[tool], thinking=False,
                      extra_body=forced(tiny_engine, call))  # fmt: skip
    prompt = generate_calls[-1]["prompt"]
    assert "get_weather" in prompt and "# Tools" in prompt
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.json()) for c in result.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert result.content == ""


def test_parse_tool_calls_leaves_other_text_alone():
    text, calls = parse_tool_calls("no <tool_call>not json</tool_call> here")
    assert calls == [] and text == "no <tool_call>not json</tool_call> here"


def test_tools_without_template_support_are_refused(tiny_engine, monkeypatch):
    monkeypatch.setattr(tiny_engine.tokenizer, "chat_template", "{{ messages[0].content }}")
    with (
        hookwire.LLM("transformers", engine=tiny_engine, model="t") as llm,
        pytest.raises(InvalidRequest, match="does not render tools"),
    ):
        llm.chat("x", tools=[{"type": "function", "function": {"name": "f"}}])


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"response_format": "json"}, "response_format"),
        ({"thinking_budget": 10}, "thinking_budget"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"extra_body": {"min_p": 0.1}}, "min_p"),
        ({"extra_headers": {"X-A": "1"}}, "extra_headers"),
        ({"model": "other-model"}, "other-model"),
        ({"temperature": 0.5, "extra_body": {"top_k": -3}}, "top_k"),
    ],
)
def test_unsupported_arguments_are_refused_not_ignored(llm, generate_calls, options, word):
    with pytest.raises(InvalidRequest, match=word):
        llm.chat("x", **options)
    with pytest.raises(InvalidRequest, match=word):
        llm.stream("x", **options).result()
    assert generate_calls == []


def test_content_parts_and_server_options_are_refused(llm, tiny_model_dir):
    with pytest.raises(InvalidRequest, match="text messages only"):
        llm.chat([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    with pytest.raises(InvalidRequest, match="base_url"):
        hookwire.LLM("transformers", model=str(tiny_model_dir), base_url="http://x/v1")
    with pytest.raises(InvalidRequest, match="model="):
        hookwire.LLM("transformers")


class TickClock(Clock):
    """Each reading is one second later: a deadline of N seconds allows about N tokens."""

    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        self.t += 1.0
        return self.t


def test_total_timeout_stops_generation_and_raises(tiny_engine):
    ban = Ban([eos(tiny_engine)])
    provider = TransformersProvider(engine=tiny_engine, model="t", clock=TickClock())
    with hookwire.LLM(provider) as llm:
        with pytest.raises(DeadlineExceeded):
            llm.chat("x", max_tokens=LONG, timeout=StreamTimeout(total=5),
                     extra_body={"logits_processor": [ban]})  # fmt: skip
        assert ban.calls < 10
        stream = llm.stream("x", max_tokens=LONG, timeout=StreamTimeout(total=5),
                            extra_body={"logits_processor": [Ban([eos(tiny_engine)])]})  # fmt: skip
        with pytest.raises((DeadlineExceeded, StreamInterrupted)):
            stream.result()


async def test_async_chat_and_stream(llm, tiny_engine):
    result = await llm.achat("q", extra_body=thinking_reply(tiny_engine))
    assert (result.reasoning, result.content) == (THOUGHT, ANSWER)
    streamed = await llm.astream("q", extra_body=thinking_reply(tiny_engine)).aresult()
    assert (streamed.reasoning, streamed.content, streamed.usage) == (
        THOUGHT, ANSWER, result.usage,
    )  # fmt: skip


async def test_cancelling_async_calls_stops_generation(llm, tiny_engine):
    ban = Ban([eos(tiny_engine)])
    endless = {"max_tokens": LONG, "temperature": 1.0, "seed": 0,
               "extra_body": {"logits_processor": [ban]}}  # fmt: skip

    async def consume():
        async for _ in llm.astream("x", **endless):
            pass

    task = asyncio.ensure_future(consume())
    await asyncio.to_thread(ban.started.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(lambda: ban.thread.join(10))
    assert not ban.thread.is_alive() and ban.calls < LONG

    ban2 = Ban([eos(tiny_engine)])
    endless["extra_body"] = {"logits_processor": [ban2]}
    task = asyncio.ensure_future(llm.achat("x", **endless))
    await asyncio.to_thread(ban2.started.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # agenerate runs on a pooled thread that outlives the call: the engine's model lock tells
    # whether a generation is still running.
    assert await asyncio.to_thread(tiny_engine._model_lock.acquire, True, 10)
    tiny_engine._model_lock.release()
    assert 0 < ban2.calls < LONG


def test_lazy_load_happens_once_across_threads(tiny_model_dir, monkeypatch):
    loads = []
    real = LocalEngine.load.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(LocalEngine, "load", classmethod(counting))
    stages = []
    llm = hookwire.LLM("transformers", model=str(tiny_model_dir), device="cpu",
                  progress=lambda p: stages.append(p.stage))  # fmt: skip
    assert not llm.provider.loaded and loads == []  # nothing loads before first use
    results = []
    threads = [threading.Thread(target=lambda: results.append(llm.chat("x", max_tokens=2)))
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(loads) == 1 and len(results) == 4
    assert stages[0] == "tokenizer" and stages[-1] == "ready"
    assert llm.models() == [str(tiny_model_dir)]
    llm.close()
    assert not llm.provider.loaded


def test_importing_the_provider_does_not_import_torch():
    code = (
        "import sys, hookwire.plugins.providers.transformers_provider;"
        "sys.exit(1 if 'torch' in sys.modules or 'transformers' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
