"""Figures for ``docs/reliability.md``, gathered while the reliability suite runs.

Tests add counts with :func:`add` (fuzz examples, soak requests, errors by type); the suite's
conftest adds passed cases per transport. At the end of the session the summary is printed and,
when ``HOOKWIRE_RELIABILITY_REPORT`` names a file, written there as JSON, so the figures in the
doc come from a real run rather than from anyone's memory.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ENV = "HOOKWIRE_RELIABILITY_REPORT"

#: section -> key -> count
COUNTS: defaultdict[str, Counter[str]] = defaultdict(Counter)
#: section -> free-form values (peaks, deltas) that are not counts
VALUES: defaultdict[str, dict[str, Any]] = defaultdict(dict)

TRANSPORT_IDS = (
    "requests-sync", "httpx-sync", "httpx-async", "aiohttp-async", "pyreqwest-async",
)


def add(section: str, key: str, n: int = 1) -> None:
    COUNTS[section][key] += n


def note(section: str, key: str, value: Any) -> None:
    VALUES[section][key] = value


def transport_of(nodeid: str) -> str:
    """The transport id in a test's parameters, or ``"transport-independent"``."""
    params = nodeid.partition("[")[2]
    for tid in TRANSPORT_IDS:
        if tid in params:
            return tid
    return "transport-independent"


def summary() -> dict[str, Any]:
    out: dict[str, Any] = {k: dict(sorted(v.items())) for k, v in sorted(COUNTS.items())}
    for section, values in VALUES.items():
        out.setdefault(section, {}).update(values)
    return out


def write() -> Path | None:
    target = os.environ.get(ENV)
    if not target or not COUNTS:
        return None
    path = Path(target)
    path.write_text(json.dumps(summary(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
