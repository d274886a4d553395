"""The LLM contract's scenarios, run against the transformers provider and vLLM replicas.

The scenario bodies are the ones in ``test_llm_contract.py`` (imported, so one body proves
every provider behaves the same); this module only supplies its own ``case`` fixture:

- ``transformers``: the tiny local Qwen3-style model through ``hookwire.LLM("transformers", ...)``.
  Its weights are random, so a :class:`ScriptedReply` logits processor makes it answer like a
  thinking model: reasoning, ``</think>``, a content sentence, end of turn. The script is
  chosen from the rendered prompt (thinking on or off), and every other step runs for real:
  chat template, ``generate``, the ``</think>`` split, streaming, stop and length handling.
- ``vllm-replicas``: ``hookwire.LLM("vllm", replicas=[...])`` over two live vllm-dialect mock
servers.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire.llm import LLM
from hookwire.llm.types import TokenLogprob
from tests.contract.test_llm_contract import (
    LLMCase,
    test_async_stream_matches_sync,
    test_chat_returns_content_finish_and_usage,
    test_conversation_carries_history,
    test_max_tokens_stops_with_length,
    test_stream_reassembles_to_the_chat_reply,
    test_thinking_on_and_off,
    test_tool_call_round_trip,
)

__all__ = [
    "test_async_stream_matches_sync",
    "test_chat_returns_content_finish_and_usage",
    "test_conversation_carries_history",
    "test_max_tokens_stops_with_length",
    "test_stream_reassembles_to_the_chat_reply",
    "test_thinking_on_and_off",
    "test_tool_call_round_trip",
]

_HAS_LOCAL = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))

REASONING = "hmm, let me think about it."
CONTENT = "Hello! I am a tiny language model."


class ScriptedReply:
    """A stateless logits processor: continue a thinking or a plain script, whichever fits.

    At each step it finds the longest script prefix that ends the sequence so far and forces
    the script's next token; with none, it starts the thinking script when the prompt left
    ``<think>`` open and the plain one otherwise. Stateless, so one instance serves every
    call and thread of a provider.
    """

    def __init__(self, tokenizer: Any) -> None:
        encode = tokenizer.encode
        eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.plain = [*encode(CONTENT, add_special_tokens=False), eos]
        self.thinking = [*encode(f"{REASONING}\n</think>\n\n", add_special_tokens=False),
                         *self.plain]  # fmt: skip
        self.opened = encode("<think>\n", add_special_tokens=False)

    def _next(self, seq: list[int]) -> int:
        best: tuple[int, int] | None = None
        for script in (self.thinking, self.plain):
            for k in range(min(len(seq), len(script) - 1), 0, -1):
                if seq[-k:] == script[:k]:
                    if best is None or k > best[0]:
                        best = (k, script[k])
                    break
        if best is not None:
            return best[1]
        return self.thinking[0] if seq[-len(self.opened):] == self.opened else self.plain[0]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        forced = self._next(input_ids[0].tolist())
        out = torch.full_like(scores, float("-inf"))
        out[:, forced] = 0.0
        return out


@pytest.fixture
def transformers_case(tiny_engine: Any) -> Iterator[LLMCase]:
    llm = LLM("transformers", engine=tiny_engine, model="tiny-qwen3",
              logits_processor=[ScriptedReply(tiny_engine.tokenizer)])  # fmt: skip
    yield LLMCase(llm, echo=False, tools=False)
    llm.close()


@pytest.fixture
def vllm_replicas_case(mock_server_factory: Any) -> Iterator[LLMCase]:
    servers = [mock_server_factory(dialect="vllm", models=(f"contract-{n}",)) for n in "ab"]
    llm = LLM("vllm", replicas=[s.openai_base_url for s in servers], model="Qwen/Qwen3-4B")
    yield LLMCase(llm)
    llm.close()
    asyncio.run(llm.aclose())
    assert all(s.journal.count("/v1/chat/completions") for s in servers)  # both took traffic


CASES = [
    pytest.param(
        "transformers_case",
        id="transformers",
        marks=pytest.mark.skipif(not _HAS_LOCAL, reason="torch/transformers not installed"),
    ),
    pytest.param("vllm_replicas_case", id="vllm-replicas"),
]


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> LLMCase:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_stop_cuts_the_reply(case: LLMCase) -> None:
    """Not in the shared file: ``stop`` ends the content before the stop string."""
    whole = case.llm.chat("where to stop", thinking=False)
    word = whole.content.split()[1]
    cut = case.llm.chat("where to stop", thinking=False, stop=[word])
    assert cut.finish_reason == "stop"
    assert word not in cut.content and whole.content.startswith(cut.content.rstrip())


@pytest.mark.skipif(not _HAS_LOCAL, reason="torch/transformers not installed")
def test_every_choice_with_typed_logprobs(transformers_case: LLMCase) -> None:
    """Not in the shared file (it has no n/logprobs scenario yet): ``n`` choices, each with
    typed logprobs of its content tokens, the same streamed as not; usage counts them all."""
    options: dict[str, Any] = {"thinking": False, "n": 2, "logprobs": True, "top_logprobs": 2}
    one = transformers_case.llm.chat("hello", thinking=False)
    result = transformers_case.llm.chat("hello", **options)
    assert [c.index for c in result.choices] == [0, 1]
    for choice in result.choices:
        assert (choice.content, choice.finish_reason) == (CONTENT, "stop")
        assert choice.logprobs is not None
        assert all(isinstance(t, TokenLogprob) for t in choice.logprobs)
        assert "".join(t.token for t in choice.logprobs) == CONTENT
        assert all(len(t.top_logprobs) == 2 for t in choice.logprobs)
    assert result.usage is not None and one.usage is not None
    assert result.usage.completion_tokens == 2 * one.usage.completion_tokens
    streamed = transformers_case.llm.stream("hello", **options).result()
    assert streamed.choices == result.choices and streamed.usage == result.usage
