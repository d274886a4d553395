"""`hookwire chat -p transformers` shows model loading progress (a tiny real Qwen3 model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.mark.slow
@pytest.mark.local
def test_loading_stages_are_reported_then_the_model_answers(hookwire: Run, tmp_path: Path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from hookwire.plugins.providers.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny-qwen3")
    r = hookwire("chat", "-p", "transformers", "-m", str(model), "--max-tokens", "4", "hi",
                 timeout=180)
    assert r.returncode == 0, r.stderr
    stages = [line for line in r.stderr.splitlines() if line.startswith("[")]
    assert [s[:5] for s in stages] == ["[0/3]", "[1/3]", "[2/3]", "[3/3]"]
    assert "loading tokenizer" in stages[0] and "ready" in stages[-1]
    assert "using the bundled mock" not in r.stderr
