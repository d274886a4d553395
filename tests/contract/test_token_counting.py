"""``llm.count_tokens`` (exact through vLLM's and the mock's ``/tokenize``, an estimate where the
API has no tokenizer) and ``max_context``, which refuses a prompt before anything is sent."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire.errors import ContextLengthExceeded, InvalidRequest
from hookwire.llm import LLM, TokenCount
from hookwire.llm.types import Message, estimate_tokens

KEY = "sk-count-fake"
MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "你好 there"},
]


def _tokenize(server: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The server's own answer, asked with the standard library (no hookwire in the way)."""
    request = urllib.request.Request(
        server.url.rstrip("/") + "/tokenize", json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())  # type: ignore[no-any-return]


@pytest.fixture(params=["vllm", "mock"])
def exact(request: pytest.FixtureRequest, mock_server_factory: Any) -> Iterator[tuple[LLM, Any]]:
    server = mock_server_factory(dialect="vllm")
    name = request.param
    model = "Qwen/Qwen3-4B" if name == "vllm" else "mock-model"
    llm = LLM(name, base_url=server.openai_base_url, model=model)
    yield llm, server
    llm.close()


def test_exact_counts_are_the_servers_tokenize_of_the_chat_template(exact: tuple[LLM, Any]) -> None:
    llm, server = exact
    before = server.journal.count("/tokenize")
    counted = llm.count_tokens("你好 there", system="Answer briefly.")
    (sent,) = server.journal.entries("/tokenize")[before:]
    assert sent.body["messages"] == MESSAGES and sent.body["add_generation_prompt"] is True
    truth = _tokenize(server, {"model": llm.model, "messages": MESSAGES})
    assert counted == TokenCount(truth["count"], True, llm.model or "", truth["max_model_len"])
    # the template's markers count: more than the text alone
    assert counted.count > _tokenize(server, {"prompt": "Answer briefly.你好 there"})["count"]


def test_async_count_matches_sync(exact: tuple[LLM, Any]) -> None:
    llm, _ = exact

    async def main() -> TokenCount:
        try:
            return await llm.acount_tokens(MESSAGES)
        finally:
            await llm.aclose()

    assert asyncio.run(main()) == llm.count_tokens(MESSAGES)


def test_without_a_tokenizer_endpoint_the_count_is_a_marked_estimate(
    mock_server_factory: Any,
) -> None:
    server = mock_server_factory(dialect="openai")
    before = server.journal.count()
    with LLM("openai", base_url=server.openai_base_url, api_key=KEY, model="mock-model") as llm:
        counted = llm.count_tokens("x" * 41, system="abcd")
        assert asyncio.run(llm.acount_tokens("x" * 41, system="abcd")) == counted
    assert counted.exact is False
    assert counted.count == 11 + 1 + 2 * 4  # ceil(45 / 4) + 4 a message
    assert counted.count == estimate_tokens([Message("system", "abcd"), Message("user", "x" * 41)])
    assert server.journal.count() == before  # nothing was sent


def test_count_tokens_refuses_bad_options(exact: tuple[LLM, Any]) -> None:
    llm, _ = exact
    with pytest.raises(InvalidRequest, match=r"count_tokens.*'temprature'"):
        llm.count_tokens("hi", temprature=1)  # type: ignore[call-arg]
    with pytest.raises(InvalidRequest, match="empty"):
        llm.count_tokens([])


# -- max_context ---------------------------------------------------------------------------
@pytest.fixture
def vllm_server(mock_server_factory: Any) -> Any:
    return mock_server_factory(dialect="vllm")


def _limited(server: Any, limit: int) -> LLM:
    return LLM("vllm", base_url=server.openai_base_url, model="Qwen/Qwen3-4B", max_context=limit)


def test_a_prompt_that_cannot_fit_is_refused_before_sending(vllm_server: Any) -> None:
    size = _tokenize(vllm_server, {"messages": [{"role": "user", "content": "hello"}]})["count"]
    before = vllm_server.journal.count("/v1/chat/completions")
    with _limited(vllm_server, size + 9) as llm:
        assert llm.chat("hello", max_tokens=9).content  # exactly fits: sent
        with pytest.raises(ContextLengthExceeded) as info:
            llm.chat("hello", max_tokens=10)
        with pytest.raises(ContextLengthExceeded):
            llm.stream("hello", max_tokens=10)
    error = info.value
    assert isinstance(error, InvalidRequest)
    assert (error.tokens, error.reserved, error.exact) == (size, 10, True)
    assert error.max_context == size + 9
    assert f"{size} tokens + max_tokens=10" in str(error)
    assert f"max_context={size + 9}" in str(error)
    assert vllm_server.journal.count("/v1/chat/completions") == before + 1


def test_async_faces_check_too(vllm_server: Any) -> None:
    async def main() -> None:
        async with _limited(vllm_server, 10) as llm:
            with pytest.raises(ContextLengthExceeded):
                await llm.achat("hello " * 20)
            stream = llm.astream("hello " * 20)
            with pytest.raises(ContextLengthExceeded):
                async for _ in stream:
                    pass

    before = vllm_server.journal.count("/v1/chat/completions")
    asyncio.run(main())
    assert vllm_server.journal.count("/v1/chat/completions") == before


def test_an_estimate_says_so(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="openai")
    llm = LLM("openai-compatible", base_url=server.openai_base_url, model="mock-model",
              max_context=50)  # fmt: skip
    with llm, pytest.raises(ContextLengthExceeded, match="takes about 104 tokens") as info:
        llm.chat("x" * 400)
    assert info.value.exact is False


def test_async_stream_that_fits_streams(vllm_server: Any) -> None:
    async def main() -> str:
        async with _limited(vllm_server, 4096) as llm:
            return (await llm.astream("hello").aresult()).content

    assert asyncio.run(main())


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8192", True])
def test_max_context_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(InvalidRequest, match="max_context"):
        LLM("mock", max_context=bad)


def test_a_server_without_tokenize_gets_the_estimate(vllm_server: Any) -> None:
    from hookwire.llm import OpenAICompatibleProvider

    class NoTokenizer(OpenAICompatibleProvider):
        tokenize_path = "/no-such-tokenize"  # what a proxy in front of vLLM may answer: 404

    provider = NoTokenizer(base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B")
    with LLM(provider) as llm:
        counted = llm.count_tokens("hello there")
    assert counted == TokenCount(estimate_tokens([Message("user", "hello there")]), False,
                                 "Qwen/Qwen3-4B")  # fmt: skip


def test_an_unknown_model_is_not_hidden_behind_an_estimate(vllm_server: Any) -> None:
    from hookwire.errors import NotFoundError

    llm = LLM("vllm", base_url=vllm_server.openai_base_url, model="no-such-model")
    with llm, pytest.raises(NotFoundError, match="no-such-model"):
        llm.count_tokens("hello")


def test_tools_and_the_thinking_switch_reach_the_template(vllm_server: Any) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    before = vllm_server.journal.count("/tokenize")
    with LLM("vllm", base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B") as llm:
        llm.count_tokens("hello", tools=[tool], thinking=False)
    (sent,) = vllm_server.journal.entries("/tokenize")[before:]
    assert sent.body["tools"] == [tool]
    assert sent.body["chat_template_kwargs"] == {"enable_thinking": False}
