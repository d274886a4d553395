"""The seed tutorial's local Qwen3 section (2.2), rewritten with ``hookwire.LLM("transformers")``.

The tutorial loaded ``Qwen3-4B-Thinking-2507`` with transformers, rendered the chat template
with ``enable_thinking``, called ``generate`` and split the output at token id 151668
(``</think>``). Its helper ``chat_with_local_model`` took ``temperature`` and
``max_new_tokens`` and then ignored both (it always generated 1024 tokens at 0.7). Here the
provider looks the ``</think>`` id up from the tokenizer, and every argument is honoured:
``temperature``, ``max_new_tokens`` (sent as ``max_tokens``), ``enable_thinking``, the system
prompt and the history.

    python examples/llm_local_thinking.py /root/autodl-tmp/model/Qwen/Qwen3-4B-Thinking-2507
    python examples/llm_local_thinking.py --tiny        # builds the tiny test model first
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from typing import Any

import hookwire


def chat_with_local_model(
    llm: hookwire.LLM,
    user_input: str,
    history: list[dict[str, Any]] | None = None,
    temperature: float = 0.7,
    max_new_tokens: int = 1024,
    enable_thinking: bool = True,
    system_prompt: str | None = None,
) -> dict[str, str]:
    """The tutorial's helper, returning the same ``thinking_content``/``content`` dict."""
    result = llm.chat(
        user_input,
        system=system_prompt,
        history=history or [],
        temperature=temperature,
        max_tokens=max_new_tokens,
        thinking=enable_thinking,
    )
    return {"thinking_content": result.reasoning or "", "content": result.content}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chat with a local Qwen3 thinking model")
    parser.add_argument("model", nargs="?", help="the model directory")
    parser.add_argument("--tiny", action="store_true", help="build and use the tiny test model")
    parser.add_argument("--device", default=None, help="cpu, cuda:0... (default: cuda if any)")
    parser.add_argument("--max-new-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    path = args.model
    if args.tiny:
        from hookwire.plugins.providers.tiny_model import build_tiny_model

        path = str(build_tiny_model(tempfile.mkdtemp(prefix="tiny-qwen3-")))
    if not path:
        parser.error("give a model directory, or --tiny")

    def progress(p: Any) -> None:
        print(f"[{p.elapsed_s:5.1f}s] {p.message}", file=sys.stderr)

    with hookwire.LLM("transformers", model=path, device=args.device, progress=progress) as llm:
        # the tutorial's first program: one question, thinking on
        result = llm.chat("你好，请介绍一下自己", thinking=True, max_tokens=args.max_new_tokens)
        print("thinking content:", result.reasoning or "")
        print("content:", result.content)

        print("\n==================== 单轮对话结果 ====================")
        single = chat_with_local_model(llm, "你好，请介绍一下自己", temperature=0.7,
                                       max_new_tokens=args.max_new_tokens)
        print("thinking content:", single["thinking_content"])
        print("content:", single["content"])

        print("\n==================== 多轮对话结果 ====================")
        history = [
            {"role": "user", "content": "你好"},
            {"role": "assistant", "content": "你好！我是Qwen，一个AI助手。"},
        ]
        multi = chat_with_local_model(llm, "你能帮我写一首诗吗？", history=history,
                                      temperature=0.8, max_new_tokens=args.max_new_tokens,
                                      system_prompt="You are a poet.")
        print("thinking content:", multi["thinking_content"])
        print("content:", multi["content"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except hookwire.SDKError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
