"""Split an event-stream body into `data:` payloads (test-side, independent of the server)."""

from __future__ import annotations

import json
from typing import Any


def data_lines(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n") if line.startswith("data: ")]


def payloads(text: str) -> list[dict[str, Any]]:
    """JSON payloads in order, without the final [DONE]; asserts [DONE] is last."""
    lines = data_lines(text)
    assert lines and lines[-1] == "[DONE]", f"stream did not end with [DONE]: {lines[-2:]}"
    return [json.loads(line) for line in lines[:-1]]
