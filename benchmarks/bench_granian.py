"""The mock under granian next to the mock under uvicorn, measured in one run on loopback.

    python benchmarks/bench_granian.py [--duration 2] [--rounds 2] [--workers 1]

Four servers, each in its own process and all up at once, measured in alternating rounds
(best kept): the mock (`hookwire mock serve`) under uvicorn and under granian
(`--server granian`), and the bare ASGI hello-world (`benchmarks/bare_asgi.py`) under each, the
ceiling of either server. Load comes from `wrk` when installed, else the bounded aiohttp loader
of `bench_mockserver.py` (the table says which). Rows: req/s on GET /get and on non-stream
chat, chunks/s on a 1,000-chunk stream. A second table gives each server's CPU time per
request (its process and its workers, from psutil, over the same runs): on a shared machine
that is the steadier figure, since a busy neighbour lowers req/s but not the work per request.
Needs `pip install 'hookwire[granian]'` (and psutil, in the dev extra).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _servers import free_port, wait_listening  # noqa: E402 - sibling script modules
from bench_mockserver import (  # noqa: E402
    CHAT,
    STREAM,
    STREAM_CHUNKS,
    aiohttp_load,
    uvicorn_flags,
    wrk,
)

SERVERS = ("mock/uvicorn", "mock/granian", "bare/uvicorn", "bare/granian")


def commands(workers: int) -> dict[str, tuple[list[str], int]]:
    """Each server's command line and port."""
    ports = {name: free_port() for name in SERVERS}
    mock = [sys.executable, "-m", "hookwire.mockserver", "--workers", str(workers)]
    bare_uvicorn = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--app-dir", str(HERE)]
    bare_granian = [sys.executable, "-m", "granian", "--interface", "asgi", "--http", "1"]
    bare_granian += ["--no-ws", "--log-level", "warning", "--workers", str(workers)]
    bare_granian += ["--working-dir", str(HERE), "--host", "127.0.0.1"]
    return {
        "mock/uvicorn": ([*mock, "--port", str(ports["mock/uvicorn"])], ports["mock/uvicorn"]),
        "mock/granian": (
            [*mock, "--server", "granian", "--port", str(ports["mock/granian"])],
            ports["mock/granian"],
        ),
        "bare/uvicorn": (
            [*bare_uvicorn, "--port", str(ports["bare/uvicorn"]), *uvicorn_flags(workers)],
            ports["bare/uvicorn"],
        ),
        "bare/granian": (
            [*bare_granian, "--port", str(ports["bare/granian"]), "bare_asgi:app"],
            ports["bare/granian"],
        ),
    }


@contextlib.contextmanager
def server(cmd: list[str], port: int) -> Iterator[tuple[str, Any]]:
    """The server's URL and its psutil process, for as long as the block runs."""
    import psutil

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=HERE.parent)
    try:
        wait_listening(port, proc)
        time.sleep(0.3)  # let every worker finish booting
        yield f"http://127.0.0.1:{port}", psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def cpu_seconds(process: Any) -> float:
    """User + system CPU time of ``process`` and its worker processes so far."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(Exception):  # a worker that just exited
            times = p.cpu_times()
            total += times.user + times.system
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds, best kept")
    args = ap.parse_args(argv)
    load = wrk if shutil.which("wrk") else aiohttp_load
    loader = "wrk" if load is wrk else "aiohttp fallback (wrk not installed)"
    d, c = args.duration, args.connections
    big = {"X-Mock-Reply-Tokens": "1000"}
    load_before = os.getloadavg()[0]
    cmds = commands(args.workers)
    results: dict[str, dict[str, float]] = {name: {} for name in SERVERS}
    cpu: dict[str, dict[str, float]] = {name: {} for name in SERVERS}
    with (
        server(*cmds["mock/uvicorn"]) as mock_u,
        server(*cmds["mock/granian"]) as mock_g,
        server(*cmds["bare/uvicorn"]) as bare_u,
        server(*cmds["bare/granian"]) as bare_g,
    ):
        started = {"mock/uvicorn": mock_u, "mock/granian": mock_g}
        started |= {"bare/uvicorn": bare_u, "bare/granian": bare_g}
        urls = {name: url for name, (url, _) in started.items()}
        procs = {name: process for name, (_, process) in started.items()}
        plan = {
            "get": {name: ("/get", None, None) for name in SERVERS},
            "chat": {name: ("/v1/chat/completions", CHAT, None) for name in SERVERS},
            "stream": {
                "mock/uvicorn": ("/v1/chat/completions", STREAM, big),
                "mock/granian": ("/v1/chat/completions", STREAM, big),
                "bare/uvicorn": ("/stream", STREAM, None),
                "bare/granian": ("/stream", STREAM, None),
            },
        }
        for key, peers in plan.items():
            scale = STREAM_CHUNKS if key == "stream" else 1
            for _ in range(args.rounds):
                for name, (path, body, headers) in peers.items():
                    before = cpu_seconds(procs[name])
                    requests_per_s = load(urls[name] + path, d, c, body, headers)
                    used = cpu_seconds(procs[name]) - before
                    rate = requests_per_s * scale
                    results[name][key] = max(results[name].get(key, 0.0), rate)
                    per_request = used / max(requests_per_s * d, 1.0) * 1e6
                    cpu[name][key] = min(cpu[name].get(key, float("inf")), per_request)

    print(
        f"\ngranian vs uvicorn: loader={loader}, {d:g}s per measurement, {c} connections, "
        f"best of {args.rounds} alternating rounds, workers={args.workers}, "
        f"cpus={os.cpu_count()}, load average before/after="
        f"{load_before:.1f}/{os.getloadavg()[0]:.1f}"
    )
    rows = [
        ("GET /get (req/s)", "get"),
        ("POST chat non-stream (req/s)", "chat"),
        ("1,000-chunk stream (chunks/s)", "stream"),
    ]
    print(f"{'measurement':32}" + "".join(f" {h:>13}" for h in SERVERS) + "  mock g/u  bare g/u")
    for title, key in rows:
        r = {name: results[name][key] for name in SERVERS}
        cells = "".join(f" {r[name]:13,.0f}" for name in SERVERS)
        mock_ratio = r["mock/granian"] / r["mock/uvicorn"]
        bare_ratio = r["bare/granian"] / r["bare/uvicorn"]
        print(f"{title:32}{cells} {mock_ratio:8.2f}x {bare_ratio:8.2f}x")
    print("\nserver CPU time per request (us; its process and workers; lowest of the rounds)")
    print(f"{'measurement':32}" + "".join(f" {h:>13}" for h in SERVERS) + "  mock g/u  bare g/u")
    for title, key in rows:
        r = {name: cpu[name][key] for name in SERVERS}
        cells = "".join(f" {r[name]:13,.1f}" for name in SERVERS)
        mock_ratio = r["mock/granian"] / r["mock/uvicorn"]
        bare_ratio = r["bare/granian"] / r["bare/uvicorn"]
        print(f"{title.split(' (')[0]:32}{cells} {mock_ratio:8.2f}x {bare_ratio:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
