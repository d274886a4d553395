"""The public surface: every exported name resolves, and ``import hookwire`` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hookwire


def test_every_exported_name_resolves() -> None:
    for name in hookwire.__all__:
        assert getattr(hookwire, name) is not None, name
    with pytest.raises(AttributeError):
        hookwire.NotAThing  # type: ignore[attr-defined]  # noqa: B018


def test_import_sdk_loads_no_heavy_module() -> None:
    code = (
        "import sys, hookwire\n"
        "heavy = {'pluggy', 'httpx', 'requests', 'aiohttp', 'urllib3', 'torch', 'transformers',"
        " 'openai', 'mockserver', 'plugins', 'rich', 'typer'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_module_tree_matches_classes() -> None:
    from hookwire import errors

    for name in errors.__all__:
        obj = getattr(errors, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, errors.SDKError)
            and obj is not errors.SDKError
        ):
            assert name in (errors.__doc__ or ""), f"{name} missing from the tree in the docstring"
