"""The transformers provider's ``n``, ``logprobs`` and ``top_logprobs`` on the tiny local model.

The logprob values are checked against an independent computation: the test runs the model's
forward pass itself over the prompt and the tokens generated so far, applies the same
processing (a banned token, temperature, ``top_k``) and compares ``log_softmax`` with what the
provider reported, token by token.
"""

from __future__ import annotations

import asyncio
import math

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

import hookwire
from hookwire.errors import InvalidRequest
from hookwire.llm.types import TokenLogprob
from tests._tiny_model import Ban, Script

pytestmark = pytest.mark.local

THOUGHT = "hmm, let me think"
ANSWER = "Hello! I am a tiny model."
FLOOR = -9999.0


def ids(engine, text):
    return engine.tokenizer.encode(text, add_special_tokens=False)


def eos(engine):
    return engine.tokenizer.convert_tokens_to_ids("<|im_end|>")


class Seen:
    """A stopping criterion that never stops: the sequences after each step (chosen token last)."""

    def __init__(self):
        self.steps = []

    def __call__(self, input_ids, scores, **kwargs):
        self.steps.append(input_ids.clone())
        return torch.zeros(input_ids.shape[0], dtype=torch.bool)


@pytest.fixture
def llm(tiny_engine):
    with hookwire.LLM("transformers", engine=tiny_engine, model="tiny-qwen3") as made:
        yield made


@pytest.fixture
def generate_calls(tiny_engine, monkeypatch):
    calls = []
    real = tiny_engine.model.generate

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tiny_engine.model, "generate", spy)
    return calls


def expected(engine, seen, *, banned=(), temperature=None, top_k=None, row=0):
    """(chosen id, its logprob, the full log_softmax) per step, recomputed with forward passes."""
    out = []
    for step in seen.steps:
        sequence = step[row : row + 1]
        with torch.inference_mode():
            logits = engine.model(input_ids=sequence[:, :-1]).logits[0, -1].float()
        scores = logits.clone()
        scores[list(banned)] = float("-inf")
        if temperature:
            scores = scores / temperature
        if top_k:
            kth = torch.topk(scores, top_k).values[-1]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        logprobs = torch.log_softmax(scores, dim=-1)
        chosen = int(sequence[0, -1])
        out.append((chosen, float(logprobs[chosen]), logprobs))
    return out


def check_sorted_k(entry: TokenLogprob, k: int) -> None:
    values = [t.logprob for t in entry.top_logprobs]
    assert len(values) == k
    assert values == sorted(values, reverse=True)


def test_greedy_logprobs_are_the_processed_distribution(llm, tiny_engine):
    seen, ban = Seen(), Ban(sorted(tiny_engine.eos_token_ids))
    result = llm.chat(
        "hi",
        thinking=False,
        max_tokens=6,
        logprobs=True,
        top_logprobs=4,
        extra_body={"logits_processor": [ban], "stopping_criteria": [seen]},
    )
    want = expected(tiny_engine, seen, banned=sorted(tiny_engine.eos_token_ids))
    assert len(result.logprobs) == len(want) == 6 == result.usage.completion_tokens
    for entry, (chosen, logprob, row) in zip(result.logprobs, want, strict=True):
        assert entry.token == tiny_engine.tokenizer.decode([chosen])
        assert entry.bytes == tuple(entry.token.encode("utf-8"))  # ASCII/newline tokens
        assert math.isclose(entry.logprob, logprob, abs_tol=1e-4)
        check_sorted_k(entry, 4)
        top = entry.top_logprobs[0]
        assert (top.token, top.logprob) == (entry.token, entry.logprob)  # greedy: the argmax
        best = torch.topk(row, 4)
        assert [t.logprob for t in entry.top_logprobs] == pytest.approx(
            best.values.tolist(), abs=1e-4
        )
    assert "".join(t.token for t in result.logprobs) == result.content
    assert all(t.token != "<|im_end|>" for e in result.logprobs for t in e.top_logprobs)  # banned


