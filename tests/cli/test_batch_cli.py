"""``hookwire batch``: the local engine end to end, the openai-batch engine through the real
console script, the vllm command line, the progress bar, and refused input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from hookwire.cli import _batch
from hookwire.cli._errors import CLIError
from tests.cli.conftest import Run

CHAT = "/v1/chat/completions"


def write_input(path: Path, n: int, **extra: Any) -> list[str]:
    ids = [f"id-{i}" for i in range(n)]
    with open(path, "w") as f:
        for i, ident in enumerate(ids):
            body = {"model": "mock-model", "messages": [{"role": "user", "content": f"q{i}"}],
                    **extra}
            f.write(json.dumps({"custom_id": ident, "method": "POST", "url": CHAT,
                                "body": body}) + "\n")
    return ids


def read_output(path: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in path.read_text().splitlines()]


@pytest.mark.parametrize("engine", ["local", "openai-batch"])
def test_batch_writes_one_output_line_per_input_in_order(
    hookwire: Run, mock_server: Any, tmp_path: Path, engine: str
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_input(src, 30)
    r = hookwire("batch", str(src), str(out), "--engine", engine, "-p", "openai-compatible",
                 "--base-url", mock_server.openai_base_url, "--poll", "0.02", "-j", "8")
    assert r.returncode == 0, r.stderr
    lines = read_output(out)
    assert [line["custom_id"] for line in lines] == ids
    assert lines[3]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: q3"
    assert "30 lines: 30 succeeded, 0 failed" in r.stderr
    assert not (tmp_path / "out.jsonl.partial").exists()
    assert r.stdout == ""


def test_model_flag_applies_to_every_line_locally(
    hookwire: Run, mock_server: Any, tmp_path: Path
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, 3, max_tokens=5)
    with open(src, "a") as f:
        f.write("\n")  # blank lines are skipped
    r = hookwire("batch", str(src), str(out), "-p", "openai-compatible", "--base-url",
                 mock_server.openai_base_url, "-m", "no-such-model")
    assert r.returncode == 0, r.stderr
    assert {line["response"]["status_code"] for line in read_output(out)} == {404}
    assert "3 lines: 0 succeeded, 3 failed" in r.stderr


def test_bad_input_is_an_error_naming_the_line(hookwire: Run, tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, 2)
    with open(src, "a") as f:
        f.write("{oops\n")
    r = hookwire("batch", str(src), str(out), "-p", "mock")
    assert r.returncode == 2 and "line 3: not JSON" in r.stderr and not out.exists()
    src.write_text("[1]\n")
    with pytest.raises(CLIError, match="line 1: expected a JSON object"):
        _batch.read_input(src)
    with pytest.raises(CLIError, match="cannot read"):
        _batch.read_input(tmp_path / "missing.jsonl")
    src.write_text("\n")
    with pytest.raises(CLIError, match="holds no request lines"):
        _batch.read_input(src)


def test_a_bad_request_line_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    from hookwire.errors import InvalidRequest
    from hookwire.llm import LLM

    line = {"custom_id": "a", "method": "POST", "url": "/v1/moderations", "body": {}}
    with LLM("mock") as llm, pytest.raises(InvalidRequest, match="'url' must be one of"):
        _batch.run_local(llm, [line], tmp_path / "out.jsonl", concurrency=1, retries=0,
                         resume=True)
    assert not (tmp_path / "out.jsonl").exists()


def test_an_unknown_engine_is_a_usage_error(hookwire: Run, tmp_path: Path) -> None:
    r = hookwire("batch", "in.jsonl", "out.jsonl", "--engine", "spark")
    assert r.returncode == 2 and "--engine takes local, openai-batch, vllm" in r.stderr


def test_the_vllm_command_line() -> None:
    assert _batch.vllm_command(Path("in.jsonl"), Path("out.jsonl"), "Qwen/Qwen3-8B") == [
        "vllm", "run-batch", "-i", "in.jsonl", "-o", "out.jsonl", "--model", "Qwen/Qwen3-8B"]


def test_without_vllm_the_engine_says_which_command_to_run(hookwire: Run, tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    r = hookwire("batch", "in.jsonl", "out.jsonl", "--engine", "vllm", "-m", "Qwen/Qwen3-8B")
    assert r.returncode == 3
    assert "run there: vllm run-batch -i in.jsonl -o out.jsonl --model Qwen/Qwen3-8B" in r.stderr
    with pytest.raises(CLIError, match="--engine vllm needs --model"):
        _batch.run_vllm(Path("in.jsonl"), Path("out.jsonl"), None)


def test_the_progress_bar_without_a_terminal_prints_a_line_per_tenth() -> None:
    stream = io.StringIO()
    bar = _batch.Bar(stream)
    for done in range(1, 101):
        bar(done, done // 50, 100)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("[" + "#" * 30 + "] 100/100 (2 failed")


def test_output_lines_follow_input_order_and_name_a_missing_line() -> None:
    requests = [{"custom_id": "a"}, {"custom_id": "b"}]
    found = {"b": {"custom_id": "b", "response": {"status_code": 200}}}
    lines = _batch.in_input_order(requests, found, "gone")
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert lines[0]["error"] == {"code": "missing_output", "message": "gone"}
