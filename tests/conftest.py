"""Fixtures shared by the whole suite.

The mock server's fixtures (``mock_server``, ``httpbin``, ...) arrive through its pytest plugin
(entry point ``pytest11``), exactly as they do for our users; the tiny local model's fixtures
come from ``tests/_tiny_model.py``.
"""

from __future__ import annotations

pytest_plugins = ["tests._tiny_model"]
