"""Embeddings and exact token counts from the tiny local Qwen3 model (real transformers code)."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

import hookwire
from hookwire.errors import InvalidRequest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from hookwire.plugins.providers import _local_embed  # noqa: E402

TEXTS = ["Hello! I am a tiny language model.", "你好", "The quick brown fox jumps over it", "a"]


@pytest.fixture
def llm(tiny_engine: Any) -> Any:
    with hookwire.LLM("transformers", engine=tiny_engine, model="tiny-qwen3") as made:
        yield made


def _hidden(engine: Any, text: str) -> Any:
    """The last hidden states of ``text`` alone, computed here without the provider."""
    ids = engine.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        return engine.model(**ids, output_hidden_states=True).hidden_states[-1][0]


def test_a_decoder_only_model_pools_its_last_token(llm: Any, tiny_engine: Any) -> None:
    result = llm.embed(TEXTS, batch_size=3)  # batches of 3 and 1, padded on the right
    assert len(result) == len(TEXTS) and result.model == "tiny-qwen3"
    width = tiny_engine.model.config.hidden_size
    for text, vector in zip(TEXTS, result, strict=True):
        assert len(vector) == width
        expected = torch.nn.functional.normalize(_hidden(tiny_engine, text)[-1].float(), dim=0)
        assert torch.allclose(torch.tensor(vector), expected, atol=1e-4), text
    tokens = sum(len(tiny_engine.tokenizer(t)["input_ids"]) for t in TEXTS)
    assert result.usage.prompt_tokens == result.usage.total_tokens == tokens


def test_vectors_do_not_depend_on_the_batch(llm: Any) -> None:
    together = llm.embed(TEXTS).vectors
    alone = [llm.embed(t).vectors[0] for t in TEXTS]
    for a, b in zip(together, alone, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4


def test_dimensions_shorten_and_renormalise(llm: Any, tiny_engine: Any) -> None:
    full = llm.embed("Hello").vectors[0]
    short = llm.embed("Hello", dimensions=16).vectors[0]
    assert len(short) == 16 and math.isclose(sum(v * v for v in short), 1.0, rel_tol=1e-5)
    norm = math.sqrt(sum(v * v for v in full[:16]))
    assert all(math.isclose(s, f / norm, abs_tol=1e-5) for s, f in zip(short, full, strict=False))
    with pytest.raises(InvalidRequest, match="dimensions=65"):
        llm.embed("Hello", dimensions=tiny_engine.model.config.hidden_size + 1)


def test_async_embed_matches_sync(llm: Any) -> None:
    assert asyncio.run(llm.aembed(TEXTS, batch_size=2)).vectors == llm.embed(TEXTS).vectors


def test_a_sentence_transformers_pooling_config_wins(
    tiny_model_dir: Path, tiny_engine: Any, tmp_path: Path
) -> None:
    model_dir = tmp_path / "st-model"
    shutil.copytree(tiny_model_dir, model_dir)
    modules = [
        {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (model_dir / "modules.json").write_text(json.dumps(modules))
    (model_dir / "1_Pooling").mkdir()
    (model_dir / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_mean_tokens": True, "pooling_mode_lasttoken": False})
    )
    assert _local_embed.pooling_of(tiny_engine.model, model_dir) == "mean"
    assert _local_embed.pooling_of(tiny_engine.model, tiny_model_dir) == "last"
    with hookwire.LLM("transformers", model=str(model_dir), device="cpu") as llm:
        vector = llm.embed("Hello there").vectors[0]
    mean = _hidden(tiny_engine, "Hello there").float().mean(dim=0)
    expected = torch.nn.functional.normalize(mean, dim=0)
    assert torch.allclose(torch.tensor(vector), expected, atol=1e-4)


def test_pooling_can_be_chosen(tiny_engine: Any) -> None:
    with hookwire.LLM("transformers", engine=tiny_engine, model="t", pooling="cls") as llm:
        vector = llm.embed("Hello there").vectors[0]
    first = torch.nn.functional.normalize(_hidden(tiny_engine, "Hello there")[0].float(), dim=0)
    assert torch.allclose(torch.tensor(vector), first, atol=1e-4)


def test_another_model_name_is_refused(llm: Any) -> None:
    with pytest.raises(InvalidRequest, match="serves 'tiny-qwen3' only"):
        llm.embed("x", model="text-embedding-3-small")


def test_count_tokens_is_exact_and_matches_generate(llm: Any) -> None:
    for thinking in (None, False):
        prompt = {"system": "Answer briefly.", "thinking": thinking}
        counted = llm.count_tokens("你好，请介绍一下自己", **prompt)
        reply = llm.chat("你好，请介绍一下自己", max_tokens=2, **prompt)
        assert counted.exact is True and counted.max_context == 4096
        assert counted.count == reply.usage.prompt_tokens
    assert asyncio.run(llm.acount_tokens("hi")) == llm.count_tokens("hi")


def test_max_context_refuses_locally_before_generating(llm: Any, tiny_engine: Any) -> None:
    size = llm.count_tokens("hi").count
    with hookwire.LLM("transformers", engine=tiny_engine, model="t", max_context=size + 3) as small:
        assert small.chat("hi", max_tokens=3).usage.prompt_tokens == size  # fits: generated
        with pytest.raises(hookwire.ContextLengthExceeded, match=f"takes {size} tokens"):
            small.chat("hi", max_tokens=4)
