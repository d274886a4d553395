"""How cost grows with work: 1,000 concurrent chat streams, hookwire against ``openai.AsyncOpenAI``.

One mock server process (``python -m hookwire.mockserver``, uvicorn, its own process, so its CPU
is never charged to a client) serves every stream: ``--streams`` (1,000) concurrent chat streams
of ``--chunks`` (200) content chunks each (``X-Mock-Reply-Tokens``), all opened at once with
``asyncio.gather`` and read to the end. Contestants:

- ``hookwire.LLM("openai-compatible", ...).astream`` on the ``aiohttp``, ``httpx``,
  ``pyreqwest`` and ``native`` transports (``max_connections=`` the stream count, as openai's
  pool allows 1,000);
- ``openai.AsyncOpenAI(...).chat.completions.create(stream=True)``.

Each contestant runs in a fresh interpreter (``--worker``), so one's heap, pools and imports never
weigh on another's figures, and every measurement is taken the same way for all of them:

- CPU seconds per stream: the worker's process CPU time (user + system, every thread: the
  Rust runtime's included) over the 1,000 streams, divided by 1,000;
- peak memory per stream: the peak RSS during the run (``ru_maxrss``) minus the RSS before it
  (after a warm-up of a few streams and a ``gc.collect()``), divided by 1,000. RSS, not
  tracemalloc: tracemalloc does not see memory a library allocates outside Python's allocator
  (pyreqwest's Rust buffers), and it would slow every contestant by different amounts.

The contestants alternate over ``--rounds`` rounds; printed: each one's median and range per
stream, and the ratios of the medians to openai's (target <= 0.5x each, issue 12).

Usage: ``python benchmarks/bench_streams.py [--rounds 3] [--streams 1000] [--chunks 200]
[--only aiohttp --only openai ...]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from _servers import mock_server

MODEL = "mock-model"
PROMPT = "stream a reply"
KEY = "sk-bench"  # pragma: allowlist secret
CONTESTANTS = ("aiohttp", "httpx", "pyreqwest", "native", "openai")
WARMUP = 20
#: The same for every contestant: 1,000 connects at once on a loaded 2-core machine can take
#: longer than the clients' default 5 s connect timeout.
CONNECT, READ = 60.0, 600.0


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


async def _hookwire_streams(name: str, url: str, n: int, chunks: int) -> dict[str, Any]:
    import hookwire
    from hookwire.llm import StreamTimeout

    if name == "pyreqwest" and "pyreqwest" not in hookwire.get_plugin_host().transports():
        from hookwire.plugins.transports import pyreqwest_transport  # an older editable install

        hookwire.get_plugin_host().register(pyreqwest_transport, "transport-pyreqwest")
    headers = {"X-Mock-Reply-Tokens": str(chunks)}
    llm = hookwire.LLM(
        "openai-compatible", base_url=url, model=MODEL, api_key=KEY, transport=name,
        max_connections=max(n, WARMUP),
        stream_timeout=StreamTimeout(connect=CONNECT, first_token=READ, idle=READ),
    )  # fmt: skip

    async def one() -> int:
        pieces = 0
        async for delta in llm.astream(PROMPT, extra_headers=headers):
            pieces += bool(delta.content)
        return pieces

    try:
        return await _measure(one, n, chunks)
    finally:
        await llm.aclose()


async def _openai_streams(url: str, n: int, chunks: int) -> dict[str, Any]:
    import httpx
    import openai

    timeout = httpx.Timeout(READ, connect=CONNECT)
    client = openai.AsyncOpenAI(base_url=url, api_key=KEY, timeout=timeout)
    headers = {"X-Mock-Reply-Tokens": str(chunks)}
    messages: Any = [{"role": "user", "content": PROMPT}]

    async def one() -> int:
        pieces = 0
        stream = await client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, extra_headers=headers
        )
        async for chunk in stream:
            pieces += bool(chunk.choices and chunk.choices[0].delta.content)
        return pieces

    try:
        return await _measure(one, n, chunks)
    finally:
        await client.close()


async def _measure(one: Any, n: int, chunks: int) -> dict[str, Any]:
    warm = await asyncio.gather(*(one() for _ in range(WARMUP)))
    assert set(warm) == {chunks}, f"expected {chunks} content chunks a stream, got {set(warm)}"
    gc.collect()
    before = _rss()
    wall, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(one() for _ in range(n)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _peak_rss()
    assert set(counts) == {chunks}, set(counts)
    return {"cpu_s": cpu / n, "peak_bytes": max(peak - before, 0) / n, "wall_s": wall}


def worker(name: str, url: str, n: int, chunks: int) -> None:
    """One contestant in this (fresh) interpreter; prints its figures as one JSON line."""
    if name == "openai":
        result = asyncio.run(_openai_streams(url, n, chunks))
    else:
        result = asyncio.run(_hookwire_streams(name, url, n, chunks))
    print(json.dumps(result))


def _run_worker(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, os.path.abspath(__file__), "--worker", name, "--url", url,
        "--streams", str(args.streams), "--chunks", str(args.chunks),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name} worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _available(name: str) -> bool:
    import importlib.util

    module = {
        "openai": "openai",
        "aiohttp": "aiohttp",
        "pyreqwest": "pyreqwest",
        "native": "httptools",
    }.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--only", choices=CONTESTANTS, action="append")
    parser.add_argument("--worker", choices=CONTESTANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.url, args.streams, args.chunks)
        return
    names = [n for n in (args.only or CONTESTANTS) if _available(n)]
    if "openai" not in names:
        names.append("openai")  # the peer every ratio is taken against
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with mock_server("--dialect", "openai") as url:
        for i in range(args.rounds):
            for name in names if i % 2 == 0 else names[::-1]:
                results[name].append(_run_worker(name, url, args))
    load = os.getloadavg()[0]
    print(
        f"{args.streams} concurrent streams x {args.chunks} chunks, {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, 1-min load {load:.2f} at the end"
    )
    med = {n: _medians(rs) for n, rs in results.items()}
    for name, runs in results.items():
        cpu = [r["cpu_s"] * 1e3 for r in runs]
        mem = [r["peak_bytes"] / 1024 for r in runs]
        wall = [r["wall_s"] for r in runs]
        label = "openai.AsyncOpenAI" if name == "openai" else f"LLM.astream ({name})"
        line = (
            f"{label:24s} CPU/stream {statistics.median(cpu):6.2f} ms "
            f"[{min(cpu):.2f}-{max(cpu):.2f}]  peak RSS/stream {statistics.median(mem):6.1f} KiB "
            f"[{min(mem):.1f}-{max(mem):.1f}]  wall {statistics.median(wall):.2f} s"
        )
        if name != "openai":
            cpu_ratio = med[name][0] / med["openai"][0]
            mem_ratio = med[name][1] / med["openai"][1]
            verdict = "meets" if max(cpu_ratio, mem_ratio) <= 0.5 else "MISSES"
            line += f"  -> CPU {cpu_ratio:.2f}x, memory {mem_ratio:.2f}x ({verdict} <= 0.5x)"
        print(line)


def _medians(runs: list[dict[str, Any]]) -> tuple[float, float]:
    return (
        statistics.median(r["cpu_s"] for r in runs),
        statistics.median(r["peak_bytes"] for r in runs),
    )


if __name__ == "__main__":
    main()
