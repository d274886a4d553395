"""LocalEngine on a real (tiny) Qwen3-style model: split, stream, options, cancel, threads, async.

The tiny model's weights are random, so tests that need a known answer force the output with
``Script`` (a logits processor from ``tests/_tiny_model.py``); what they assert is what the engine
computed from it: the reasoning/content split, the stop cut, the finish reason, the counts.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from hookwire.errors import InvalidRequest, ReadTimeout
from hookwire.plugins.providers._local_engine import (
    GenerationError,
    LocalEngine,
    ModelLoadError,
)
from tests._tiny_model import Ban, Script

pytestmark = pytest.mark.local

HELLO = [{"role": "user", "content": "你好，请介绍一下自己"}]
LONG = 3000  # far more tokens than any cancelled generation may reach


def ids(engine, text):
    return engine.tokenizer.encode(text, add_special_tokens=False)


def eos(engine):
    return engine.tokenizer.convert_tokens_to_ids("<|im_end|>")


def script(engine, text, **kw):
    return Script(ids(engine, text), then=eos(engine), **kw)


def endless(engine, proc):
    """Options for a generation that would run for LONG tokens: sampled text, EOS banned."""
    return {"max_new_tokens": LONG, "temperature": 1.0, "seed": 0, "logits_processor": [proc]}


def joined(deltas):
    reasoning = "".join(t for k, t in deltas if k == "reasoning")
    content = "".join(t for k, t in deltas if k == "content")
    return reasoning, content


def spy_generate(engine, monkeypatch):
    """Record every call to the real ``model.generate`` (and whether it returned)."""
    calls = []
    real = engine.model.generate

    def spy(*args, **kwargs):
        record = {"kwargs": kwargs, "returned": False}
        calls.append(record)
        out = real(*args, **kwargs)
        record["returned"] = True
        return out

    monkeypatch.setattr(engine.model, "generate", spy)
    return calls


# ---------------------------------------------------------------- prompts and the split


def test_prompt_opens_reasoning_only_with_thinking_on(tiny_engine):
    msgs = [{"role": "system", "content": "Be brief."}, *HELLO]
    on = tiny_engine.render_prompt(msgs, enable_thinking=True)
    off = tiny_engine.render_prompt(msgs, enable_thinking=False)
    assert on.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert tiny_engine.prompt_opens_reasoning(on)
    assert not tiny_engine.prompt_opens_reasoning(off)
    tool = {"type": "function", "function": {"name": "add", "parameters": {}}}
    assert '"name": "add"' in tiny_engine.render_prompt(HELLO, tools=[tool])


def test_think_end_id_comes_from_the_tokenizer(tiny_engine):
    assert tiny_engine.think_end_id == tiny_engine.tokenizer.convert_tokens_to_ids("</think>")
    assert tiny_engine.think_end_id != tiny_engine.think_start_id


def test_thinking_on_splits_at_the_think_end_token(tiny_engine):
    text = "hmm\n</think>\n\n你好"
    result = tiny_engine.generate(HELLO, logits_processor=[script(tiny_engine, text)])
    assert (result.reasoning, result.content) == ("hmm", "你好")
    assert result.finish_reason == "stop"
    assert result.completion_tokens == len(ids(tiny_engine, text)) + 1  # the EOS counts
    assert result.raw_text == text
    assert result.prompt_tokens == len(ids(tiny_engine, tiny_engine.render_prompt(HELLO)))


def test_thinking_on_without_think_end_is_unfinished_reasoning(tiny_engine):
    proc = Ban([eos(tiny_engine), tiny_engine.think_end_id])
    result = tiny_engine.generate(HELLO, max_new_tokens=12, logits_processor=[proc])
    assert result.content == ""
    assert result.reasoning == result.raw_text.strip("\n")
    assert result.finish_reason == "length"


def test_thinking_off_is_all_content_even_with_a_stray_think_end(tiny_engine):
    text = "答案</think>你好"
    result = tiny_engine.generate(
        HELLO, enable_thinking=False, logits_processor=[script(tiny_engine, text)]
    )
    assert (result.reasoning, result.content) == ("", text)


def test_a_leading_think_token_opens_reasoning_without_the_template(tiny_engine):
    # The Qwen3 hybrid layout: the prompt does not open <think>, the model writes it itself.
    text = "<think>\nr\n</think>\n\nc"
    result = tiny_engine.generate(
        HELLO, enable_thinking=False, logits_processor=[script(tiny_engine, text)]
    )
    assert (result.reasoning, result.content) == ("r", "c")


@pytest.mark.parametrize(
    ("thinking", "text", "expected"),
    [
        (True, "hmm\n</think>\n\n你好 world\n", ("hmm", "你好 world\n")),  # trailing \n kept
        (True, "\nr\n\n</think>\n\nc\n\n", ("r", "c\n\n")),
        (True, "r</think>c</think>d", ("r", "c</think>d")),  # the FIRST </think> ends reasoning
        (True, "still thinking\n", ("still thinking", "")),  # unfinished reasoning
        (True, "\n\n", ("", "")),
        (False, "plain 你好\n", ("", "plain 你好\n")),
        (False, "<think>x</think>y", ("x", "y")),
        (False, "pre <think>\nr\n</think>\n\npost", ("r", "pre post")),  # text before stays
        (False, "<think>never closed\n", ("never closed", "")),
        (False, "答案</think>你好", ("", "答案</think>你好")),  # no <think>: all content
    ],
)
def test_stream_yields_what_generate_returns(tiny_engine, thinking, text, expected):
    result = tiny_engine.generate(
        HELLO, enable_thinking=thinking, logits_processor=[script(tiny_engine, text)]
    )
    assert result.raw_text == text
    with tiny_engine.stream(
        HELLO, enable_thinking=thinking, logits_processor=[script(tiny_engine, text)]
    ) as stream:
        deltas = list(stream)
    assert (result.reasoning, result.content) == expected
    assert joined(deltas) == expected
    assert all(text for _, text in deltas), "empty deltas must not be emitted"
    assert stream.finish_reason == result.finish_reason == "stop"
    assert stream.usage == result.usage


def test_generate_splits_at_the_token_not_at_text_that_spells_it(tiny_engine):
    # "</think>" written with ordinary tokens is not the end of reasoning (issue 4); only the
    # tokenizer's </think> token is. (A stream sees text only; see the engine's docstring.)
    spelled = [*ids(tiny_engine, "a</th"), *ids(tiny_engine, "ink>b")]
    assert tiny_engine.think_end_id not in spelled
    proc = Script(
        [*spelled, tiny_engine.think_end_id, *ids(tiny_engine, "c")], then=eos(tiny_engine)
    )
    result = tiny_engine.generate(HELLO, logits_processor=[proc])
    assert (result.reasoning, result.content) == ("a</think>b", "c")
    proc = Script(
        [*spelled, tiny_engine.think_end_id, *ids(tiny_engine, "c")], then=eos(tiny_engine)
    )
    with tiny_engine.stream(HELLO, logits_processor=[proc]) as stream:
        assert joined(list(stream)) == ("a</think>b", "c")  # the stream splits by id too


@pytest.fixture(scope="module")
def special_tags_engine(tmp_path_factory):
    from hookwire.plugins.providers.tiny_model import build_tiny_model

    path = build_tiny_model(tmp_path_factory.mktemp("special-tags"), special_think_tags=True)
    return LocalEngine.load(path, device="cpu", default_max_new_tokens=64)


@pytest.mark.parametrize("thinking", [True, False])
def test_special_think_tokens_split_the_same_in_chat_and_stream(special_tags_engine, thinking):
    engine = special_tags_engine
    assert engine.think_end_id in engine.tokenizer.all_special_ids  # dropped by skip_special
    body = [*ids(engine, "plan it"), engine.think_end_id, *ids(engine, "\n\nthe answer")]
    if not thinking:  # the prompt closed the block: the model opens one itself
        body = [engine.think_start_id, *body]
    result = engine.generate(
        HELLO, enable_thinking=thinking, logits_processor=[Script(body, then=eos(engine))]
    )
    with engine.stream(
        HELLO, enable_thinking=thinking, logits_processor=[Script(body, then=eos(engine))]
    ) as stream:
        streamed = joined(list(stream))
    assert (result.reasoning, result.content) == streamed
    assert streamed == ("plan it", "the answer")


def test_without_a_think_end_token_everything_is_content_in_both_paths(tiny_engine):
    engine = LocalEngine(tiny_engine.model, tiny_engine.tokenizer)
    engine.think_end_id = None  # a tokenizer without the token: nothing can end reasoning
    text = "<think>\nr\n</think>\n\nc"
    result = engine.generate(HELLO, logits_processor=[script(engine, text)])
    stream = engine.stream(HELLO, logits_processor=[script(engine, text)])
    assert (result.reasoning, result.content) == ("", text)
    assert joined(list(stream)) == ("", text)


def test_sampled_stream_matches_sampled_generate_with_the_same_seed(tiny_engine):
    options = {"temperature": 1.0, "seed": 11, "max_new_tokens": 40}
    result = tiny_engine.generate(HELLO, **options)
    stream = tiny_engine.stream(HELLO, **options)
    assert joined(list(stream)) == (result.reasoning, result.content)
    assert stream.finish_reason == result.finish_reason
    assert stream.usage.completion_tokens == result.completion_tokens


# ---------------------------------------------------------------- stop and length


def test_stop_cuts_content_and_stops_generation(tiny_engine):
    text = "hmm STOP\n</think>\n\n你好 STOP and much more text that is never generated"
    result = tiny_engine.generate(
        HELLO, stop=["STOP"], logits_processor=[script(tiny_engine, text)]
    )
    assert result.reasoning == "hmm STOP"  # stop strings never match inside reasoning
    assert result.content == "你好 "
    assert result.finish_reason == "stop"
    assert result.raw_text.endswith("你好 STOP")
    assert result.completion_tokens < len(ids(tiny_engine, text))
    with tiny_engine.stream(
        HELLO, stop="STOP", logits_processor=[script(tiny_engine, text)]
    ) as stream:
        assert joined(list(stream)) == ("hmm STOP", "你好 ")
    assert stream.finish_reason == "stop"
    assert stream.usage.completion_tokens == result.completion_tokens


@pytest.mark.parametrize("limit", [1, 7])
def test_max_new_tokens_gives_length_with_exactly_that_many_tokens(tiny_engine, limit):
    proc = Ban([eos(tiny_engine)])
    result = tiny_engine.generate(HELLO, max_new_tokens=limit, logits_processor=[proc])
    assert (result.finish_reason, result.completion_tokens) == ("length", limit)
    stream = tiny_engine.stream(HELLO, max_new_tokens=limit, logits_processor=[Ban(proc.token_ids)])
    list(stream)
    assert (stream.finish_reason, stream.usage.completion_tokens) == ("length", limit)


# ---------------------------------------------------------------- sampling options


def test_every_option_reaches_model_generate(tiny_engine, monkeypatch):
    calls = spy_generate(tiny_engine, monkeypatch)
    tiny_engine.generate(
        HELLO, max_new_tokens=9, temperature=0.7, top_p=0.9, top_k=5,
        repetition_penalty=1.1, seed=1,
    )  # fmt: skip
    tiny_engine.generate(HELLO, temperature=0, max_new_tokens=3)
    sampled, greedy = calls[0]["kwargs"], calls[1]["kwargs"]
    expected = {"max_new_tokens": 9, "do_sample": True, "temperature": 0.7, "top_p": 0.9}
    assert expected.items() <= sampled.items()
    assert (sampled["top_k"], sampled["repetition_penalty"]) == (5, 1.1)
    assert (greedy["do_sample"], greedy["max_new_tokens"]) == (False, 3)


def test_seed_reproduces_and_distinguishes_samples(tiny_engine):
    def sample(seed):
        return tiny_engine.generate(HELLO, temperature=1.0, seed=seed, max_new_tokens=24).raw_text

    assert sample(5) == sample(5)
    assert sample(5) != sample(6)


def test_temperature_top_k_top_p_and_penalty_change_the_output(tiny_engine):
    def run(**options):
        return tiny_engine.generate(HELLO, max_new_tokens=24, seed=3, **options).raw_text

    greedy = run()
    assert run(temperature=0) == greedy
    assert run(temperature=5.0) != greedy  # hot sampling leaves the argmax path
    assert run(temperature=5.0, top_k=1) == greedy  # ...unless only the top token is allowed
    assert run(temperature=5.0, top_p=1e-9) == greedy
    assert run(repetition_penalty=50.0) != greedy


def test_greedy_matches_raw_model_generate(tiny_engine):
    import torch

    prompt = tiny_engine.render_prompt(HELLO)
    enc = tiny_engine.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = tiny_engine.model.generate(**enc, max_new_tokens=20, do_sample=False)
    raw = tiny_engine.tokenizer.decode(out[0, enc.input_ids.shape[1] :], skip_special_tokens=True)
    assert tiny_engine.generate(HELLO, max_new_tokens=20).raw_text == raw


# ---------------------------------------------------------------- cancellation


def test_closing_a_stream_stops_generation(tiny_engine):
    proc = Ban([eos(tiny_engine)])
    with tiny_engine.stream(HELLO, **endless(tiny_engine, proc)) as stream:
        next(stream)
        proc.started.wait(30)
    assert not stream.thread.is_alive()
    assert proc.calls < LONG
    assert stream.finish_reason is None
    assert 0 < stream.usage.completion_tokens < LONG


def test_abandoning_a_stream_stops_generation(tiny_engine):
    proc = Ban([eos(tiny_engine)])
    for _ in tiny_engine.stream(HELLO, **endless(tiny_engine, proc)):
        break
    gc.collect()  # __del__ sets the cancel flag; the thread then ends at its next step
    proc.thread.join(30)
    assert not proc.thread.is_alive()
    assert proc.calls < LONG


async def test_cancelling_an_astream_task_stops_generation(tiny_engine):
    proc = Ban([eos(tiny_engine)])
    first = asyncio.Event()

    async def consume():
        async with tiny_engine.astream(HELLO, **endless(tiny_engine, proc)) as s:
            async for _ in s:
                first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not proc.thread.is_alive()
    assert proc.calls < LONG


async def test_cancelling_agenerate_stops_generation(tiny_engine, monkeypatch):
    calls = spy_generate(tiny_engine, monkeypatch)
    proc = Ban([eos(tiny_engine)])
    task = asyncio.create_task(tiny_engine.agenerate(HELLO, **endless(tiny_engine, proc)))
    assert await asyncio.to_thread(proc.started.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls[0]["returned"]  # agenerate waited for generate to stop
    assert proc.calls < LONG


# ---------------------------------------------------------------- threads and async


def test_concurrent_calls_from_four_threads_get_their_own_results(tiny_engine):
    answers = ["一", "two", "三 three", "four 4"]

    def call(answer):
        text = f"r-{answer}</think>{answer}"
        result = tiny_engine.generate(HELLO, logits_processor=[script(tiny_engine, text)])
        sampled = tiny_engine.generate(HELLO, temperature=1.0, seed=len(answer), max_new_tokens=16)
        return result, sampled.raw_text

    sequential = {a: tiny_engine.generate(
        HELLO, temperature=1.0, seed=len(a), max_new_tokens=16
    ).raw_text for a in answers}  # fmt: skip
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(call, answers))
    for answer, (result, sampled) in zip(answers, results, strict=True):
        assert (result.reasoning, result.content) == (f"r-{answer}", answer)
        assert sampled == sequential[answer]


async def test_agenerate_does_not_block_the_event_loop(tiny_engine):
    # Generation cannot take its first step until the loop has run the ticker three times:
    # if agenerate blocked the loop, the gate would never open.
    gate = threading.Event()
    proc = script(tiny_engine, "ok</think>fine", gate=gate)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while ticks < 3:
            await asyncio.sleep(0)
            ticks += 1
        gate.set()

    result, _ = await asyncio.gather(
        tiny_engine.agenerate(HELLO, logits_processor=[proc]), ticker()
    )
    assert proc.gate_passed is True
    assert (result.reasoning, result.content) == ("ok", "fine")


async def test_astream_does_not_block_the_event_loop(tiny_engine):
    gate = threading.Event()
    proc = script(tiny_engine, "ok</think>fine", gate=gate)
    ticker = asyncio.create_task(asyncio.sleep(0))
    ticker.add_done_callback(lambda _: gate.set())
    async with tiny_engine.astream(HELLO, logits_processor=[proc]) as stream:
        deltas = [d async for d in stream]
    assert proc.gate_passed is True
    assert joined(deltas) == ("ok", "fine")
    assert stream.finish_reason == "stop"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"temperature": -1}, "temperature"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": -2}, "top_k"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"seed": "x"}, "seed"),
        ({"stop": [""]}, "stop"),
        ({"logits_processor": [42]}, "logits_processor"),
    ],
)
def test_bad_options_are_refused_by_name(tiny_engine, options, named):
    with pytest.raises(InvalidRequest, match=named):
        tiny_engine.generate(HELLO, **options)


@pytest.mark.parametrize(
    "messages", [[], "hi", [{"content": "no role"}], [{"role": "user", "content": 3}]]
)
def test_bad_messages_are_refused(tiny_engine, messages):
    with pytest.raises(InvalidRequest, match="messages"):
        tiny_engine.generate(messages)


async def test_unknown_async_option_is_refused(tiny_engine):
    with pytest.raises(InvalidRequest, match="unknown generation option"):
        await tiny_engine.agenerate(HELLO, temprature=0.5)


def test_a_failing_processor_becomes_a_generation_error(tiny_engine):
    def broken(input_ids, scores):
        raise ValueError("processor exploded")

    with pytest.raises(GenerationError, match="processor exploded") as info:
        tiny_engine.generate(HELLO, logits_processor=[broken])
    assert isinstance(info.value.__cause__, ValueError)
    stream = tiny_engine.stream(HELLO, logits_processor=[broken])
    with pytest.raises(GenerationError, match="processor exploded"):
        list(stream)
    assert not stream.thread.is_alive()


def test_stream_timeout_raises_read_timeout_and_stops(tiny_engine):
    engine = LocalEngine(
        tiny_engine.model, tiny_engine.tokenizer, stream_timeout=0.05, join_timeout=0.05
    )
    gate = threading.Event()
    proc = Script([], gate=gate)
    stream = engine.stream(HELLO, max_new_tokens=LONG, logits_processor=[proc, Ban([eos(engine)])])
    with pytest.raises(ReadTimeout):
        next(stream)  # close() gave up its bounded join: the step is still held at the gate
    assert stream.thread.is_alive()
    gate.set()  # let the held-up step finish; the cancel flag then ends generation
    proc.thread.join(30)
    assert not proc.thread.is_alive()
    assert proc.calls < LONG


def test_load_reports_progress_stages(tiny_model_dir):
    events = []
    engine = LocalEngine.load(tiny_model_dir, device="cpu", progress=events.append)
    assert [e.stage for e in events] == ["tokenizer", "model", "device", "ready"]
    assert str(engine.device) == "cpu"


def test_load_errors_name_the_problem(tmp_path, tiny_model_dir):
    with pytest.raises(ModelLoadError, match="no model directory"):
        LocalEngine.load(tmp_path / "missing")
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        LocalEngine.load(tmp_path)
    with pytest.raises(InvalidRequest, match="device or device_map"):
        LocalEngine.load(tiny_model_dir, device="cpu", device_map="cpu")
    with pytest.raises(InvalidRequest, match="stream_timeuot"):
        LocalEngine.load(tiny_model_dir, stream_timeuot=3)


def test_load_to_a_missing_cuda_device_is_a_load_error(tiny_model_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelLoadError, match="cuda:0"):
        LocalEngine.load(tiny_model_dir, device="cuda:0")


def test_importing_the_engine_does_not_import_torch():
    code = (
        "import sys, hookwire.plugins.providers._local_engine;"
        "import hookwire.plugins.providers.tiny_model;"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_device_map_loads_or_names_the_missing_accelerate(tiny_model_dir):
    import importlib.util

    if importlib.util.find_spec("accelerate") is None:
        with pytest.raises(ModelLoadError, match="accelerate"):
            LocalEngine.load(tiny_model_dir, device_map="cpu")
    else:
        engine = LocalEngine.load(tiny_model_dir, device_map="cpu")
        assert str(engine.device) == "cpu"
