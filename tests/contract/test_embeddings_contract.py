"""``llm.embed`` / ``aembed`` on every HTTP provider, against the live mock, with the official
``openai`` client as the reference: the same inputs must give the same vectors.

The mock serves OpenAI's own embedding model id (``text-embedding-3-small``) when started with
``models=``; its vectors are a deterministic hash of the text, so any mix-up of order, batch or
dimensions shows as a different vector.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire.errors import FeatureNotSupported, InvalidRequest, NotFoundError
from hookwire.llm import LLM, EmbeddingResult, Provider

openai = pytest.importorskip("openai")

EMBED = "text-embedding-3-small"
KEY = "sk-embed-fake"
TEXTS = ["the quick brown fox", "你好，世界", "", "a much longer text " * 20, "z"]


def _server(factory: Any, dialect: str) -> Any:
    return factory(dialect=dialect, models=(EMBED,))


def _llm(name: str, factory: Any) -> LLM:
    if name == "mock":
        return LLM("mock", serve_models=[EMBED])
    dialect = {"vllm": "vllm", "siliconflow": "siliconflow"}.get(name, "openai")
    url = _server(factory, dialect).openai_base_url
    key = {} if name in ("vllm", "openai-compatible") else {"api_key": KEY}
    return LLM(name, base_url=url, **key)


PROVIDERS = ["openai", "siliconflow", "deepseek", "dashscope", "openai-compatible", "vllm", "mock"]


@pytest.fixture(params=PROVIDERS)
def llm(request: pytest.FixtureRequest, mock_server_factory: Any) -> Iterator[LLM]:
    made = _llm(request.param, mock_server_factory)
    yield made
    made.close()


def _official(llm: LLM, texts: Any, **kwargs: Any) -> list[list[float]]:
    base_url = llm.provider.base_url  # type: ignore[attr-defined]
    with openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        reply = client.embeddings.create(model=EMBED, input=texts, **kwargs)
    return [item.embedding for item in reply.data]


def test_embed_gives_the_official_clients_vectors_in_order(llm: LLM) -> None:
    result = llm.embed(TEXTS, model=EMBED)
    assert isinstance(result, EmbeddingResult)
    assert result.vectors == _official(llm, TEXTS)
    assert len(result) == len(TEXTS) and list(result) == result.vectors
    assert result[1] == result.vectors[1]
    assert result.model == EMBED and result.provider == llm.name
    assert result.usage is not None and result.usage.prompt_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens
    for vector in result:  # normalised, as OpenAI's are
        assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-5)


def test_a_single_string_gives_one_vector(llm: LLM) -> None:
    result = llm.embed("just one", model=EMBED)
    assert len(result) == 1
    assert result.vectors == _official(llm, "just one")


def test_dimensions_are_sent_and_honoured(llm: LLM) -> None:
    result = llm.embed(["short", "vectors"], model=EMBED, dimensions=12)
    assert [len(v) for v in result] == [12, 12]
    assert result.vectors == _official(llm, ["short", "vectors"], dimensions=12)


def test_async_embed_matches_sync(llm: LLM) -> None:
    async def main() -> EmbeddingResult:
        try:
            return await llm.aembed(TEXTS, model=EMBED, batch_size=2)
        finally:
            await llm.aclose()

    assert asyncio.run(main()).vectors == llm.embed(TEXTS, model=EMBED).vectors


def test_long_lists_go_in_batches_and_come_back_in_order(mock_server_factory: Any) -> None:
    server = _server(mock_server_factory, "openai")
    texts = [f"text number {i}" for i in range(23)]
    with LLM("openai", base_url=server.openai_base_url, api_key=KEY) as llm:
        whole = llm.embed(texts, model=EMBED, batch_size=100)
        before = server.journal.count("/v1/embeddings")
        batched = llm.embed(texts, model=EMBED, batch_size=5)
        sent = server.journal.entries("/v1/embeddings")[before:]
    assert len(sent) == 5  # 5 + 5 + 5 + 5 + 3
    assert sorted(len(e.body["input"]) for e in sent) == [3, 5, 5, 5, 5]
    assert batched.vectors == whole.vectors
    assert batched.usage == whole.usage and len(batched.raw) == 5


def test_async_batches_come_back_in_order(mock_server_factory: Any) -> None:
    server = _server(mock_server_factory, "vllm")
    texts = [f"async text {i}" for i in range(17)]

    async def main() -> tuple[EmbeddingResult, EmbeddingResult]:
        async with LLM("vllm", base_url=server.openai_base_url) as llm:
            return (
                await llm.aembed(texts, model=EMBED, batch_size=3),
                await llm.aembed(texts, model=EMBED),
            )

    batched, whole = asyncio.run(main())
    assert batched.vectors == whole.vectors and len(batched.raw) == 6


@pytest.mark.parametrize(
    ("texts", "options", "names"),
    [
        ([], {}, "texts"),
        ([1, "a"], {}, "texts[0]"),
        (["a", None], {}, "texts[1]"),
        (b"bytes", {}, "texts"),
        (["a"], {"batch_size": 0}, "batch_size"),
        (["a"], {"dimensions": -3}, "dimensions"),
        (["a"], {"dimensions": True}, "dimensions"),
    ],
)
def test_bad_input_is_refused_before_sending(
    mock_server_factory: Any, texts: Any, options: dict[str, Any], names: str
) -> None:
    server = _server(mock_server_factory, "openai")
    before = server.journal.count("/v1/embeddings")
    llm = LLM("openai", base_url=server.openai_base_url, api_key=KEY)
    with llm, pytest.raises(InvalidRequest, match="^" + re.escape(names)):
        llm.embed(texts, model=EMBED, **options)
    assert server.journal.count("/v1/embeddings") == before


def test_a_model_the_server_lacks_is_its_typed_error(mock_server_factory: Any) -> None:
    server = _server(mock_server_factory, "openai")
    llm = LLM("openai", base_url=server.openai_base_url, api_key=KEY)
    with llm, pytest.raises(NotFoundError, match="no-such-embedder"):
        llm.embed("x", model="no-such-embedder")


def test_a_provider_without_embeddings_says_so() -> None:
    class ChatOnly(Provider):
        name = "chat-only"

    llm = LLM(ChatOnly(model="m"))
    with pytest.raises(FeatureNotSupported, match="'chat-only' cannot make embeddings") as info:
        llm.embed("x")
    assert info.value.feature == "embeddings"
    with pytest.raises(FeatureNotSupported):
        asyncio.run(llm.aembed(["x"]))
