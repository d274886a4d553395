"""Load a model and tokenizer from disk for the local engine, offline, with progress stages.

Kept apart from generation because its failure modes are different: a wrong path, a directory
that is not a model, a missing ``accelerate`` for ``device_map``, a CUDA device that is not there.
Each becomes a ``ModelLoadError`` (a ``ConfigError``) whose message names the path or device,
raised before any weights are read where that can be known.

Nothing is downloaded: ``local_files_only=True`` always. A name that is not a directory is looked
up in the local Hugging Face cache only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hookwire.errors import InvalidRequest, ModelLoadError

__all__ = ["LoadProgress", "ModelLoadError", "load_pretrained"]


@dataclass(frozen=True)
class LoadProgress:
    """One stage of loading, for a CLI to render: stage, message, seconds since the start."""

    stage: Literal["tokenizer", "model", "device", "ready"]
    message: str
    elapsed_s: float


def load_pretrained(
    model_path: str | os.PathLike[str],
    *,
    device: str | None = None,
    device_map: str | dict[str, Any] | None = None,
    dtype: str = "auto",
    progress: Callable[[LoadProgress], None] | None = None,
    trust_remote_code: bool = False,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from ``model_path``, the model in eval mode on its device.

    ``device`` moves the whole model (None: ``cuda`` when available, else ``cpu``); ``device_map``
    goes to ``from_pretrained`` instead (it needs ``accelerate``). Give one or the other.
    ``progress`` is called at each stage; transformers draws its own weight-loading bar as well.
    """
    if device is not None and device_map is not None:
        raise InvalidRequest("give device or device_map, not both")
    started = time.monotonic()

    def report(stage: Any, message: str) -> None:
        if progress is not None:
            progress(LoadProgress(stage, message, time.monotonic() - started))

    source = _check_source(model_path)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    common = {"trust_remote_code": trust_remote_code, "local_files_only": True}
    report("tokenizer", f"loading tokenizer from {source}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **common)  # nosec B615
        report("model", f"loading model weights from {source} (dtype={dtype})")
        extra = {} if device_map is None else {"device_map": device_map}
        model: Any = AutoModelForCausalLM.from_pretrained(  # nosec B615
            source, dtype=dtype, **common, **extra
        )
    except (OSError, ValueError, KeyError, ImportError) as exc:
        # ImportError: device_map needs accelerate; remote code may need packages too.
        raise ModelLoadError(f"could not load a model from {source}: {exc}") from exc
    if device_map is None:
        target = device or ("cuda" if torch.cuda.is_available() else "cpu")
        report("device", f"moving model to {target}")
        try:
            model.to(target)
        except (RuntimeError, AssertionError, ValueError) as exc:
            raise ModelLoadError(f"cannot move the model to device {target!r}: {exc}") from exc
    model.eval()
    report("ready", f"model ready on {model.device}")
    return model, tokenizer


def _check_source(model_path: str | os.PathLike[str]) -> str:
    """Refuse a path that cannot be a model directory before importing torch."""
    path = Path(model_path)
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{path} is a file; give the model's directory")
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{path} has no config.json: not a transformers model directory")
    elif path.is_absolute() or str(model_path).startswith((".", "~")):
        raise ModelLoadError(f"no model directory at {path}")
    return str(model_path)
