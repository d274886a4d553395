"""VLLMLauncher with the stand-in ``vllm`` executable (tests/fixtures/bin/vllm) first on PATH.

The stand-in is a real process that serves the mock server in the vllm dialect, prints vLLM-like
log lines, honours SIGTERM and fails the way vLLM does (missing model path, port taken), so
every path of the launcher runs for real: subprocess, process group, log thread, health polling,
SIGTERM and SIGKILL. Start-up timeouts run on a fake clock.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

import hookwire
from hookwire import FakeClock
from hookwire.errors import APIAuthenticationError, InvalidRequest
from hookwire.plugins.providers.vllm_launcher import (
    VLLMLauncher,
    VLLMLaunchError,
    VLLMStartupTimeout,
    serve,
)

BIN = Path(__file__).resolve().parents[1] / "fixtures" / "bin"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX only")


@pytest.fixture(autouse=True)
def standin_on_path(monkeypatch):
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for name in ("VLLM_API_KEY", "VLLM_STANDIN_LOAD_SECONDS", "VLLM_STANDIN_IGNORE_SIGTERM"):
        monkeypatch.delenv(name, raising=False)


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_start_chat_and_clean_stop():
    lines = []
    launcher = VLLMLauncher(
        "Qwen/Qwen3-4B", port=0, tensor_parallel_size=2, max_model_len=4096,
        served_model_name="qwen3-4b", extra_args=["--gpu-memory-utilization", "0.8"],
        log=lines.append, startup_timeout=60,
    )  # fmt: skip
    with launcher:
        assert launcher.running
        with hookwire.Client() as client:
            assert client.get(launcher.url + "/health").status_code == 200
        with hookwire.LLM("vllm", base_url=launcher.base_url, model="auto") as llm:
            result = llm.chat("你好哇", max_tokens=512, temperature=0.7)
            assert result.content == "Echo: 你好哇"
            assert result.model == "qwen3-4b" == llm.provider.served_model
    pid, port = launcher.pid, launcher.port
    assert launcher.process.returncode == 0  # SIGTERM was a clean shutdown
    assert gone(pid) and port_free(port)
    args = next(line for line in lines if "non-default args" in line)
    assert "'tensor_parallel_size': 2" in args and "'max_model_len': 4096" in args
    assert "'served_model_name': ['qwen3-4b']" in args and "--gpu-memory-utilization" in args
    assert launcher.log_tail[-1] == lines[-1]
    assert launcher.stop() == 0  # a second stop is harmless


def test_api_key_reaches_the_server_but_not_the_command_line():
    with VLLMLauncher("mock-model", port=0, api_key="launch-key", log=lambda _: None) as launcher:
        assert "launch-key" not in " ".join(launcher.command())
        with (
            hookwire.LLM("vllm", base_url=launcher.base_url, model="mock-model") as llm,
            pytest.raises(APIAuthenticationError),
        ):
            llm.chat("x")
        with hookwire.LLM("vllm", base_url=launcher.base_url, api_key="launch-key") as llm:
            assert llm.chat("x").content == "Echo: x"


def test_early_exit_raises_with_the_last_log_lines():
    launcher = VLLMLauncher("/no/such/model-dir", port=0, log=lambda _: None)
    with pytest.raises(VLLMLaunchError) as info:
        launcher.start()
    assert info.value.returncode == 1
    assert "does not exist" in str(info.value)
    assert any("does not exist" in line for line in info.value.log_tail)
    assert not launcher.running


def test_a_taken_port_is_refused_before_starting(mock_server_factory):
    # Another server there would answer /health and pass for a healthy vLLM.
    taken = mock_server_factory(dialect="vllm", models=("launcher-port",)).port
    launcher = VLLMLauncher("mock-model", port=taken, log=lambda _: None)
    with pytest.raises(VLLMLaunchError, match=f"port {taken} .* already in use"):
        launcher.start()
    assert launcher.process is None


def test_startup_timeout_stops_the_process(monkeypatch):
    monkeypatch.setenv("VLLM_STANDIN_LOAD_SECONDS", "60")
    clock = FakeClock()
    launcher = VLLMLauncher(
        "mock-model", port=0, startup_timeout=2.0, poll_interval=0.5, clock=clock,
        log=lambda _: None,
    )  # fmt: skip
    with pytest.raises(VLLMStartupTimeout) as info:
        launcher.start()
    assert info.value.returncode is None
    assert "not healthy" in str(info.value) and "after 2s" in str(info.value)
    assert clock.sleeps == [0.5] * 4
    assert not launcher.running and gone(launcher.pid)


def test_stop_escalates_to_sigkill(monkeypatch):
    monkeypatch.setenv("VLLM_STANDIN_LOAD_SECONDS", "60")
    monkeypatch.setenv("VLLM_STANDIN_IGNORE_SIGTERM", "1")
    lines = []
    launcher = VLLMLauncher(
        "mock-model", port=0, startup_timeout=0.5, poll_interval=0.5, clock=FakeClock(),
        stop_timeout=1.0, log=lines.append,
    )  # fmt: skip
    with pytest.raises(VLLMStartupTimeout):
        launcher.start()
    assert launcher.process.returncode == -9
    assert any("SIGKILL" in line for line in lines)


def test_missing_executable_is_named():
    launcher = VLLMLauncher("m", executable="no-such-vllm-binary")
    with pytest.raises(VLLMLaunchError, match="no-such-vllm-binary"):
        launcher.start()


@pytest.mark.parametrize(
    "kwargs",
    [{"port": 70000}, {"tensor_parallel_size": 0}, {"max_model_len": "8k"},
     {"extra_args": "--dtype half"}],
)  # fmt: skip
def test_bad_options_are_refused(kwargs):
    with pytest.raises(InvalidRequest):
        VLLMLauncher("m", **kwargs)


def test_serve_runs_until_the_process_ends():
    seen = []

    def ready(launcher):
        seen.append(launcher.base_url)
        threading.Thread(target=launcher.stop).start()  # as a Ctrl-C elsewhere would

    assert serve("mock-model", port=0, ready=ready, log=lambda _: None) == 0
    assert len(seen) == 1 and seen[0].endswith("/v1")
