"""Build a tiny Qwen3-style chat model on disk, for tests, demos and benchmarks.

Nothing can be downloaded from a model hub where hookwire is tested, yet the local provider must
run the real ``transformers`` code path: tokenizer, chat template, ``from_pretrained``,
``generate``. So we make a real model, only a very small one:

- a byte-level BPE tokenizer trained with ``tokenizers`` on a few English and Chinese lines, with
  Qwen's special tokens (``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``) and, as in Qwen3, the
  *non-special* added tokens ``<think>`` and ``</think>`` (so ``skip_special_tokens`` keeps them);
- a Qwen-style Jinja chat template with a system message, tools, and ``enable_thinking``. Thinking
  on renders the generation prompt as ``<|im_start|>assistant\\n<think>\\n`` (the
  Qwen3-Thinking-2507 layout, so the output holds only ``</think>``); thinking off renders
  ``<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n`` (Qwen3's layout);
- a randomly initialised ``Qwen3ForCausalLM`` (hidden size 64, 2 layers), seeded, so two builds
  with the same seed hold the same weights.

The result is about 400 KB and generates a few dozen tokens in well under a second on a CPU. Its
output is noise; tests that need a known answer force it with a ``LogitsProcessor``.

    >>> from hookwire.plugins.providers.tiny_model import build_tiny_model
    >>> path = build_tiny_model("/tmp/tiny-qwen3")      # doctest: +SKIP

``torch``, ``transformers`` and ``tokenizers`` are imported inside the function, so importing this
module stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["CHAT_TEMPLATE", "THINK_END", "THINK_START", "TRAINING_LINES", "build_tiny_model"]

THINK_START = "<think>"
THINK_END = "</think>"

_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

#: The corpus the tokenizer is trained on: enough English and Chinese for merges such as 你好.
TRAINING_LINES: tuple[str, ...] = (
    "你好，请介绍一下自己",
    "你好！我是一个很小的语言模型，只用于测试。",
    "我能够回答问题、创作文字、进行逻辑推理。",
    "嗯，用户让我介绍一下自己。我需要先想一想。",
    "Hello! I am a tiny language model used for tests.",
    "hmm, the user asks who I am. Let me think about it step by step.",
    "The quick brown fox jumps over the lazy dog. 0123456789",
    "You are a helpful assistant. Answer briefly and clearly.",
    'def add(a, b):\n    return a + b  # {"name": "add", "arguments": {}}',
    "<tool_call>\n<tool_response>\n# Tools\nfunction call json object",
)

# A Qwen3-style template written for this model (not copied from Qwen's): system message, tools
# block, tool responses folded into user turns, reasoning dropped from earlier assistant turns,
# and the two generation-prompt layouts chosen by ``enable_thinking`` (default: on).
CHAT_TEMPLATE = (
    "{%- set think_end = '</think>' -%}"
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages and messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}"
    "{%- endif %}"
    "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags.<|im_end|>\\n' }}"
    "{%- elif messages and messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' %}"
    "{%- if not loop.first %}{{- raise_exception('a system message must come first') }}{%- endif %}"
    "{%- elif message.role == 'user' %}"
    "{{- '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set content = message.content or '' %}"
    "{%- if think_end in content %}{%- set content = content.split(think_end)[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{{- '<|im_start|>assistant\\n' + content }}"
    "{%- for call in message.tool_calls or [] %}"
    "{%- set fn = call.function if call.function is defined else call %}"
    '{{- \'\\n<tool_call>\\n{"name": "\' + fn.name + \'", "arguments": \' }}'
    "{%- if fn.arguments is string %}{{- fn.arguments }}{%- else %}{{- fn.arguments | tojson }}"
    "{%- endif %}"
    "{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response>"
    "<|im_end|>\\n' }}"
    "{%- else %}{{- raise_exception('unknown role: ' + message.role) }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- else %}{{- '<think>\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)


def build_tiny_model(
    path: str | os.PathLike[str], *, seed: int = 0, special_think_tags: bool = False
) -> Path:
    """Write a tiny Qwen3-style model and tokenizer to ``path`` and return it as a ``Path``.

    The directory is created if needed; files already there are overwritten. The same ``seed``
    gives the same weights, so outputs are reproducible across builds. Load the result with
    ``AutoTokenizer.from_pretrained(path, local_files_only=True)`` and
    ``AutoModelForCausalLM.from_pretrained(path, local_files_only=True)``, or with
    ``LocalEngine.load(path)``. ``special_think_tags=True`` makes ``<think>``/``</think>``
    *special* tokens, as some tokenizers have them (``skip_special_tokens`` then drops them
    from decoded text), for tests that the split never depends on the text.
    """
    import torch
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        Qwen3Config,
        Qwen3ForCausalLM,
    )

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(PreTrainedTokenizerFast, special_think_tags)
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=eot,
        eos_token_id=im_end,
        pad_token_id=eot,
        dtype="float32",
    )
    # Seed a private generator state, not the caller's: building must not disturb their RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=eot, eos_token_id=[im_end, eot], pad_token_id=eot
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _train_tokenizer(fast_cls: Any, special_think_tags: bool = False) -> Any:
    """Train the byte-level BPE and wrap it as a ``PreTrainedTokenizerFast`` with the template."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=_SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(TRAINING_LINES, trainer=trainer)
    # Like Qwen3: the think tags are added tokens (one id each) but not special ones.
    tags = [AddedToken(t, special=special_think_tags) for t in (THINK_START, THINK_END)]
    if special_think_tags:
        bpe.add_special_tokens(tags)
    else:
        bpe.add_tokens(tags)
    tokenizer = fast_cls(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",  # noqa: S106 (a token, not a password) # nosec B106
        pad_token="<|endoftext|>",  # noqa: S106
        additional_special_tokens=[
            "<|im_start|>", "<|im_end|>", *([THINK_START, THINK_END] if special_think_tags else [])
        ],
        clean_up_tokenization_spaces=False,
        model_max_length=4096,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
