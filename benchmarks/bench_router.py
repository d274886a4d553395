"""The router's overhead: the same chat calls through ``LLM([...])`` and through one ``LLM``.

One mock server process (its own CPU). The single ``LLM`` talks to it directly; the router has
two deployments on the same server (ordered: every call goes to the first, healthy one), so the
difference is the router's own work per call: choosing, counting, the latency average and the
hooks check. Sequential sync calls and 64 concurrent async calls; each candidate's best of
``--rounds`` rounds, alternated. Target: <= 1.05x (issue 12). Run::

    python benchmarks/bench_router.py [--rounds 7] [--calls 500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _servers import best_of, mock_server

import hookwire

MODEL = "mock-model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    with mock_server("--model", MODEL) as base_url:
        spec = {"provider": "openai-compatible", "base_url": base_url, "model": MODEL,
                "api_key": "sk-b"}
        single = hookwire.LLM(**spec)
        router = hookwire.LLM([{**spec, "name": "first"}, {**spec, "name": "second"}])
        assert single.chat("x").content == router.chat("x").content

        def run(llm: hookwire.LLM) -> None:
            for _ in range(args.calls):
                llm.chat("hello")

        loop = asyncio.new_event_loop()

        def arun(llm: hookwire.LLM) -> None:
            async def go() -> None:
                for _ in range(args.calls // 64 or 1):
                    await asyncio.gather(*(llm.achat("hello") for _ in range(64)))

            loop.run_until_complete(go())

        sync = best_of(args.rounds, {"router": lambda: run(router), "single": lambda: run(single)})
        concurrent = best_of(args.rounds, {"router": lambda: arun(router),
                                           "single": lambda: arun(single)})
        stats = router.provider.stats()  # type: ignore[attr-defined]
        for llm in (single, router):
            loop.run_until_complete(llm.aclose())
            llm.close()
        loop.close()

    assert stats[1]["calls"] == 0, "the ordered router sent calls to its second deployment"
    print(f"python {sys.version.split()[0]}, {args.calls} calls, best of {args.rounds}")
    async_calls = (args.calls // 64 or 1) * 64
    for name, result, n in (("sequential chat", sync, args.calls),
                            ("64 concurrent achat", concurrent, async_calls)):
        ratio = result["router"] / result["single"]
        verdict = "meets" if ratio <= 1.05 else "MISSES"
        print(f"{name:20s} router {result['router'] / n * 1e6:7.0f} µs/call  "
              f"single {result['single'] / n * 1e6:7.0f} µs/call  "
              f"ratio {ratio:.3f}x ({verdict} target <= 1.05x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
