"""The seed tutorial's vLLM section (2.3), rewritten with hookwire's ``hookwire.LLM("vllm")``.

The tutorial started ``vllm serve`` by hand and called it through the ``openai`` client with a
dummy key and a hard-coded model name. Here the provider finds the served model itself
(``model="auto"``), thinking is switched with vLLM's ``chat_template_kwargs``, and the reply's
reasoning comes back apart from its content. Optionally the example starts the server too.

Against a vLLM server that is already running (default http://127.0.0.1:8000/v1)::

    vllm serve Qwen/Qwen3-4B --port 8000 &
    python examples/llm_vllm_chat.py

Start it from here (``--serve MODEL``; waits until healthy, stops it at the end)::

    python examples/llm_vllm_chat.py --serve Qwen/Qwen3-4B

Against the bundled mock server in its vllm dialect::

    python -m hookwire.mockserver --dialect vllm --port 8000 &
    python examples/llm_vllm_chat.py

Several replicas: ``VLLM_REPLICAS=http://a:8000/v1,http://b:8000/v1``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator

import hookwire


@contextlib.contextmanager
def server(model: str | None) -> Iterator[str | None]:
    """The base URL to use: a launched server's, or None for the default/environment."""
    if model is None:
        yield os.environ.get("VLLM_BASE_URL")
        return
    from hookwire.plugins.providers.vllm_launcher import VLLMLauncher

    with VLLMLauncher(model, port=0, log=lambda line: print("  [vllm]", line)) as launcher:
        yield launcher.base_url


def make_llm(base_url: str | None) -> hookwire.LLM:
    replicas = os.environ.get("VLLM_REPLICAS")
    if replicas:
        return hookwire.LLM("vllm", replicas=replicas.split(","), model="auto")
    return hookwire.LLM("vllm", base_url=base_url, model="auto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", metavar="MODEL", help="start `vllm serve MODEL` first")
    args = parser.parse_args(argv)
    with server(args.serve) as base_url, make_llm(base_url) as llm:
        # 1. the tutorial's call: one message, max_tokens=512, temperature=0.7, no stream
        reply = llm.chat("你好哇", max_tokens=512, temperature=0.7, thinking=False)
        print(f"model: {reply.model}")
        print(f"reply: {reply.content}")

        # 2. thinking on, with vLLM's own sampling extras
        result = llm.chat("为什么天空是蓝色的？", thinking=True, max_tokens=512,
                          extra_body={"top_k": 20, "min_p": 0.0})
        print(f"thinking: {result.reasoning}")
        print(f"answer: {result.content}")

        # 3. streamed, printed as it arrives
        print("stream: ", end="")
        with llm.stream("讲一个短故事", max_tokens=128, thinking=False) as stream:
            for piece in stream.text():
                print(piece, end="", flush=True)
        print(f"\nusage: {stream.result().usage}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except hookwire.SDKError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