def test_sampled_logprobs_follow_temperature_and_top_k(llm, tiny_engine):
    seen, ban = Seen(), Ban(sorted(tiny_engine.eos_token_ids))
    result = llm.chat("x", thinking=False, max_tokens=5, temperature=0.7, seed=11,
                      logprobs=True, top_logprobs=8,
                      extra_body={"top_k": 5, "logits_processor": [ban],
                                  "stopping_criteria": [seen]})  # fmt: skip
    banned = sorted(tiny_engine.eos_token_ids)
    want = expected(tiny_engine, seen, banned=banned, temperature=0.7, top_k=5)
    assert len(result.logprobs) == len(want) == 5
    for entry, (_, logprob, _) in zip(result.logprobs, want, strict=True):
        assert math.isclose(entry.logprob, logprob, abs_tol=1e-4)
        check_sorted_k(entry, 8)
        # top_k=5 left five tokens possible; the other three are reported at vLLM's floor
        assert [t.logprob == FLOOR for t in entry.top_logprobs] == [False] * 5 + [True] * 3
        assert math.isclose(sum(math.exp(t.logprob) for t in entry.top_logprobs), 1.0,
                            abs_tol=1e-4)  # fmt: skip
        assert entry.token in [t.token for t in entry.top_logprobs[:5]]


def test_reasoning_tokens_are_not_content_logprobs(llm, tiny_engine):
    script = Script(ids(tiny_engine, f"{THOUGHT}\n</think>\n\n{ANSWER}"), then=eos(tiny_engine))
    result = llm.chat("q", logprobs=True, extra_body={"logits_processor": [script]})
    assert (result.reasoning, result.content) == (THOUGHT, ANSWER)
    assert "".join(t.token for t in result.logprobs) == ANSWER
    assert len(result.logprobs) == len(ids(tiny_engine, ANSWER))
    assert all(t.logprob == 0.0 and t.top_logprobs == () for t in result.logprobs)  # forced


def test_without_logprobs_generate_gets_no_score_options(llm, tiny_engine, generate_calls):
    result = llm.chat("x", max_tokens=3)
    assert result.logprobs is None and result.more_choices == []
    assert "output_scores" not in generate_calls[-1]
    assert "return_dict_in_generate" not in generate_calls[-1]
    llm.chat("x", max_tokens=3, logprobs=True)
    assert generate_calls[-1]["output_scores"] is True
    assert generate_calls[-1]["return_dict_in_generate"] is True


def test_recorded_steps_free_their_score_rows(llm, tiny_engine, monkeypatch):
    """generate keeps every step's scores; the recorder empties each once it has read it."""
    outputs = []
    real = tiny_engine.model.generate

    def keep(*args, **kwargs):
        outputs.append(real(*args, **kwargs))
        return outputs[-1]

    monkeypatch.setattr(tiny_engine.model, "generate", keep)
    result = llm.chat("x", max_tokens=4, logprobs=True, top_logprobs=3)
    assert len(outputs[0].scores) == result.usage.completion_tokens
    assert all(step.untyped_storage().size() == 0 for step in outputs[0].scores)


def test_n_sampled_choices_with_a_seed(llm, tiny_engine):
    ban = Ban(sorted(tiny_engine.eos_token_ids))
    options = {"n": 3, "temperature": 1.0, "seed": 5, "max_tokens": 7, "logprobs": True,
               "top_logprobs": 2, "extra_body": {"logits_processor": [ban]}}  # fmt: skip
    result = llm.chat("x", thinking=False, **options)
    choices = result.choices
    assert [c.index for c in choices] == [0, 1, 2]
    assert (choices[0].content, choices[0].logprobs) == (result.content, result.logprobs)
    assert all(c.finish_reason == "length" and len(c.logprobs) == 7 for c in choices)
    assert all(len(t.top_logprobs) == 2 for c in choices for t in c.logprobs)
    assert len({c.content for c in choices}) > 1  # three samples, not one copied
    assert result.usage.completion_tokens == 3 * 7
    assert result.usage.total_tokens == result.usage.prompt_tokens + 21
    again = llm.chat("x", thinking=False, **options)
    assert [c.content for c in again.choices] == [c.content for c in choices]


def test_n_choices_end_apart(llm, tiny_engine):
    """Rows of one batch finish on their own: EOS at different steps, usage counts each."""

    start = len(ids(tiny_engine, tiny_engine.render_prompt(
        [{"role": "user", "content": "x"}], enable_thinking=False)))  # fmt: skip
    ends = sorted(tiny_engine.eos_token_ids)

    def end_rows(input_ids, scores):
        made = input_ids.shape[1] - start
        for row in range(input_ids.shape[0]):
            scores[row, ends] = float("-inf")
            if made >= 2 + 2 * row:  # row r: 2 + 2r tokens, then its end of turn
                scores[row, :] = float("-inf")
                scores[row, eos(tiny_engine)] = 0.0
        return scores

    result = llm.chat("x", n=3, thinking=False, logprobs=True,
                      extra_body={"logits_processor": [end_rows]})  # fmt: skip
    lengths = [len(c.logprobs) for c in result.choices]
    assert lengths == [2, 4, 6]  # EOS itself is not content
    assert all(c.finish_reason == "stop" for c in result.choices)
    assert result.usage.completion_tokens == 3 + 5 + 7


