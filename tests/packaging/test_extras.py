"""Without an extra, its feature says what to install, and nothing else breaks.

Each check runs in a fresh interpreter where the extra's packages are made unimportable
(``sys.modules[name] = None`` is what Python itself does for a module known to be missing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

MOCK = ("starlette", "uvicorn", "httptools", "uvloop")
CLI = ("typer", "rich")


def run_without(blocked: tuple[str, ...], code: str, cwd: Path | None = None):
    prelude = f"import sys\nsys.modules.update(dict.fromkeys({list(blocked)!r}))\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120, cwd=cwd, check=False,
    )


def test_llm_mock_without_the_mock_extra_names_it() -> None:
    out = run_without(MOCK, """
        import json, hookwire
        try:
            hookwire.LLM("mock")
        except hookwire.ConfigError as exc:
            print(json.dumps(str(exc)))
    """)
    assert out.returncode == 0, out.stderr
    message = json.loads(out.stdout)
    assert "pip install 'hookwire[mock]'" in message
    assert any(f"({name} is not installed)" in message for name in MOCK), message


def test_the_http_client_needs_no_extra_at_all() -> None:
    out = run_without(MOCK + CLI + ("aiohttp", "torch", "transformers"), """
        import hookwire
        host = hookwire.get_plugin_host()
        assert not host.errors, host.errors
        print(sorted(host.transports()), sorted(host.providers()))
    """)
    assert out.returncode == 0, out.stderr
    assert "'requests'" in out.stdout and "'openai'" in out.stdout


def test_the_console_script_without_the_cli_extra_names_it() -> None:
    out = run_without(CLI, """
        from hookwire.cli import main
        raise SystemExit(main(["chat", "hi"]))
    """)
    assert out.returncode == 1
    assert out.stderr.strip() in {
        f"error: the hookwire command line needs the cli extra ({name} is not installed): "
        "pip install 'hookwire[cli]'"
        for name in CLI
    }


def test_pytest_starts_without_the_mock_extra_and_offers_no_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(
        "import pytest\n"
        "def test_app(request):\n"
        "    with pytest.raises(pytest.FixtureLookupError):\n"
        "        request.getfixturevalue('mock_server')\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    out = run_without(MOCK, """
        import pytest
        from hookwire.mockserver import pytest_entry
        assert not pytest_entry.AVAILABLE and not hasattr(pytest_entry, "mock_server")
        raise SystemExit(pytest.main(["-q", "-p", "no:cacheprovider"]))
    """, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


def test_with_the_mock_extra_the_entry_point_offers_the_fixtures() -> None:
    from hookwire.mockserver import pytest_entry, pytest_plugin

    assert pytest_entry.AVAILABLE
    for name in ("mock_server", "mock_server_factory", "respx_mock_server", "httpbin"):
        assert getattr(pytest_entry, name) is getattr(pytest_plugin, name)
