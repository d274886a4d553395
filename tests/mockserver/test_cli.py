"""`python -m hookwire.mockserver`: argument parsing, and a real process that shuts down cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from hookwire.mockserver.cli import config_from_args
from tests._serve_process import free_port, wait_until_serving


def test_parse_all_options(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text("[[rule]]\nstatus = 500\n")
    cfg = config_from_args(
        [
            "--dialect",
            "vllm",
            "--api-key",
            "k",
            "--workers",
            "2",
            "--latency",
            "0.2,0.01",
            "--inter-token",
            "0.03",
            "--model",
            "a",
            "--model",
            "b/c",
            "--scenario",
            str(scenario),
            "--port",
            "9999",
        ]
    )
    assert (cfg.dialect, cfg.api_key, cfg.workers, cfg.ttft, cfg.inter_token_delay) == (
        "vllm",
        "k",
        2,
        0.2,
        0.03,
    )
    assert cfg.models == ("a", "b/c") and cfg.host == "127.0.0.1" and cfg.port == 9999
    assert not cfg.only_models
    assert config_from_args(["--model", "a", "--only-models"]).only_models


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--dialect", "x"], "dialect"),
        (["--latency", "a,b"], "latency"),
        (["--workers", "0"], "workers"),
        (["--scenario", "/nonexistent.toml"], "nonexistent"),
        (["--only-models"], "only_models"),
    ],
)
def test_bad_arguments_exit_2_with_message(argv, needle, capsys):
    with pytest.raises(SystemExit) as info:
        config_from_args(argv)
    assert info.value.code == 2 and needle in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_process_serves_and_stops_on_signal(sig):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookwire.mockserver", "--port", str(port), "--dialect", "vllm"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        r = wait_until_serving(proc, f"http://127.0.0.1:{port}/v1/models")
        assert "Qwen/Qwen3-4B" in r.text
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert b"vllm dialect on http://127.0.0.1" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
