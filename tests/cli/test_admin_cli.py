"""`hookwire keys`, `config`, `plugins`, `mock serve`, `vllm serve` via the console script."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests._serve_process import free_port, wait_until_serving
from tests.cli.conftest import Run, hookwire_exe

SECRET = "sk-" + "cli-test-0123456789"


def test_keys_set_list_delete_never_echo(hookwire: Run, cli_env: dict[str, str]) -> None:
    r = hookwire("keys", "set", "siliconflow", input=SECRET + "\n")
    assert r.returncode == 0, r.stderr
    key_file = Path(cli_env["HOOKWIRE_CONFIG"]).parent / "keys.json"
    assert r.stdout.strip() == f"stored the siliconflow key in {key_file}"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert SECRET in key_file.read_text()

    listed = hookwire("keys", "list")
    assert listed.stdout.split() == ["siliconflow", "file"]
    shown = hookwire("config", "show")
    for out in (r, listed, shown):
        assert SECRET not in out.stdout + out.stderr

    assert hookwire("keys", "delete", "siliconflow").returncode == 0
    assert json.loads(hookwire("keys", "list", "--json").stdout) == {}
    again = hookwire("keys", "delete", "siliconflow")
    assert again.returncode == 1 and again.stderr == "error: no stored key for siliconflow\n"


def test_keys_set_refuses_an_empty_key(hookwire: Run, cli_env: dict[str, str]) -> None:
    r = hookwire("keys", "set", "deepseek", input="\n")
    assert r.returncode == 1 and r.stderr.startswith("error: no key given for deepseek")
    assert not (Path(cli_env["HOOKWIRE_CONFIG"]).parent / "keys.json").exists()


def test_config_path_and_show(hookwire: Run, cli_env: dict[str, str]) -> None:
    path = Path(cli_env["HOOKWIRE_CONFIG"])
    assert hookwire("config", "path").stdout.strip() == str(path)
    path.parent.mkdir(parents=True)
    path.write_text(
        f'provider = "deepseek"\n[providers.deepseek]\napi_key = "{SECRET}"\nmodel = "d-chat"\n'
    )
    r = hookwire("config", "show", env={"HOOKWIRE_MODEL": "from-env"})
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["default_provider"] == "deepseek" and shown["default_model"] == "from-env"
    assert shown["file"]["providers"]["deepseek"] == {"api_key": "[REDACTED]", "model": "d-chat"}
    assert SECRET not in r.stdout


def test_broken_config_file_is_one_error_line(hookwire: Run, cli_env: dict[str, str]) -> None:
    path = Path(cli_env["HOOKWIRE_CONFIG"])
    path.parent.mkdir(parents=True)
    path.write_text("provider = [\n")
    r = hookwire("config", "show")
    assert r.returncode == 1
    assert r.stderr.startswith(f"error: config file {path} is not valid TOML")
    assert r.stderr.count("\n") == 1


def _fake_distribution(root: Path, name: str, module: str) -> None:
    """A dist-info on PYTHONPATH whose `hookwire` entry point names a module that cannot import."""
    info = root / f"{name}-9.9.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text(f"[hookwire]\n{name} = {module}\n")
    (root / f"{module}.py").write_text("raise ImportError('needs the flux capacitor')\n")


def test_plugins_lists_builtins_and_failures(hookwire: Run, tmp_path: Path) -> None:
    _fake_distribution(tmp_path / "site", "broken-plugin", "broken_plugin_mod")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    doc = json.loads(hookwire("plugins", "--json", env=env).stdout)
    by_name = {p["name"]: p for p in doc["plugins"]}
    assert "auth:digest" in by_name["auth"]["registers"]
    assert by_name["auth"]["distribution"] == "hookwire"
    assert "transport:requests" in by_name["transport-requests"]["registers"]
    assert "provider:mock" in by_name["providers-mock"]["registers"]
    [failed] = [f for f in doc["failed"] if f["name"] == "broken-plugin"]
    assert "needs the flux capacitor" in failed["error"]

    table = hookwire("plugins", env=env)
    assert table.returncode == 0
    assert "transport-requests" in table.stdout and "transport:requests" in table.stdout
    assert "failed: broken-plugin:" in table.stdout


def test_disabled_plugin_is_not_listed(hookwire: Run) -> None:
    doc = json.loads(
        hookwire("plugins", "--json", env={"HOOKWIRE_DISABLE_PLUGINS": "transport-httpx"}).stdout
    )
    assert "transport-httpx" not in {p["name"] for p in doc["plugins"]}


def test_mock_serve_runs_the_server_until_ctrl_c(cli_env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [hookwire_exe(), "mock", "serve", "--port", str(port), "--dialect", "vllm"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        r = wait_until_serving(proc, f"http://127.0.0.1:{port}/v1/models")
        assert "Qwen/Qwen3-4B" in {m["id"] for m in r.json()["data"]}
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"vllm dialect on http://127.0.0.1:{port}" in err


def test_mock_serve_help_and_bad_flags_come_from_the_mock_server(hookwire: Run) -> None:
    h = hookwire("mock", "serve", "--help")
    assert h.returncode == 0 and "--latency" in h.stdout and "--dialect" in h.stdout
    bad = hookwire("mock", "serve", "--dialect", "klingon")
    assert bad.returncode == 2 and "klingon" in bad.stderr


def test_vllm_serve_without_the_launcher_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from hookwire.cli import main

    monkeypatch.setitem(sys.modules, "hookwire.plugins.providers.vllm_launcher", None)
    assert main(["vllm", "serve", "Qwen/Qwen3-4B"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: the vLLM launcher is not installed"
        " (hookwire.plugins.providers.vllm_launcher is missing)\n"
    )


def test_unknown_command_is_a_usage_error(hookwire: Run) -> None:
    r = hookwire("frobnicate")
    assert r.returncode == 2 and "No such command" in r.stderr
    assert hookwire("--version").stdout.startswith("hookwire ")