def test_greedy_n_gives_identical_choices(llm):
    result = llm.chat("x", n=2, max_tokens=4)
    assert len(result.choices) == 2
    assert result.choices[0].content == result.choices[1].content


def test_n_choices_each_parse_tools_and_stops(llm, tiny_engine):
    tool = {"type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}}}  # fmt: skip
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    script = Script(ids(tiny_engine, call), then=eos(tiny_engine))
    result = llm.chat("w?", n=2, tools=[tool], thinking=False,
                      extra_body={"logits_processor": [script]})  # fmt: skip
    assert [c.finish_reason for c in result.choices] == ["tool_calls", "tool_calls"]
    assert all(c.tool_calls[0].json() == {"city": "Paris"} for c in result.choices)
    script = Script(ids(tiny_engine, "Hello! STOP and more"), then=eos(tiny_engine))
    result = llm.chat("x", n=2, thinking=False, stop=["STOP"],
                      extra_body={"logits_processor": [script]})  # fmt: skip
    assert [c.content.rstrip() for c in result.choices] == ["Hello!", "Hello!"]
    assert [c.finish_reason for c in result.choices] == ["stop", "stop"]


def test_stream_logprobs_reassemble_to_the_chat_result(llm, tiny_engine):
    def reply():
        text = f"{THOUGHT}\n</think>\n\n{ANSWER} And more words follow here."
        return {"logits_processor": [Script(ids(tiny_engine, text), then=eos(tiny_engine))]}

    whole = llm.chat("q", logprobs=True, top_logprobs=3, extra_body=reply())
    deltas = list(llm.stream("q", logprobs=True, top_logprobs=3, extra_body=reply()))
    assert all(not d.logprobs for d in deltas if d.reasoning)
    streamed = [t for d in deltas for t in (d.logprobs or ())]
    assert streamed == whole.logprobs and len(streamed) > 5
    # greedy, unforced: the same tokens and values whichever way they travel
    whole = llm.chat("x", thinking=False, max_tokens=6, logprobs=True, top_logprobs=5)
    stream = llm.stream("x", thinking=False, max_tokens=6, logprobs=True, top_logprobs=5)
    assert stream.result().logprobs == whole.logprobs


async def test_async_calls_report_the_same(llm):
    sync = llm.chat("x", thinking=False, max_tokens=5, logprobs=True, top_logprobs=2)
    result = await llm.achat("x", thinking=False, max_tokens=5, logprobs=True, top_logprobs=2)
    assert result.logprobs == sync.logprobs
    streamed = await llm.astream("x", thinking=False, max_tokens=5, logprobs=True,
                                 top_logprobs=2).aresult()  # fmt: skip
    assert streamed.logprobs == sync.logprobs
    many = await llm.achat("x", n=2, temperature=1.0, seed=3, max_tokens=3)
    assert [c.index for c in many.choices] == [0, 1]


class Rows:
    """Force row ``r`` of a batch to write ``texts[r]`` and then end its turn."""

    def __init__(self, engine, texts):
        self.scripts = [[*ids(engine, t), eos(engine)] for t in texts]
        self.start = None

    def __call__(self, input_ids, scores):
        if self.start is None:
            self.start = input_ids.shape[1]
        step = input_ids.shape[1] - self.start
        out = torch.full_like(scores, float("-inf"))
        for row, script in enumerate(self.scripts):
            out[row, script[min(step, len(script) - 1)]] = 0.0
        return out


ROWS = [
    f"{THOUGHT}\n</think>\n\n{ANSWER}",
    "short\n</think>\n\nBye.",
    "a longer thought, it goes on\n</think>\n\nHello! STOP and more",
]


@pytest.mark.parametrize("pad", ["special", "plain"])
def test_streamed_n_choices_interleave_and_match_chat(llm, tiny_engine, monkeypatch, pad):
    if pad == "plain":  # finished rows get padded with an ordinary token: never content
        monkeypatch.setattr(
            tiny_engine.model.generation_config, "pad_token_id", ids(tiny_engine, "x")[0]
        )

    def run(call):
        return call("q", n=3, stop=["STOP"], logprobs=True, top_logprobs=2,
                    extra_body={"logits_processor": [Rows(tiny_engine, ROWS)]})  # fmt: skip

    whole = run(llm.chat)
    assert [(c.reasoning, c.content) for c in whole.choices] == [
        (THOUGHT, ANSWER), ("short", "Bye."), ("a longer thought, it goes on", "Hello! "),
    ]  # fmt: skip
    deltas = list(run(llm.stream))
    assert {d.index for d in deltas} == {0, 1, 2}
    finals = [d for d in deltas if d.finish_reason]
    assert sorted(d.index for d in finals) == [0, 1, 2]
    assert sum(d.usage is not None for d in deltas) == 1
    for choice in whole.choices:
        mine = [d for d in deltas if d.index == choice.index]
        assert "".join(d.reasoning for d in mine) == choice.reasoning
        assert "".join(d.content for d in mine) == choice.content
        assert [t for d in mine for t in (d.logprobs or ())] == choice.logprobs
    streamed = run(llm.stream).result()
    assert [c.finish_reason for c in streamed.choices] == ["stop", "stop", "stop"]
    assert streamed.choices == whole.choices and streamed.usage == whole.usage
    lengths = [len(ids(tiny_engine, t)) + 1 for t in ROWS]
    lengths[2] = len(ids(tiny_engine, ROWS[2].split(" and")[0]))  # stopped at STOP
    assert whole.usage.completion_tokens == sum(lengths)


def test_streamed_n_sampled_matches_chat_sync_and_async(llm, tiny_engine):
    options = {"n": 2, "temperature": 1.0, "seed": 9, "max_tokens": 6, "thinking": False,
               "logprobs": True}  # fmt: skip
    whole = llm.chat("x", **options)
    assert llm.stream("x", **options).result().choices == whole.choices

    async def astream():
        return await llm.astream("x", **options).aresult()

    streamed = asyncio.run(astream())
    assert streamed.choices == whole.choices and streamed.usage == whole.usage


def test_closing_a_streamed_batch_stops_generation(llm, tiny_engine):
    ban = Ban(sorted(tiny_engine.eos_token_ids))
    stream = llm.stream("x", n=3, max_tokens=3000, temperature=1.0, seed=0,
                        extra_body={"logits_processor": [ban]})  # fmt: skip
    for _, _delta in zip(range(3), stream, strict=False):
        pass
    stream.close()
    assert ban.thread is not None and not ban.thread.is_alive()
    assert ban.calls < 3000


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"n": 0}, "n"),
        ({"n": 65}, "n"),
        ({"top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": "yes"}, "logprobs"),
    ],
)
def test_bad_values_are_refused(llm, generate_calls, options, word):
    with pytest.raises(InvalidRequest, match=word):
        llm.chat("x", **options)
    assert generate_calls == []


