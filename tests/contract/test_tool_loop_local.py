"""The tool loop on the local transformers provider (the tiny model, its real chat template).

The random tiny model is steered by a stateless logits processor: while the rendered prompt holds
no ``<tool_response>``, it writes Qwen's ``<tool_call>{...}</tool_call>`` block naming the tool;
once a tool result is in the prompt, it writes the answer. Everything between is real: the chat
template renders the tools and the tool message, ``generate`` runs, the provider parses the
block into a ``ToolCall``, and ``LLM`` runs the function and sends its result back.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from typing import Any

import pytest

from hookwire.llm import LLM

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "transformers")),
    reason="torch/transformers not installed",
)

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
ANSWER = "It is sunny."


class ToolScript:
    """Force the call before any tool result, the answer after one."""

    def __init__(self, tokenizer: Any) -> None:
        encode = tokenizer.encode
        eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.call = [*encode(CALL, add_special_tokens=False), eos]
        self.answer = [*encode(ANSWER, add_special_tokens=False), eos]
        self.marker = encode("<tool_response>", add_special_tokens=False)
        self.start = encode("<|im_start|>assistant\n", add_special_tokens=False)
        # thinking=False: the template closes an empty think block after the header
        self.empty_think = encode("<think>\n\n</think>\n\n", add_special_tokens=False)

    def _generated(self, seq: list[int]) -> tuple[list[int], bool]:
        """The tokens after the last assistant header, and whether a tool result came before."""
        n = len(self.start)
        last = max(i for i in range(len(seq) - n + 1) if seq[i:i + n] == self.start)
        prompt, after = seq[:last], seq[last + n:]
        if after[:len(self.empty_think)] == self.empty_think:
            after = after[len(self.empty_think):]
        m = len(self.marker)
        answered = any(prompt[i:i + m] == self.marker for i in range(len(prompt) - m + 1))
        return after, answered

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        out = torch.full_like(scores, float("-inf"))
        for row, ids in enumerate(input_ids.tolist()):
            after, answered = self._generated(ids)
            script = self.answer if answered else self.call
            out[row, script[min(len(after), len(script) - 1)]] = 0.0
        return out


@pytest.fixture
def local(tiny_engine: Any) -> Any:
    llm = LLM("transformers", engine=tiny_engine, model="tiny-qwen3",
              logits_processor=[ToolScript(tiny_engine.tokenizer)])  # fmt: skip
    yield llm
    llm.close()


def get_weather(city: str) -> dict[str, Any]:
    """The weather of a city.

    Args:
        city: The city's name.
    """
    return {"city": city, "sky": "sunny"}


def test_the_local_model_runs_the_tool_loop(local: LLM) -> None:
    result = local.chat("What is the weather in Paris?", tools=[get_weather], thinking=False,
                        max_tokens=64)
    (run,) = result.tool_runs
    assert run.call.name == "get_weather" and run.arguments == {"city": "Paris"}
    assert json.loads(run.output) == {"city": "Paris", "sky": "sunny"}
    assert result.content == ANSWER and not result.tool_calls
    assert [m.role for m in result.messages] == ["assistant", "tool", "assistant"]


def test_the_local_tool_loop_streams_and_runs_async(local: LLM) -> None:
    stream = local.stream("Weather?", tools=[get_weather], thinking=False, max_tokens=64)
    deltas = list(stream)
    calls = [t for d in deltas for t in d.tool_calls]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", '{"city": "Paris"}')]
    # the <tool_call> block became a tool call, not content; the answer is the only text
    assert "".join(d.content for d in deltas) == ANSWER
    assert stream.result().tool_runs[0].arguments == {"city": "Paris"}

    async def run() -> Any:
        return await local.achat("Weather?", tools=[get_weather], thinking=False, max_tokens=64)

    assert asyncio.run(run()).content == ANSWER


def test_the_cutter_takes_blocks_split_anywhere() -> None:
    from hookwire.llm import ChatDelta
    from hookwire.plugins.providers.transformers_provider import ToolCallCutter

    text = f"Let me check. {CALL}\n{CALL}<tool_call>not json</tool_call> done"
    for size in (1, 3, 7, len(text)):
        cutter = ToolCallCutter()
        out = []
        for i in range(0, len(text), size):
            out += cutter.feed(ChatDelta(text[i:i + size]))
        out += cutter.finish(ChatDelta(finish_reason="stop"))
        content = "".join(d.content for d in out)
        calls = [t for d in out for t in d.tool_calls]
        assert content == "Let me check. <tool_call>not json</tool_call> done"
        assert [c.index for c in calls] == [0, 1] and {c.name for c in calls} == {"get_weather"}
        assert out[-1].finish_reason == "tool_calls"
