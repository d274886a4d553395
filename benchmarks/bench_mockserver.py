"""Mock server throughput next to its peers, measured in one run on loopback.

    python benchmarks/bench_mockserver.py [--duration 2] [--rounds 2] [--workers 1]

Peers: real httpbin under gunicorn (2 sync workers, `gunicorn httpbin:app`) and a bare ASGI
hello-world (`benchmarks/bare_asgi.py`) under the same uvicorn settings as the mock (same
workers, uvloop, httptools, no access log). Load comes from `wrk` (`apt-get install -y wrk`);
without it a bounded aiohttp loader runs instead and the table says so. Targets: mock /get
>= 5x httpbin, and >= 50% of the bare-ASGI ceiling. Every server is stopped at the end.
A last table gives each app's CPU cost per request called in-process (no socket), the steadier
signal when other work shares the machine. `--shared-workers 2` (the default; 0 skips it) adds
the mock with 1 worker next to 2 workers sharing one journal, call counters and scenario
through SQLite (`hookwire.mockserver.store`), measured alternately in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _servers import free_port, wait_listening  # noqa: E402 - a sibling script module

CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": "hello there"}]}
STREAM = {**CHAT, "stream": True}
STREAM_CHUNKS = 1002  # 1,000 tokens + the role chunk + the finish chunk


@contextlib.contextmanager
def server(cmd: list[str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=HERE.parent)
    try:
        wait_listening(port, proc)
        time.sleep(0.3)  # let every worker finish booting
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def uvicorn_flags(workers: int) -> list[str]:
    return [
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]


def wrk(
    url: str,
    duration: float,
    connections: int,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
) -> float:
    """Requests/s as wrk reports it (non-2xx responses make the run fail)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        if body is not None:
            f.write('wrk.method = "POST"\n')
            f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
            f.write('wrk.headers["Content-Type"] = "application/json"\n')
        for k, v in (headers or {}).items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "-s", script, url],
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx responses from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]


def aiohttp_load(
    url: str,
    duration: float,
    connections: int,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
) -> float:
    """Fallback loader: `connections` concurrent aiohttp loops for `duration` seconds."""
    import aiohttp

    async def run() -> float:
        count = 0
        stop = time.monotonic() + duration
        conn = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=conn) as session:

            async def worker() -> None:
                nonlocal count
                while time.monotonic() < stop:
                    method = "POST" if body is not None else "GET"
                    async with session.request(method, url, json=body, headers=headers) as r:
                        await r.read()
                        if r.status >= 300:
                            raise RuntimeError(f"{url} -> {r.status}")
                    count += 1

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return count / (time.monotonic() - started)

    return asyncio.run(run())


def inprocess_us(app: Any, method: str, path: str, body: bytes, n: int) -> float:
    """CPU µs per request of an ASGI app called directly (no socket, no HTTP parser).

    CPU time of this process, best of 5 runs: on a shared machine that is steadier than wall
    time, and it isolates the app's own cost from uvicorn's and the loader's.
    """
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(reply: dict[str, Any]) -> None:
        if reply["type"] == "http.response.start" and reply["status"] != 200:
            raise RuntimeError(f"{path} -> {reply['status']}")

    async def run() -> float:
        await app(dict(scope), receive, send)
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.process_time() - started) / n * 1e6

    return min(asyncio.run(run()) for _ in range(5))


