"""Every choice and logprobs, on every provider dialect of the contract (mock servers)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.contract import test_llm_contract as contract
from tests.contract.test_llm_contract import LLMCase

case, openai_case, vllm_case, siliconflow_case = (
    contract.case, contract.openai_case, contract.vllm_case, contract.siliconflow_case
)


def test_n_choices_with_logprobs(case: LLMCase) -> None:
    result = case.llm.chat("pick a word", n=3, logprobs=True, top_logprobs=2, thinking=False)
    assert [c.index for c in result.choices] == [0, 1, 2]
    assert len({c.content for c in result.choices}) == 3 and result.content == (
        result.choices[0].content)
    for choice in result.choices:
        assert choice.finish_reason == "stop" and choice.logprobs
        for token in choice.logprobs:
            assert token.logprob <= 0 and len(token.top_logprobs) == 2
            assert token.top_logprobs[0].logprob >= token.top_logprobs[1].logprob
        # the logprobs spell the choice's content
        assert "".join(t.token for t in choice.logprobs) == choice.content


def test_streamed_choices_match_the_whole_reply(case: LLMCase) -> None:
    whole = case.llm.chat("pick a word", n=2, logprobs=True, thinking=False)
    stream = case.llm.stream("pick a word", n=2, logprobs=True, thinking=False)
    texts: dict[int, str] = {}
    for delta in stream:
        texts[delta.index] = texts.get(delta.index, "") + delta.content
    result = stream.result()
    assert texts == {c.index: c.content for c in whole.choices}
    assert [[t.token for t in c.logprobs or []] for c in result.choices] == [
        [t.token for t in c.logprobs or []] for c in whole.choices]

    async def run() -> Any:
        try:
            return await case.llm.astream("pick a word", n=2, thinking=False).aresult()
        finally:
            await case.llm.aclose()

    assert [c.content for c in asyncio.run(run()).choices] == [c.content for c in whole.choices]
