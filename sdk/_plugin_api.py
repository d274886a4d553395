"""Small helpers that resolve plugin-registered names into objects."""

from __future__ import annotations

from typing import Any

from hookwire.auth import Auth
from hookwire.registry import PluginHost, get_plugin_host


def make_auth(name: str, *args: Any, plugins: PluginHost | None = None, **kwargs: Any) -> Auth:
    """Build a registered auth scheme by name: ``make_auth("digest", "user", "pass")``."""
    entry = (plugins or get_plugin_host()).lookup("auth", name)
    result: Auth = entry.value(*args, **kwargs)
    return result