def inprocess_table(n: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    import bare_asgi

    from hookwire.mockserver.app import create_app

    mock = create_app()
    chat = json.dumps(CHAT).encode()
    rows = [
        ("GET /get", inprocess_us(mock, "GET", "/get", b"", n)),
        ("POST chat non-stream", inprocess_us(mock, "POST", "/v1/chat/completions", chat, n)),
        # one per other way through the route table: exact, parametrized httpbin, parametrized API
        ("GET /json (exact, no fast view)", inprocess_us(mock, "GET", "/json", b"", n)),
        ("GET /status/200 (parametrized)", inprocess_us(mock, "GET", "/status/200", b"", n)),
        ("GET /v1/models/{model}", inprocess_us(mock, "GET", "/v1/models/mock-model", b"", n)),
    ]
    bare = inprocess_us(bare_asgi.app, "GET", "/get", b"", n)
    print(f"\nin-process app cost (CPU us/request, best of 5 x {n:,}; bare ASGI {bare:.2f} us)")
    for title, us in rows:
        print(f"{title:32} {us:8.2f} us")


def workers_table(load: Any, d: float, c: int, rounds: int, workers: int) -> None:
    """The mock with 1 worker (in-memory journal) against `workers` (one shared SQLite store)."""
    ports = {1: free_port(), workers: free_port()}
    base = [sys.executable, "-m", "hookwire.mockserver"]
    rates: dict[tuple[int, str], float] = {}
    with contextlib.ExitStack() as stack:
        urls = {
            n: stack.enter_context(server([*base, "--port", str(p), "--workers", str(n)], p))
            for n, p in ports.items()
        }
        for _ in range(rounds):
            for key, path, body in (("get", "/get", None), ("chat", "/v1/chat/completions", CHAT)):
                for n, url in urls.items():
                    rate = load(url + path, d, c, body, None)
                    rates[n, key] = max(rates.get((n, key), 0.0), rate)
    print(
        f"\nmock server, 1 worker (in-memory journal) vs {workers} workers (one SQLite store "
        f"shared: journal, call counters, scenario); best of {rounds}, {c} connections"
    )
    print(f"{'measurement':32} {'1 worker':>11} {f'{workers} workers':>11} {'ratio':>7}")
    for title, key in (("GET /get (req/s)", "get"), ("POST chat non-stream (req/s)", "chat")):
        one, many = rates[1, key], rates[workers, key]
        print(f"{title:32} {one:11,.0f} {many:11,.0f} {many / one:6.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds, best kept")
    ap.add_argument("--inprocess", type=int, default=10_000, metavar="N",
                    help="requests per in-process run (0 skips that table)")  # fmt: skip
    ap.add_argument("--shared-workers", type=int, default=2, metavar="N",
                    help="also 1 worker vs N sharing one store (0 skips that table)")  # fmt: skip
    args = ap.parse_args(argv)
    load = wrk if shutil.which("wrk") else aiohttp_load
    loader = "wrk" if load is wrk else "aiohttp fallback (wrk not installed)"
    d, c = args.duration, args.connections
    results: dict[str, dict[str, float | None]] = {}
    big = {"X-Mock-Reply-Tokens": "1000"}

    load_before = os.getloadavg()[0]
    mock_port, bare_port, httpbin_port = free_port(), free_port(), free_port()
    mock_cmd = [sys.executable, "-m", "hookwire.mockserver", "--port", str(mock_port)]
    mock_cmd += ["--workers", str(args.workers)]
    bare_cmd = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--app-dir", str(HERE)]
    bare_cmd += ["--port", str(bare_port), *uvicorn_flags(args.workers)]
    gunicorn = shutil.which("gunicorn") or "gunicorn"
    httpbin_cmd = [gunicorn, "-w", "2", "-b", f"127.0.0.1:{httpbin_port}"]
    httpbin_cmd += ["--log-level", "warning", "httpbin:app"]
    # All three run at once (idle ones cost nothing) and the measurements alternate, best of
    # `rounds`: on a shared 2-core machine that keeps background noise from favouring a peer.
    with (
        server(mock_cmd, mock_port) as mock,
        server(bare_cmd, bare_port) as bare,
        server(httpbin_cmd, httpbin_port) as httpbin,
    ):
        plan = {
            "get": {
                "mock": (mock + "/get", None, None),
                "bare": (bare + "/get", None, None),
                "httpbin": (httpbin + "/get", None, None),
            },
            "chat": {
                "mock": (mock + "/v1/chat/completions", CHAT, None),
                "bare": (bare + "/v1/chat/completions", CHAT, None),
            },
            "stream": {
                "mock": (mock + "/v1/chat/completions", STREAM, big),
                "bare": (bare + "/stream", STREAM, None),
            },
        }
        for key, peers in plan.items():
            scale = STREAM_CHUNKS if key == "stream" else 1
            for name in ("mock", "bare", "httpbin"):
                results.setdefault(name, {})[key] = None
            for _ in range(args.rounds):
                for name, (url, body, headers) in peers.items():
                    rate = load(url, d, c, body, headers) * scale
                    results[name][key] = max(results[name][key] or 0.0, rate)

    print(
        f"\nmock server benchmark: loader={loader}, {d:g}s per measurement, {c} connections, "
        f"best of {args.rounds} alternating rounds, uvicorn workers={args.workers}, "
        f"httpbin=gunicorn 2 sync workers, cpus={os.cpu_count()}, "
        f"load average before/after={load_before:.1f}/{os.getloadavg()[0]:.1f}"
    )
    rows = [
        ("GET /get (req/s)", "get"),
        ("POST chat non-stream (req/s)", "chat"),
        ("1,000-chunk stream (chunks/s)", "stream"),
    ]
    heads = ("mock", "httpbin", "bare ASGI")
    print(f"{'measurement':32}" + "".join(f" {h:>11}" for h in heads) + "  mock/httpbin  mock/bare")
    for title, key in rows:
        m, h, b = results["mock"][key], results["httpbin"][key], results["bare"][key]
        assert m is not None and b is not None
        hb = f"{m / h:.1f}x" if h else "n/a"
        print(f"{title:32} {m:11,.0f} {h or 0:11,.0f} {b:11,.0f} {hb:>13} {m / b:10.0%}")
    get = results["mock"]["get"], results["httpbin"]["get"], results["bare"]["get"]
    ok = get[0] >= 5 * get[1] and get[0] >= 0.5 * get[2]  # type: ignore[operator]
    print(f"targets (/get >= 5x httpbin and >= 50% of bare): {'met' if ok else 'NOT met'}")
    if args.shared_workers > 1:
        workers_table(load, d, c, args.rounds, args.shared_workers)
    if args.inprocess:
        inprocess_table(args.inprocess)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
