"""Batch jobs: ``await llm.abatch(prompts, concurrency=64)`` vs a hand-written bounded gather.

One mock server process (its own CPU). 2,000 chat prompts per round, 64 in flight:

* hookwire: ``await llm.abatch(prompts, concurrency=64)`` (ids, per-item retries and error
  capture, results in input order, the OpenAI output line of each item);
* openai: what an openai-python user writes by hand: ``openai.AsyncOpenAI``, an
  ``asyncio.Semaphore(64)`` around ``chat.completions.create``, ``asyncio.gather`` of one task
  per prompt (no retries beyond the client's own, no error capture).

Each round builds its client inside its own event loop and closes it, for both. Reported: wall
time per round (best of ``--rounds``, alternated) and the ratio hookwire/openai (lower is
better; target <= 0.7x, issue 12). Informational rows: the sync ``llm.batch`` (a thread pool on
the sync client) and ``abatch`` with a checkpoint file (a line written per item). Run::

    python benchmarks/bench_batch.py [--rounds 3] [--prompts 2000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

from _servers import best_of, mock_server

import hookwire

MODEL = "mock-model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--transport", default=None, help="async transport (default: hookwire's)")
    args = parser.parse_args()

    import openai

    prompts = [f"prompt number {i}" for i in range(args.prompts)]
    options = {"transport": args.transport} if args.transport else {}
    key = "sk-bench"  # pragma: allowlist secret
    with mock_server("--dialect", "openai") as base_url:

        def make() -> hookwire.LLM:
            return hookwire.LLM("openai-compatible", base_url=base_url, model=MODEL,
                                api_key=key, max_connections=args.concurrency, **options)

        async def sdk(checkpoint: str | None = None) -> list[str]:
            async with make() as llm:
                result = await llm.abatch(prompts, concurrency=args.concurrency,
                                          checkpoint=checkpoint, resume=False)
            assert not result.failed, result.failed[0].error
            return [item.result.content for item in result]  # type: ignore[union-attr]

        async def by_hand() -> list[str]:
            client = openai.AsyncOpenAI(base_url=base_url, api_key=key)
            gate = asyncio.Semaphore(args.concurrency)

            async def one(prompt: str) -> str:
                async with gate:
                    reply = await client.chat.completions.create(
                        model=MODEL, messages=[{"role": "user", "content": prompt}])
                return reply.choices[0].message.content or ""

            try:
                return await asyncio.gather(*(one(p) for p in prompts))
            finally:
                await client.close()

        def sync_batch() -> None:
            with make() as llm:
                result = llm.batch(prompts, concurrency=args.concurrency)
            assert not result.failed

        # sanity: the same answers, in the same order
        assert asyncio.run(sdk()) == asyncio.run(by_hand())
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "job.jsonl")
            timings = best_of(args.rounds, {
                "hookwire": lambda: asyncio.run(sdk()),
                "openai": lambda: asyncio.run(by_hand()),
                "sync": sync_batch,
                "checkpoint": lambda: asyncio.run(sdk(path)),
            })
        with make() as llm:
            llm.chat("which transport?")
            transport = llm.provider.async_client.transport_name

    print(f"python {sys.version.split()[0]}, openai {openai.__version__}, hookwire async "
          f"transport {transport}, {args.prompts} prompts, concurrency {args.concurrency}")
    ratio = timings["hookwire"] / timings["openai"]
    verdict = "meets" if ratio <= 0.7 else "MISSES"
    print(f"abatch                hookwire {timings['hookwire']:7.3f} s  openai gather "
          f"{timings['openai']:7.3f} s  ratio {ratio:.2f}x ({verdict} target <= 0.7x)")
    for name, label in (("sync", "batch (sync, threads)"), ("checkpoint", "abatch + checkpoint")):
        print(f"{label:21s} hookwire {timings[name]:7.3f} s  "
              f"ratio {timings[name] / timings['openai']:.2f}x (informational)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
