"""LLM client cost: ``hookwire.LLM`` vs the official ``openai`` client, same server, one run.

Both clients talk to one mock server (``python -m hookwire.mockserver``, uvicorn in its own
process, so
the server's CPU is not charged to the client). Two measurements, each as a ratio of the SDK's
time to openai's (lower is better; targets from issue 4):

* non-stream chat round trip  (target <= 0.6x)
* a 2,000-chunk stream consumed to the end (``X-Mock-Reply-Tokens: 2000``; target <= 0.5x)

Each measurement alternates the clients over several rounds and keeps each one's best round,
so a hiccup on the shared 2 cores does not decide the ratio. Run::

    python benchmarks/bench_llm.py [--rounds 5] [--calls 200] [--transport requests]
"""

from __future__ import annotations

import argparse
import os
import sys

from _servers import best_of, mock_server

import hookwire

MODEL = "mock-model"
PROMPT = "benchmark this round trip"





def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200, help="chat round trips per round")
    parser.add_argument("--streams", type=int, default=5, help="2,000-chunk streams per round")
    parser.add_argument(
        "--transport", default=None, help="transport name (default: hookwire's default)"
    )
    args = parser.parse_args()

    import openai

    with mock_server("--dialect", "openai") as base_url:
        options = {"transport": args.transport} if args.transport else {}
        llm = hookwire.LLM("openai-compatible", base_url=base_url, model=MODEL, api_key="sk-bench",
                      **options)
        client = openai.OpenAI(base_url=base_url, api_key="sk-bench")
        messages = [{"role": "user", "content": PROMPT}]
        tokens = {"X-Mock-Reply-Tokens": "2000"}

        # sanity: both see the same reply, and the stream really has 2,000 pieces
        expected = client.chat.completions.create(model=MODEL, messages=messages)
        assert llm.chat(PROMPT).content == expected.choices[0].message.content
        pieces = sum(1 for d in llm.stream(PROMPT, extra_headers=tokens) if d.content)
        assert pieces == 2000, pieces

        def sdk_chat() -> None:
            for _ in range(args.calls):
                llm.chat(PROMPT)

        def openai_chat() -> None:
            for _ in range(args.calls):
                client.chat.completions.create(model=MODEL, messages=messages)

        def sdk_stream() -> None:
            for _ in range(args.streams):
                for _delta in llm.stream(PROMPT, extra_headers=tokens):
                    pass

        def openai_stream() -> None:
            for _ in range(args.streams):
                stream = client.chat.completions.create(
                    model=MODEL, messages=messages, stream=True,
                    stream_options={"include_usage": True}, extra_headers=tokens)
                for _chunk in stream:
                    pass

        chat = best_of(args.rounds, {"hookwire": sdk_chat, "openai": openai_chat})
        stream = best_of(args.rounds, {"hookwire": sdk_stream, "openai": openai_stream})
        llm.close()
        client.close()

    transport = llm.provider.client.transport_name
    print(f"python {sys.version.split()[0]}, openai {openai.__version__}, "
          f"hookwire transport {transport}, pid {os.getpid()}")
    for name, result, n, target in (("chat round trip", chat, args.calls, 0.6),
                                    ("2,000-chunk stream", stream, args.streams, 0.5)):
        per_sdk = result["hookwire"] / n * 1e3
        per_openai = result["openai"] / n * 1e3
        ratio = result["hookwire"] / result["openai"]
        verdict = "meets" if ratio <= target else "MISSES"
        print(f"{name:20s} hookwire {per_sdk:8.3f} ms  openai {per_openai:8.3f} ms  "
              f"ratio {ratio:.2f}x ({verdict} target <= {target}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
