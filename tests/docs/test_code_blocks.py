"""Every ```python block in docs/*.md runs, against live mock servers, so the docs cannot drift.

Each block runs alone in a fresh interpreter (blocks are self-contained on purpose: a reader
copies one at a time). A block preceded by ``<!-- no-test -->`` is skipped (real cloud calls,
model weights); ``<!-- needs-provider: NAME -->`` skips it while that provider is not installed.
The environment points every example at a mock server: ``HOOKWIRE_MOCK_URL`` (openai dialect +
httpbin), ``SILICONFLOW_BASE_URL`` and ``VLLM_BASE_URL`` (their dialects), placeholder keys, and
a temp config/home with no keyring, so a developer's own keys and config are never touched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
# ```python fences, also indented ones inside content tabs; ```py marks code that is shown,
# not run (the tutorial's original snippets on the "from the tutorial" page).
FENCE = re.compile(r"^( *)```python[^\n]*\n(.*?)^\1```", re.M | re.S)
MARKER = re.compile(r"<!--\s*(no-test|needs-provider:\s*([\w.-]+))\s*-->\s*$")


@dataclass
class Block:
    page: str
    line: int
    code: str
    skip: bool
    needs: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip().splitlines()
            marker = MARKER.search(before[-1]) if before else None
            found.append(
                Block(
                    page.name,
                    text.count("\n", 0, match.start()) + 1,
                    textwrap.dedent(match.group(2)),
                    skip=bool(marker and marker.group(1) == "no-test"),
                    needs=marker.group(2) if marker else None,
                )
            )
    return found


BLOCKS = blocks()


def test_the_docs_have_code_to_run() -> None:
    pages = {b.page for b in BLOCKS if not b.skip}
    assert {"index.md", "http.md", "async.md", "from-the-tutorial.md"} <= pages
    assert sum(b.skip for b in BLOCKS) <= len(BLOCKS) // 4, "no-test is for a few blocks only"


@pytest.fixture(scope="module")
def docs_env(mock_server, mock_server_factory, tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("docs-home")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and not k.startswith("HOOKWIRE_")
    }
    env.update(
        HOME=str(home),
        HOOKWIRE_CONFIG=str(home / "hookwire" / "config.toml"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        HOOKWIRE_MOCK_URL=mock_server.url,
        SILICONFLOW_BASE_URL=mock_server_factory(dialect="siliconflow").openai_base_url,
        SILICONFLOW_API_KEY="placeholder-" + "key",
        VLLM_BASE_URL=mock_server_factory(dialect="vllm").openai_base_url,
        PYTHONIOENCODING="utf-8",
    )
    return env


def _run(block: Block, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def outcomes(docs_env: dict[str, str], tmp_path_factory) -> dict[str, Any]:
    """Run every runnable block up front, a few at a time (each is its own interpreter)."""
    from hookwire.llm import list_providers

    providers = set(list_providers())
    root = tmp_path_factory.mktemp("blocks")
    results: dict[str, Any] = {}
    todo = []
    for i, block in enumerate(BLOCKS):
        if block.skip:
            results[block.id] = "marked <!-- no-test --> (needs a real cloud key or model weights)"
        elif block.needs and block.needs not in providers:
            results[block.id] = f"provider {block.needs!r} is not installed"
        else:
            todo.append((block, root / str(i)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {b.id: pool.submit(_run, b, docs_env, cwd) for b, cwd in todo}
        results.update({bid: f.result() for bid, f in futures.items()})
    return results


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_code_block_runs(block: Block, outcomes: dict[str, Any]) -> None:
    outcome = outcomes[block.id]
    if isinstance(outcome, str):
        pytest.skip(outcome)
    assert outcome.returncode == 0, f"{block.id} failed:\n{outcome.stderr[-3000:]}"
