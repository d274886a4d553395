"""The SDK and the official ``openai`` client read the same answers from the mock.

For each issue-11 feature the same request goes through both clients against one live mock
(the openai client 3.x runs on httpx2, so only a live server reaches it) and the parsed
results must agree field by field: every choice, logprobs, parallel tool calls, streamed
choices reassembled by index, structured output and embeddings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire.llm import LLM

openai = pytest.importorskip("openai")
KEY = "sk-parity-fake"  # pragma: allowlist secret
MODEL = "mock-model"


@pytest.fixture
def pair(mock_server_factory: Any) -> Iterator[tuple[LLM, Any]]:
    server = mock_server_factory(dialect="openai", models=(MODEL, "text-embedding-3-small"))
    llm = LLM("openai-compatible", base_url=server.openai_base_url, api_key=KEY, model=MODEL)
    client = openai.OpenAI(base_url=server.openai_base_url, api_key=KEY)
    yield llm, client
    llm.close()
    client.close()


def test_every_choice_and_its_logprobs(pair: tuple[LLM, Any]) -> None:
    llm, client = pair
    ours = llm.chat("name three colours", n=3, logprobs=True, top_logprobs=2)
    theirs = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "name three colours"}], n=3,
        logprobs=True, top_logprobs=2,
    )
    assert [c.content for c in ours.choices] == [c.message.content for c in theirs.choices]
    assert [c.finish_reason for c in ours.choices] == [c.finish_reason for c in theirs.choices]
    assert len({c.content for c in ours.choices}) == 3  # the mock's choices differ
    for mine, other in zip(ours.choices, theirs.choices, strict=True):
        assert mine.logprobs is not None and other.logprobs is not None
        assert [(t.token, t.logprob) for t in mine.logprobs] == [
            (t.token, t.logprob) for t in other.logprobs.content]
        assert [[(a.token, a.logprob) for a in t.top_logprobs] for t in mine.logprobs] == [
            [(a.token, a.logprob) for a in t.top_logprobs] for t in other.logprobs.content]
    assert ours.usage is not None and ours.usage.completion_tokens == (
        theirs.usage.completion_tokens)


def test_streamed_choices_reassemble_alike(pair: tuple[LLM, Any]) -> None:
    llm, client = pair
    stream = llm.stream("two words", n=2, logprobs=True)
    mine: dict[int, str] = {}
    for delta in stream:
        mine[delta.index] = mine.get(delta.index, "") + delta.content
    theirs: dict[int, str] = {}
    lps: dict[int, list[str]] = {}
    for chunk in client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "two words"}], n=2, stream=True,
        logprobs=True,
    ):
        for choice in chunk.choices:
            theirs[choice.index] = theirs.get(choice.index, "") + (choice.delta.content or "")
            if choice.logprobs and choice.logprobs.content:
                lps.setdefault(choice.index, []).extend(t.token for t in choice.logprobs.content)
    assert mine == theirs
    result = stream.result()
    assert {c.index: [t.token for t in c.logprobs or []] for c in result.choices} == lps


def test_parallel_tool_calls(pair: tuple[LLM, Any]) -> None:
    llm, client = pair
    tools = [{"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}
        for name in ("search", "lookup")]
    ours = llm.chat("please search and lookup", tools=tools)
    theirs = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "please search and lookup"}],
        tools=tools,
    ).choices[0].message.tool_calls
    assert [(c.id, c.name, json.loads(c.arguments)) for c in ours.tool_calls] == [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in theirs]
    assert len(ours.tool_calls) == 2


def test_structured_output_and_embeddings(pair: tuple[LLM, Any]) -> None:
    llm, client = pair
    schema = {"type": "object", "properties": {"city": {"type": "string"},
              "pop": {"type": "integer"}}, "required": ["city", "pop"],
              "additionalProperties": False}
    ours = llm.chat("a city", response_format=schema)
    theirs = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "a city"}],
        response_format={"type": "json_schema", "json_schema": {"name": "city",
                         "schema": schema, "strict": True}},
    )
    assert ours.parsed == json.loads(theirs.choices[0].message.content)
    vectors = llm.embed(["a", "b"], model="text-embedding-3-small", dimensions=8)
    reply = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"],
                                     dimensions=8)
    assert vectors.vectors == [item.embedding for item in reply.data]
