"""Fixtures shared by the whole suite.

The mock server's fixtures (``mock_server``, ``httpbin``, ...) arrive through its pytest plugin
(entry point ``pytest11``), exactly as they do for our users; the tiny local model's fixtures
come from ``tests/_tiny_model.py``.

Property tests explore new random inputs on every developer run, but CI (``CI`` set) runs them
derandomized, so a landing never depends on the luck of the draw: whatever fuzzing finds locally
becomes a regression test instead.
"""

from __future__ import annotations

import os

from hypothesis import settings

pytest_plugins = ["tests._tiny_model"]

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
