"""`hookwire keys`, `config`, `plugins`, `mock serve`, `vllm serve` via the console script."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import stat
import subprocess
import threading
from pathlib import Path

import httpx
import pexpect
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


def test_keys_set_refuses_an_empty_key_and_says_how(hookwire: Run, cli_env: dict[str, str]) -> None:
    r = hookwire("keys", "set", "deepseek", input="\n")
    assert r.returncode == 1 and r.stderr.startswith("error: no key given for deepseek")
    assert "hookwire keys set deepseek" in r.stderr and "DEEPSEEK_API_KEY" in r.stderr
    assert r.stderr.count("\n") == 1 and "Warning" not in r.stderr
    assert not (Path(cli_env["HOOKWIRE_CONFIG"]).parent / "keys.json").exists()


def test_keys_set_with_no_stdin_and_no_terminal_fails_clearly(cli_env: dict[str, str]) -> None:
    # stdin closed and no controlling terminal: nothing to read from and nobody to ask
    r = subprocess.run(
        [hookwire_exe(), "keys", "set", "deepseek"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=cli_env, timeout=30, start_new_session=True,
        close_fds=True,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("error: no key given for deepseek") and "pipe it in" in r.stderr


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


def test_mock_serve_passes_limits_through_and_checks_them(cli_env, hookwire: Run) -> None:
    bad = hookwire("mock", "serve", "--limit", "bogus=1")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: invalid value for '--limit': want NAME=N")
    port = free_port()
    proc = subprocess.Popen(
        [hookwire_exe(), "mock", "serve", "--port", str(port), "--limit", "n=2"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_serving(proc, f"http://127.0.0.1:{port}/v1/models")
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        body = {"model": "mock-model", "messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(url, json={**body, "n": 2}).status_code == 200
        refused = httpx.post(url, json={**body, "n": 3})
        assert refused.status_code == 400 and "n=2" in refused.json()["error"]["message"]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_mock_serve_is_a_typed_command_with_our_help_and_errors(hookwire: Run) -> None:
    h = hookwire("mock", "serve", "--help")
    assert h.returncode == 0
    assert "Usage: hookwire mock serve [OPTIONS]" in h.stdout
    assert "usage: python" not in h.stdout + h.stderr
    for option, text in [("--latency", "Both delays"), ("--dialect", "openai|vllm|siliconflow")]:
        assert option in h.stdout and text in h.stdout
    bad = hookwire("mock", "serve", "--dialect", "klingon")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: invalid value for '--dialect': 'klingon' is not one of")
    assert bad.stderr.endswith("(see 'hookwire mock serve --help')\n")
    assert bad.stderr.count("\n") == 1
    # the mock server's own rules still apply, as usage errors of this command
    lonely = hookwire("mock", "serve", "--only-models")
    assert lonely.returncode == 2 and lonely.stderr.count("\n") == 1
    assert lonely.stderr.startswith("error: invalid value: only_models needs at least one model")
    missing = hookwire("mock", "serve", "--scenario", "/nonexistent/rules.toml")
    assert missing.returncode == 2 and "'/nonexistent/rules.toml' does not exist" in missing.stderr


def test_mock_serve_latency_and_models_reach_the_server(cli_env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [hookwire_exe(), "mock", "serve", "--port", str(port), "--model", "extra-model",
         "--latency", "0,0.001"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        r = wait_until_serving(proc, f"http://127.0.0.1:{port}/v1/models")
        assert "extra-model" in {m["id"] for m in r.json()["data"]}
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


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
    assert r.returncode == 2
    assert r.stderr == "error: no such command 'frobnicate' (see 'hookwire --help')\n"
    assert hookwire("--version").stdout.startswith("hookwire ")


STANDIN = Path(__file__).resolve().parents[1] / "fixtures" / "bin"


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX only")
def test_vllm_serve_starts_waits_passes_flags_through_and_stops(cli_env: dict[str, str]) -> None:
    port = free_port()
    env = {**cli_env, "PATH": f"{STANDIN}{os.pathsep}{cli_env['PATH']}"}
    proc = subprocess.Popen(
        [hookwire_exe(), "vllm", "serve", "Qwen/Qwen3-4B", "--port", str(port), "-tp", "2",
         "--served-model-name", "qwen3-4b", "--gpu-memory-utilization", "0.8"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:  # stderr is read as it comes, so "ready" is seen without blocking
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("vLLM is ready: "):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Ctrl-C only once the launcher says it is up (before that it would be "interrupted")
        assert ready.wait(60), "".join(lines)
        assert lines[-1] == f"vLLM is ready: http://127.0.0.1:{port}/v1 (Ctrl-C stops it)\n"
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=5)
        assert [m["id"] for m in r.json()["data"]] == ["qwen3-4b"]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
        proc.stderr.close()
    err = "".join(lines)
    assert proc.returncode == 0, err
    args = next(line for line in err.splitlines() if "non-default args" in line)
    assert "'tensor_parallel_size': 2" in args and "--gpu-memory-utilization" in args


def test_vllm_serve_help_and_bad_values(hookwire: Run) -> None:
    h = hookwire("vllm", "serve", "--help")
    assert h.returncode == 0 and "Usage: hookwire vllm serve [OPTIONS]" in h.stdout
    assert "--tensor-parallel-size" in h.stdout and "GPUs to shard over" in h.stdout
    bad = hookwire("vllm", "serve", "Qwen/Qwen3-4B", "--port", "http")
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid value for '--port'")
    assert bad.stderr.count("\n") == 1
    nothing = hookwire("vllm", "serve")
    assert nothing.returncode == 2
    assert nothing.stderr == "error: missing argument 'MODEL' (see 'hookwire vllm serve --help')\n"


def test_vllm_serve_without_vllm_installed_is_one_clear_line(hookwire: Run) -> None:
    r = hookwire("vllm", "serve", "Qwen/Qwen3-4B", "--executable", "no-such-vllm-here")
    assert r.returncode == 1
    assert r.stderr.startswith("error: 'no-such-vllm-here' was not found on PATH")
    assert r.stderr.count("\n") == 1


def test_keys_set_asks_on_the_terminal_with_echo_off(spawn, hookwire: Run) -> None:
    child = spawn("keys", "set", "deepseek")
    child.logfile_read = seen = io.StringIO()  # everything the terminal showed
    child.expect_exact("API key for deepseek (input hidden): ")
    child.sendline(SECRET)
    child.expect_exact("stored the deepseek key in ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert SECRET not in seen.getvalue()  # typed with echo off, never printed back
    assert hookwire("keys", "list").stdout.split() == ["deepseek", "file"]


def test_mock_serve_on_a_taken_port_is_one_clear_line(hookwire: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = hookwire("mock", "serve", "--port", str(port))
    assert r.returncode == 1
    assert r.stderr == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): stop what listens "
        "there, or pick another --port (0 picks a free one)\n"
    )
