"""Embeddings throughput: ``llm.embed`` vs the official ``openai`` client, same mock, one run.

One mock server (``python -m hookwire.mockserver --model text-embedding-3-small``, its own
process, so the server's CPU is not charged to either client). Two workloads, each reported as
the ratio of hookwire's time to openai's (lower is better; target <= 0.6x, issue 11):

* bulk: ``--texts`` texts embedded ``--batch`` at a time: ``llm.embed(texts, batch_size=...)``
  against the loop an openai user writes (one ``embeddings.create`` per batch, in order);
* single: ``--calls`` one-text calls in a row (the per-request overhead alone).

Both clients ask for base64 vectors (openai's default) and return lists of floats; the script
first checks that they return the same vectors. Each workload alternates the clients over
``--rounds`` rounds and keeps each one's best round. Run::

    python benchmarks/bench_embed.py [--rounds 5] [--texts 2048] [--batch 128] [--calls 200]
"""

from __future__ import annotations

import argparse
import sys

from _servers import best_of, mock_server

import hookwire

MODEL = "text-embedding-3-small"






def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--texts", type=int, default=2048, help="texts in the bulk workload")
    parser.add_argument("--batch", type=int, default=128, help="texts a request (bulk)")
    parser.add_argument("--calls", type=int, default=200, help="one-text calls (single)")
    parser.add_argument("--dimensions", type=int, default=256)
    args = parser.parse_args()

    import openai

    line = "the quick brown fox jumps over the lazy dog"
    texts = [f"document {i}: {line}" for i in range(args.texts)]
    dims = args.dimensions
    with mock_server("--model", MODEL) as base_url:
        llm = hookwire.LLM("openai-compatible", base_url=base_url, model=MODEL, api_key="sk-b")
        client = openai.OpenAI(base_url=base_url, api_key="sk-b")

        def openai_bulk() -> list[list[float]]:
            vectors: list[list[float]] = []
            for start in range(0, len(texts), args.batch):
                reply = client.embeddings.create(
                    model=MODEL, input=texts[start : start + args.batch], dimensions=dims
                )
                vectors.extend(item.embedding for item in reply.data)
            return vectors

        def sdk_bulk() -> list[list[float]]:
            return llm.embed(texts, batch_size=args.batch, dimensions=dims).vectors

        assert sdk_bulk() == openai_bulk(), "the two clients disagree on the vectors"

        def sdk_single() -> None:
            for i in range(args.calls):
                llm.embed(texts[i % len(texts)], dimensions=dims)

        def openai_single() -> None:
            for i in range(args.calls):
                client.embeddings.create(model=MODEL, input=texts[i % len(texts)], dimensions=dims)

        bulk = best_of(args.rounds, {"hookwire": sdk_bulk, "openai": openai_bulk})
        single = best_of(args.rounds, {"hookwire": sdk_single, "openai": openai_single})
        llm.close()
        client.close()

    print(f"python {sys.version.split()[0]}, openai {openai.__version__}, "
          f"{args.texts} texts x {dims} dimensions, batches of {args.batch}")  # fmt: skip
    for name, result, unit, n in (
        ("bulk embed", bulk, "texts/s", args.texts),
        ("single-text calls", single, "calls/s", args.calls),
    ):
        ratio = result["hookwire"] / result["openai"]
        verdict = "meets" if ratio <= 0.6 else "MISSES"
        print(f"{name:18s} hookwire {n / result['hookwire']:9.0f} {unit}  "
              f"openai {n / result['openai']:9.0f} {unit}  "
              f"time ratio {ratio:.2f}x ({verdict} target <= 0.6x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
