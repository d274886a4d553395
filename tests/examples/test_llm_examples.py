"""Run examples/llm_cloud_chat.py as a program against the mock server's siliconflow dialect.

The server requires the key, so the run proves the key is sent; its journal proves that every
argument of the tutorial's calls reached the wire (the original helper dropped its system prompt).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm_cloud_chat.py"
KEY = "sk-example-fake-42"


def run_example(server: Any, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SILICONFLOW_BASE_URL": server.openai_base_url,
            "HOOKWIRE_CONFIG": os.devnull, "PYTHONIOENCODING": "utf-8", **env}
    return subprocess.run([sys.executable, str(EXAMPLE)], env=full, capture_output=True,
                          text=True, timeout=60, check=False)


def test_cloud_chat_example_against_the_mock(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="siliconflow", api_key=KEY)
    server.reset()
    done = run_example(server, SILICONFLOW_API_KEY=KEY)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "reply: Echo: 你好！" in out
    assert "helper: Echo: 嘿bro" in out
    assert "conversation: Echo: 我叫什么名字？ (4 messages)" in out
    assert "answer: Echo: 为什么天空是蓝色的？" in out
    assert "thinking: Thinking about:" in out
    bodies = [e.body for e in server.journal.entries() if e.path == "/v1/chat/completions"]
    first, helper, _, second_turn, streamed = bodies
    assert first["max_tokens"] == 1024 and first["temperature"] == 0.7
    assert first["model"] == "Qwen/Qwen3-8B"
    assert helper["messages"][0] == {"role": "system", "content": "你是一个说唱歌手"}
    contents = [m["content"] for m in helper["messages"][1:]]
    assert contents == ["我们在聊音乐", "好的，聊音乐！", "嘿bro"]
    assert helper["temperature"] == 0.9 and helper["max_tokens"] == 256
    assert [m["role"] for m in second_turn["messages"]] == [
        "system", "user", "assistant", "user"]
    assert streamed["stream"] is True and streamed["enable_thinking"] is True
    assert streamed["thinking_budget"] == 64


def test_missing_key_is_a_clear_message(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="siliconflow", api_key=KEY)
    env = {k: v for k, v in os.environ.items() if k != "SILICONFLOW_API_KEY"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False,
        env={**env, "SILICONFLOW_BASE_URL": server.openai_base_url, "HOOKWIRE_CONFIG": os.devnull},
    )
    assert done.returncode == 2
    assert "set SILICONFLOW_API_KEY or pass api_key=" in done.stderr
