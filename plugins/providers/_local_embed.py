"""Embeddings and exact token counts from a local ``transformers`` model.

Pooling follows what the model directory says, as sentence-transformers would load it:

- a sentence-transformers ``modules.json`` naming a ``Pooling`` module: that module's
  ``config.json`` (``pooling_mode_mean_tokens``, ``_cls_token``, ``_max_tokens``,
  ``_lasttoken``);
- otherwise a decoder-only model (an ``...ForCausalLM`` architecture, ``is_decoder``): the last
  token's hidden state, the only position that has seen the whole text under causal attention;
- otherwise the mean of the hidden states over the attention mask.

Vectors are then L2-normalised, as OpenAI's are (so a dot product is the cosine similarity);
``dimensions=n`` keeps the first n values and normalises again, as OpenAI's v3 models shorten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hookwire.errors import InvalidRequest
from hookwire.llm.types import EmbeddingResult, Usage

if TYPE_CHECKING:
    from ._local_engine import LocalEngine

Pooling = Literal["mean", "last", "cls", "max"]

_ST_MODES: tuple[tuple[str, Pooling], ...] = (
    ("pooling_mode_lasttoken", "last"),
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
)


def _sentence_transformers_pooling(path: Path) -> Pooling | None:
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for module in modules if isinstance(modules, list) else ():
        if not str(module.get("type", "")).endswith("Pooling"):
            continue
        try:
            config = json.loads((path / module["path"] / "config.json").read_text("utf-8"))
        except (OSError, ValueError, KeyError):
            return None
        for key, mode in _ST_MODES:
            if config.get(key):
                return mode
    return None


def pooling_of(model: Any, path: str | os.PathLike[str] | None) -> Pooling:
    """The pooling the model's files imply (see the module docstring)."""
    if path is not None and Path(path).is_dir():
        found = _sentence_transformers_pooling(Path(path))
        if found is not None:
            return found
    config = getattr(model, "config", None)
    archs = getattr(config, "architectures", None) or []
    if getattr(config, "is_decoder", False) or any(a.endswith("ForCausalLM") for a in archs):
        return "last"
    return "mean"


def _pool(hidden: Any, mask: Any, pooling: Pooling) -> Any:
    import torch

    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":  # the last attended position, whichever side the padding is on
        positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
        last = (positions * mask).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "max":
        return hidden.masked_fill(weights == 0, float("-inf")).max(dim=1).values
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


def embed(
    engine: LocalEngine,
    texts: Sequence[str],
    *,
    pooling: Pooling,
    dimensions: int | None,
    batch_size: int,
    model_name: str,
    provider: str,
) -> EmbeddingResult:
    """Vectors for ``texts`` in order, ``batch_size`` texts a forward pass."""
    import torch

    model, tokenizer = engine.model, engine.tokenizer
    width = int(getattr(model.config, "hidden_size", 0)) or None
    if dimensions is not None and width is not None and dimensions > width:
        raise InvalidRequest(f"dimensions={dimensions} is more than {model_name!r} has ({width})")
    limit = getattr(model.config, "max_position_embeddings", None)
    vectors: list[list[float]] = []
    used = 0
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        with engine._tokenizer_lock:
            if tokenizer.pad_token is None:  # many decoder-only tokenizers have none
                tokenizer.pad_token = tokenizer.eos_token
            # right padding: under causal attention the real tokens then keep the positions
            # they have alone, so a text's vector does not depend on the batch it came in
            side, tokenizer.padding_side = tokenizer.padding_side, "right"
            try:
                encoded = tokenizer(
                    batch, padding=True, truncation=limit is not None, max_length=limit,
                    return_tensors="pt",
                )  # fmt: skip
            finally:
                tokenizer.padding_side = side
        inputs = {k: v.to(model.device) for k, v in encoded.items()}
        mask = inputs["attention_mask"]
        with engine._model_lock, torch.inference_mode():
            # base_model: the transformer without its LM head (no vocabulary-wide logits)
            hidden = model.base_model(**inputs).last_hidden_state
            pooled = _pool(hidden, mask, pooling).float()
            if dimensions is not None:
                pooled = pooled[:, :dimensions]
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        vectors.extend(pooled.cpu().tolist())
        used += int(mask.sum())
    return EmbeddingResult(vectors, model_name, Usage(used, 0, used), provider)


def count_prompt(engine: LocalEngine, messages: Sequence[dict[str, Any]], **render: Any) -> int:
    """The prompt's tokens exactly as ``generate`` would see them (the chat template applied)."""
    prompt = engine.render_prompt(messages, **render)
    with engine._tokenizer_lock:
        ids = engine.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    return len(ids)
