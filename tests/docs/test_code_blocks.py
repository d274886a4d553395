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
from dataclasses import dataclass
from pathlib import Path

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


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_code_block_runs(block: Block, docs_env: dict[str, str], tmp_path: Path) -> None:
    if block.skip:
        pytest.skip("marked <!-- no-test --> (needs a real cloud key or model weights)")
    if block.needs:
        from sdk.llm import list_providers

        if block.needs not in list_providers():
            pytest.skip(f"provider {block.needs!r} is not installed")
    proc = subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=tmp_path,
        env=docs_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stderr[-3000:]}"
