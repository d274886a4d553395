"""The public surface tells the truth: every name that type-checks as ``hookwire.X`` (or
``hookwire.plugin.X``) exists at runtime, the lists are the same, and ``import hookwire`` and the
client path stay light (no extra is imported).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import hookwire
from hookwire import errors

ROOT = Path(__file__).resolve().parents[2]


def _type_checking_names(path: Path) -> set[str]:
    """Names bound in the module's ``if TYPE_CHECKING:`` block (star imports expanded)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                for alias in stmt.names:
                    if alias.name == "*":
                        names.update(importlib.import_module(str(stmt.module)).__all__)
                    else:
                        names.add(alias.asname or alias.name)
    assert names, f"no TYPE_CHECKING block in {path}"
    return names


@pytest.mark.parametrize(
    ("module_name", "path"),
    [("hookwire", ROOT / "sdk" / "__init__.py"), ("hookwire.plugin", ROOT / "sdk" / "plugin.py")],
)
def test_type_checking_block_and_all_agree_and_resolve(module_name: str, path: Path) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == _type_checking_names(path)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"
    assert sorted(dir(module)) == sorted(module.__all__)
    with pytest.raises(AttributeError):
        module.NotAThing  # noqa: B018


def test_every_error_is_reachable_from_hookwire() -> None:
    for name in errors.__all__:
        assert getattr(hookwire, name) is getattr(errors, name), name
    assert hookwire.errors is errors


def test_status_errors_carry_the_names_openai_users_expect() -> None:
    expected = {
        400: "BadRequestError",
        401: "APIAuthenticationError",
        403: "PermissionDeniedError",
        404: "NotFoundError",
        409: "ConflictError",
        422: "UnprocessableEntityError",
        429: "RateLimitError",
        500: "InternalServerError",
        503: "InternalServerError",
        418: "APIStatusError",
    }
    assert {code: errors.status_error_class(code).__name__ for code in expected} == expected


def test_one_authentication_error_for_every_401() -> None:
    # the LLM provider's 401 is caught by the same except clause as the HTTP client's
    assert issubclass(hookwire.APIAuthenticationError, hookwire.AuthenticationError)
    assert issubclass(hookwire.APIAuthenticationError, hookwire.APIStatusError)
    assert issubclass(errors.status_error_class(401), hookwire.AuthenticationError)


def test_errors_module_tree_matches_classes() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.SDKError) and obj != errors.SDKError:
            assert name in (errors.__doc__ or ""), f"{name} missing from the tree in the docstring"


EXTRAS = (
    "uvicorn", "starlette", "httptools", "uvloop", "typer", "rich", "aiohttp", "torch",
    "transformers", "keyring", "openai",
)


def _loaded_after(code: str, extras: tuple[str, ...] = EXTRAS) -> list[str]:
    probe = (
        code
        + "\nimport sys\n"
        + f"print(sorted({set(extras)!r} & {{m.split('.')[0] for m in sys.modules}}))\n"
        + "print(sorted(m for m in sys.modules if m.startswith(('hookwire.mockserver', "
        + "'hookwire.cli'))))\n"
        + "print(sorted({'sdk', 'plugins', 'mockserver'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    )
    return out.stdout.split("\n")[-4:-1]


def test_import_hookwire_loads_nothing_heavy() -> None:
    extras, ours, generic = _loaded_after(
        "import hookwire\n"
        "loaded = __import__('sys').modules\n"
        "assert not {'pluggy', 'httpx', 'requests', 'urllib3'} & set(loaded), sorted(loaded)\n"
    )
    assert (extras, ours, generic) == ("[]", "[]", "[]")


def test_the_client_path_never_imports_an_extra() -> None:
    # a real GET through every built-in plugin's loading (entry points are all imported)
    code = (
        "import http.server, threading\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.send_header('Content-Length', '2')\n"
        "        self.end_headers(); self.wfile.write(b'ok')\n"
        "    def log_message(self, *a): pass\n"
        "srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=srv.serve_forever, daemon=True).start()\n"
        "import hookwire\n"
        "url = f'http://127.0.0.1:{srv.server_port}/'\n"
        "for t in ('requests', 'httpx'):\n"
        "    with hookwire.Client(transport=t) as c: assert c.get(url).text == 'ok'\n"
        "hookwire.LLM('openai', api_key='k', model='m')\n"
        "hookwire.get_plugin_host().providers()\n"
        "srv.shutdown()\n"
    )
    # httpx itself imports rich for its own CLI when rich is installed: not ours to judge
    extras, ours, generic = _loaded_after(code, tuple(e for e in EXTRAS if e != "rich"))
    assert (extras, ours, generic) == ("[]", "[]", "[]")
