"""The tiny Qwen3-style model builder: loads back offline, behaves like Qwen3 where it matters."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from hookwire.plugins.providers.tiny_model import build_tiny_model

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True, dtype="auto")


def test_it_is_small_and_qwen3_shaped(tiny_model_dir, model, tokenizer):
    size = sum(f.stat().st_size for f in tiny_model_dir.iterdir())
    assert 100_000 < size < 1_000_000
    assert model.config.model_type == "qwen3"
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (64, 2)
    assert model.config.vocab_size == len(tokenizer) < 1000
    assert model.dtype == torch.float32


def test_think_tags_are_single_added_tokens_that_decoding_keeps(tokenizer):
    for tag in ("<think>", "</think>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        ids = tokenizer.encode(tag, add_special_tokens=False)
        assert len(ids) == 1, tag
    ids = tokenizer.encode("a</think>b<|im_end|>", add_special_tokens=False)
    assert tokenizer.decode(ids, skip_special_tokens=True) == "a</think>b"


@pytest.mark.parametrize(
    "text", ["你好，请介绍一下自己", "Hello world!\n  indented", "emoji 😊 ok"]
)
def test_byte_level_tokenizer_round_trips_any_text(tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text


def test_training_merged_common_chinese(tokenizer):
    # Byte-level BPE starts from 3 bytes per CJK character; training on the corpus merges 你好.
    assert len(tokenizer.encode("你好", add_special_tokens=False)) == 1


def render(tokenizer, messages, **kw):
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kw)


def test_template_generation_prompt_follows_enable_thinking(tokenizer):
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "你好"}]
    base = "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n"
    assert render(tokenizer, msgs) == base + "<|im_start|>assistant\n<think>\n"
    assert render(tokenizer, msgs, enable_thinking=True).endswith("assistant\n<think>\n")
    off = render(tokenizer, msgs, enable_thinking=False)
    assert off == base + "<|im_start|>assistant\n<think>\n\n</think>\n\n"


def test_template_drops_old_reasoning_and_renders_tools(tokenizer):
    msgs = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "secret\n</think>\n\nanswer"},
        {"role": "tool", "content": "42"},
    ]
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    text = render(tokenizer, msgs, tools=[tool])
    assert "<|im_start|>assistant\nanswer<|im_end|>" in text
    assert "secret" not in text
    assert "<tool_response>\n42\n</tool_response>" in text
    assert '"name": "lookup"' in text.split("\n<tools>\n")[1]


def test_template_rejects_unknown_roles(tokenizer):
    with pytest.raises(Exception, match="unknown role"):
        render(tokenizer, [{"role": "wizard", "content": "x"}])


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    def weights(seed):
        path = build_tiny_model(tmp_path / str(seed), seed=seed)
        loaded = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        return loaded.model.embed_tokens.weight

    first = weights(0)
    assert torch.equal(first, weights(0))
    assert not torch.equal(first, weights(1))


def test_building_leaves_the_callers_rng_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    build_tiny_model(tmp_path / "m", seed=9)
    assert torch.equal(torch.rand(4), expected)


def test_generates_offline_with_plain_transformers(model, tokenizer):
    prompt = render(tokenizer, [{"role": "user", "content": "你好"}])
    enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**enc, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == enc.input_ids.shape[1] + 5 or out[0, -1] in (
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