def test_token_bytes_rebuild_the_text(tiny_engine):
    """Each token's bytes are its own (byte-level vocabulary): joined, they are the text's UTF-8."""
    from hookwire.plugins.providers._local_logprobs import TokenTable

    table = TokenTable(tiny_engine.tokenizer)
    assert table.byte_level
    text = "Hello! 你好 </think>\n\nça va? 🙂"
    pieces = [table(i) for i in ids(tiny_engine, text)]
    assert b"".join(bytes(raw) for _, raw in pieces) == text.encode("utf-8")
    im_end = table(eos(tiny_engine))
    assert im_end == ("<|im_end|>", tuple(b"<|im_end|>"))


def test_content_tracker_follows_the_split_rule(tiny_engine):
    from hookwire.plugins.providers._local_logprobs import ContentTracker

    start, end = tiny_engine.think_start_id, tiny_engine.think_end_id
    special = [eos(tiny_engine)]

    def flags(tokens, *, reasoning_open, splits=True):
        tracker = ContentTracker(
            splits=splits,
            reasoning_open=reasoning_open,
            think_start_id=start,
            think_end_id=end,
            special=special,
        )
        return [tracker.feed(t, x) for t, x in tokens]

    out = [(start, "<think>"), (5, "a"), (end, "</think>"), (6, "\n"), (6, "\n"), (7, "b"),
           (6, "\n"), (eos(tiny_engine), "")]  # fmt: skip
    assert flags(out, reasoning_open=False) == [False, False, False, False, False, True, True,
                                                False]  # fmt: skip
    before = [(7, "b"), (start, "<think>"), (5, "a")]
    assert flags(before, reasoning_open=False) == [True, False, False]  # text before <think>
    assert flags(out[1:], reasoning_open=True) == flags(out, reasoning_open=False)[1:]
    assert flags(before, reasoning_open=True, splits=False) == [True, True, True]
