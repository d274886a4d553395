"""Pytest fixtures for the tiny local model: built once per session, loaded once per session.

Wire it in from ``tests/conftest.py`` with ``pytest_plugins = ["tests._tiny_model"]`` (or import the
fixtures there). Without torch/transformers installed, every test using these fixtures skips.

Fixtures:
- ``tiny_model_dir``: the directory of a freshly built tiny Qwen3-style model (session scope).
- ``tiny_engine``: a ``LocalEngine`` loaded from it on the CPU (session scope).

Helpers for forcing the random model's output, so tests can assert what the engine computed:
- ``Script(token_ids, then=...)``: a ``LogitsProcessor`` that forces a token sequence.
- ``Ban(token_ids)``: a ``LogitsProcessor`` that forbids tokens (EOS, to run to the limit).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Ban", "Script", "build_tiny_model", "tiny_engine", "tiny_model_dir"]


def build_tiny_model(path: str | Path) -> Path:
    """Build the tiny model into ``path`` (the shipped builder, seed 0)."""
    from hookwire.plugins.providers.tiny_model import build_tiny_model as build

    return build(path, seed=0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    # One intra-op thread: the tiny model gains nothing from more, and on a busy 2-core CI box
    # OpenMP's spinning workers make every main-thread generate call an order slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_tiny_model(tmp_path_factory.mktemp("tiny-qwen3"))
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir: Path) -> Any:
    from hookwire.plugins.providers._local_engine import LocalEngine

    return LocalEngine.load(tiny_model_dir, device="cpu", default_max_new_tokens=64)


class Script:
    """Force the completion to be ``token_ids``, then ``then`` forever (None: leave scores be).

    It also counts its calls (one per generated token) and remembers the thread it ran on, so
    tests can see how far a generation went and whether its thread is still alive. ``gate``, when
    given, is waited on (up to ``gate_timeout``) before the first token; ``gate_passed`` records
    whether it opened.
    """

    def __init__(
        self,
        token_ids: Sequence[int],
        then: int | None = None,
        *,
        gate: threading.Event | None = None,
        gate_timeout: float = 30.0,
    ) -> None:
        self.token_ids = list(token_ids)
        self.then = then
        self.gate = gate
        self.gate_timeout = gate_timeout
        self.gate_passed: bool | None = None
        self.calls = 0
        self.thread: threading.Thread | None = None
        self.started = threading.Event()
        self._start: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._start is None:
            self._start = int(input_ids.shape[1])
            self.thread = threading.current_thread()
            if self.gate is not None:
                self.gate_passed = self.gate.wait(self.gate_timeout)
        step = int(input_ids.shape[1]) - self._start
        self.calls += 1
        if self.calls >= 2:
            self.started.set()
        forced = self.token_ids[step] if step < len(self.token_ids) else self.then
        if forced is None:
            return scores
        out = torch.full_like(scores, float("-inf"))
        out[:, forced] = 0.0
        return out


class Ban:
    """Forbid ``token_ids`` at every step; counts calls like ``Script``."""

    def __init__(self, token_ids: Sequence[int]) -> None:
        self.token_ids = list(token_ids)
        self.calls = 0
        self.thread: threading.Thread | None = None
        self.started = threading.Event()

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self.thread = threading.current_thread()
        self.calls += 1
        if self.calls >= 2:
            self.started.set()
        scores[:, self.token_ids] = float("-inf")
        return scores
