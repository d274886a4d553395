"""The seed tutorial's cloud LLM section, rewritten with hookwire's ``hookwire.LLM``.

The tutorial called SiliconFlow through the ``openai`` client and wrapped it in
``chat_with_model(user_input, history, temperature, system_prompt)`` -- a helper that replaced
whatever system prompt it was given with a fixed one and dropped nothing else only by luck.
Here every argument reaches the request, and the history lives in a ``Conversation``.

Run it against SiliconFlow::

    export SILICONFLOW_API_KEY=sk-...
    python examples/llm_cloud_chat.py

or against the bundled mock server (no key needed to reach it, any key is accepted)::

    python -m hookwire.mockserver --dialect siliconflow --port 8080 &
    SILICONFLOW_BASE_URL=http://127.0.0.1:8080/v1 SILICONFLOW_API_KEY=sk-x \\
        python examples/llm_cloud_chat.py
"""

from __future__ import annotations

import os
import sys
from typing import Any

import hookwire

MODEL = os.environ.get("SILICONFLOW_MODEL", "Qwen/Qwen3-8B")


def make_llm() -> hookwire.LLM:
    """SiliconFlow, with the base URL overridable (``SILICONFLOW_BASE_URL``) for a test server.

    The key comes from ``SILICONFLOW_API_KEY`` (or the hookwire config file); a missing key is
    a ``MissingAPIKeyError`` that says which variable to set.
    """
    return hookwire.LLM("siliconflow", model=MODEL, base_url=os.environ.get("SILICONFLOW_BASE_URL"))


def chat_with_model(
    llm: hookwire.LLM,
    user_input: str,
    history: list[dict[str, Any]] | None = None,
    temperature: float = 0.7,
    system_prompt: str | None = None,
    max_tokens: int | None = None,
) -> str:
    """The tutorial's helper: system prompt first, then the history, then the new input.

    Unlike the original, ``system_prompt`` is sent as given (the original always sent a fixed
    persona) and ``max_tokens`` is honoured.
    """
    result = llm.chat(
        user_input,
        system=system_prompt,
        history=history or [],
        temperature=temperature,
        max_tokens=max_tokens,
    )
    return result.content


def main() -> int:
    with make_llm() as llm:
        # 1. the tutorial's first call: one message, max_tokens=1024, temperature=0.7
        reply = llm.chat("你好！", max_tokens=1024, temperature=0.7)
        print(f"reply: {reply.content}")

        # 2. the helper, with a persona and an earlier exchange
        history = [
            {"role": "user", "content": "我们在聊音乐"},
            {"role": "assistant", "content": "好的，聊音乐！"},
        ]
        print("helper:", chat_with_model(llm, "嘿bro", history=history, temperature=0.9,
                                          system_prompt="你是一个说唱歌手", max_tokens=256))

        # 3. a conversation keeps its own history across turns
        conv = llm.conversation(system="你是一个简洁的助手", temperature=0.3)
        conv.send("我叫小明")
        print("conversation:", conv.send("我叫什么名字？").content, f"({len(conv)} messages)")

        # 4. streaming with thinking: reasoning and answer arrive apart
        stream = llm.stream("为什么天空是蓝色的？", thinking=True, thinking_budget=64)
        reasoning, content = [], []
        for delta in stream:
            reasoning.append(delta.reasoning)
            content.append(delta.content)
        usage = stream.result().usage
        print("thinking:", "".join(reasoning))
        print("answer:", "".join(content))
        print("usage:", usage.total_tokens if usage else "not reported")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except hookwire.MissingAPIKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
