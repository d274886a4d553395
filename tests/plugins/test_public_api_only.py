"""The built-in plugins are written against the public API only, as a third party's would be.

Every import in plugins/ (top level, inside functions and TYPE_CHECKING blocks alike) of a
``hookwire`` module must name a public module: no ``hookwire._x`` or ``hookwire.llm._x``. A
plugin may use its own package's private helpers (``hookwire.plugins.transports._common``
from a transport) but never another plugin package's modules; only the ``mock`` provider
touches the mock server, to start it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FILES = sorted(p for p in PLUGINS.rglob("*.py") if "__pycache__" not in p.parts)


def _package_of(path: Path) -> str:
    """``hookwire.plugins.transports`` for plugins/transports/x.py; ``hookwire.plugins`` at top."""
    parts = path.relative_to(PLUGINS).parts[:-1]
    return ".".join(("hookwire", "plugins", *parts))


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from hookwire import _x` names a private module too
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                      if a.name.startswith("_") and node.module.startswith("hookwire")]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _violations(path: Path, modules: list[tuple[int, str]]) -> list[str]:
    own = _package_of(path)
    bad = []
    for line, module in modules:
        if not module.startswith("hookwire"):
            continue
        where = f"{path.relative_to(PLUGINS.parent)}:{line}: {module}"
        if module.startswith("hookwire.mockserver"):
            # the cassette transport reads the one cassette format, the mock package's
            # stdlib-only module (hookwire mock serve --cassette reads the same files), and
            # nothing else of the mock server
            cassette = path.name == "cassette.py" and module == "hookwire.mockserver.cassette"
            if path.name != "mock.py" and not cassette:
                bad.append(f"{where} (only the mock provider may start the mock server)")
            continue
        if module.startswith("hookwire.plugins"):
            if not (module == own or module.startswith(own + ".")):
                bad.append(f"{where} (another plugin package's module)")
            continue
        if any(part.startswith("_") for part in module.split(".")[1:]):
            bad.append(f"{where} (a private hookwire module: use hookwire.plugin)")
    return bad


def test_the_plugin_files_are_found() -> None:
    names = {p.name for p in FILES}
    assert {"auth.py", "requests_transport.py", "httpx_transport.py", "vllm.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_plugin_imports_only_public_modules(path: Path) -> None:
    assert _violations(path, _imported_modules(ast.parse(path.read_text()))) == []


def test_the_check_catches_what_it_should() -> None:
    transport = PLUGINS / "transports" / "httpx_transport.py"
    code = (
        "from hookwire._models import Request\n"
        "from hookwire.llm import _stream\n"
        "import hookwire.plugins.providers.vllm\n"
        "from hookwire.plugins.transports import _common\n"
        "from hookwire.plugin import Request\n"
        "def f():\n    from hookwire.mockserver.server import LiveServer\n"
    )
    cassette = PLUGINS / "transports" / "cassette.py"
    allowed = "import hookwire.mockserver.cassette\n"
    assert _violations(cassette, _imported_modules(ast.parse(allowed))) == []
    beyond = (
        "from hookwire.mockserver.server import LiveServer\n"
        "import hookwire.mockserver.cassette.app\n"
    )
    assert len(_violations(cassette, _imported_modules(ast.parse(beyond)))) == 2
    found = _violations(transport, _imported_modules(ast.parse(code)))
    assert [v.split(": ", 1)[1].split(" (")[0] for v in found] == [
        "hookwire._models",
        "hookwire.llm._stream",
        "hookwire.plugins.providers.vllm",
        "hookwire.mockserver.server",
    ]
