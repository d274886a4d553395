"""The seed's vLLM and local-model programs (examples/llm_vllm_chat.py, llm_local_thinking.py).

The vLLM example runs as a program against the mock server's vllm dialect, and once more with
``--serve`` through the stand-in ``vllm`` executable; the journal proves what reached the wire.
The local example's helper runs on the tiny model, where the keywords ``model.generate``
received and the prompt the template rendered prove every argument was honoured (the seed's
helper ignored ``temperature`` and ``max_new_tokens``); the program itself runs once with
``--tiny``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hookwire

ROOT = Path(__file__).resolve().parents[2]
VLLM_EXAMPLE = ROOT / "examples" / "llm_vllm_chat.py"
LOCAL_EXAMPLE = ROOT / "examples" / "llm_local_thinking.py"
BIN = ROOT / "tests" / "fixtures" / "bin"
CHAT = "/v1/chat/completions"


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "HOOKWIRE_CONFIG": os.devnull, "PYTHONIOENCODING": "utf-8", **env}
    full.pop("VLLM_API_KEY", None)
    return subprocess.run([sys.executable, str(script), *args], env=full, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vllm_example_against_the_mock(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="vllm", models=("example-vllm",))
    server.reset()
    done = run(VLLM_EXAMPLE, VLLM_BASE_URL=server.openai_base_url)
    assert done.returncode == 0, done.stderr
    assert server.journal.count("/v1/models") == 1  # "auto" was looked up once
    with hookwire.Client() as client:
        served = client.get(server.openai_base_url + "/models").json()["data"][0]["id"]
    out = done.stdout
    assert f"model: {served}" in out
    assert "reply: Echo: 你好哇" in out
    assert "thinking: Thinking about: 为什么天空是蓝色的？" in out
    assert "answer: Echo: 为什么天空是蓝色的？" in out
    assert "stream: Echo: 讲一个短故事" in out and "usage: Usage(" in out
    first, second, third = [e.body for e in server.journal.entries(CHAT)]
    assert (first["model"], first["max_tokens"], first["temperature"]) == (served, 512, 0.7)
    assert first["chat_template_kwargs"] == {"enable_thinking": False}
    assert second["chat_template_kwargs"] == {"enable_thinking": True}
    assert (second["top_k"], second["min_p"]) == (20, 0.0)
    assert third["stream"] is True and third["max_tokens"] == 128


def test_vllm_example_starts_and_stops_the_server() -> None:
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    done = run(VLLM_EXAMPLE, "--serve", "Qwen/Qwen3-4B", PATH=path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "model: Qwen/Qwen3-4B" in done.stdout
    assert "[vllm]" in done.stdout and "Shutting down" in done.stdout
    assert "reply: Echo: 你好哇" in done.stdout


def test_vllm_example_reports_an_unreachable_server() -> None:
    done = run(VLLM_EXAMPLE, VLLM_BASE_URL="http://127.0.0.1:9/v1")
    assert done.returncode == 2
    assert done.stderr.startswith("error:")


@pytest.mark.local
def test_local_helper_honours_every_argument(tiny_engine: Any, monkeypatch: Any) -> None:
    from tests.contract.test_llm_contract_local import CONTENT, ScriptedReply

    example = load(LOCAL_EXAMPLE)
    calls = []
    real = tiny_engine.model.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append({**kwargs, "prompt": tiny_engine.tokenizer.decode(kwargs["input_ids"][0])})
        return real(*args, **kwargs)

    monkeypatch.setattr(tiny_engine.model, "generate", spy)
    llm = hookwire.LLM("transformers", engine=tiny_engine, model="tiny",
                  logits_processor=[ScriptedReply(tiny_engine.tokenizer)])  # fmt: skip
    history = [{"role": "user", "content": "你好"},
               {"role": "assistant", "content": "你好！我是Qwen，一个AI助手。"}]  # fmt: skip
    out = example.chat_with_local_model(
        llm, "你能帮我写一首诗吗？", history=history, temperature=0.8, max_new_tokens=40,
        enable_thinking=False, system_prompt="You are a poet.",
    )  # fmt: skip
    assert out == {"thinking_content": "", "content": CONTENT}
    kw = calls[-1]
    assert (kw["do_sample"], kw["temperature"], kw["max_new_tokens"]) == (True, 0.8, 40)
    prompt = kw["prompt"]
    assert prompt.endswith("<think>\n\n</think>\n\n")  # enable_thinking=False reached it
    order = [prompt.index(t) for t in ("You are a poet.", "你好！我是Qwen", "一首诗")]
    assert order == sorted(order)

    thinking = example.chat_with_local_model(llm, "你好，请介绍一下自己", temperature=0,
                                             max_new_tokens=64)  # fmt: skip
    assert thinking["thinking_content"] and thinking["content"] == CONTENT
    assert calls[-1]["do_sample"] is False and calls[-1]["max_new_tokens"] == 64
    assert calls[-1]["prompt"].endswith("<think>\n")
    llm.close()


@pytest.mark.local
def test_local_example_runs_as_a_program_on_the_tiny_model() -> None:
    pytest.importorskip("torch")
    done = run(LOCAL_EXAMPLE, "--tiny", "--device", "cpu", "--max-new-tokens", "8")
    assert done.returncode == 0, done.stderr
    for heading in ("thinking content:", "单轮对话结果", "多轮对话结果", "content:"):
        assert heading in done.stdout
    assert "model ready on cpu" in done.stderr


def test_local_example_names_a_missing_model_directory(tmp_path: Path) -> None:
    done = run(LOCAL_EXAMPLE, str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "no model directory" in done.stderr
