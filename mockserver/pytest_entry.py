"""The ``pytest11`` entry point: the mock server's fixtures, when the ``mock`` extra is there.

pytest loads every installed ``pytest11`` plugin at start-up, so an application that installs
plain ``hookwire`` (no server dependencies) and runs its own pytest must not fail here. With
the ``mock`` extra installed this module offers every fixture of
:mod:`hookwire.mockserver.pytest_plugin`; without it, none, and nothing is imported.

The cassette marker and fixture (:mod:`hookwire.mockserver.cassette.pytest_plugin`) need only
pytest and the standard library, so they are always here.
"""

from __future__ import annotations

import importlib.util

#: Registered as a plugin of its own (pytest reads ``pytest_plugins`` of a plugin module), so
#: its hooks never collide with the fixtures' module's hooks copied in below.
pytest_plugins = ["hookwire.mockserver.cassette.pytest_plugin"]

#: What the fixtures need (the ``mock`` extra); all present, or the plugin stays empty.
REQUIRES = ("starlette", "uvicorn")
AVAILABLE = all(importlib.util.find_spec(name) is not None for name in REQUIRES)

if AVAILABLE:
    from hookwire.mockserver import pytest_plugin as _fixtures

    globals().update(
        {name: value for name, value in vars(_fixtures).items() if not name.startswith("_")}
    )
