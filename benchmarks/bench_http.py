"""Per-request cost of ``hookwire.Client``/``AsyncClient`` against the raw library underneath.

One run, one local server (``_servers.local_server``: a bare ASGI app under uvicorn in its own
process), the pairs below, each measured side by side:

=====================================  ==================================  ========
SDK                                    raw peer                            target
=====================================  ==================================  ========
``hookwire.Client(transport="requests")``   ``requests.Session``                <= 1.10x
``hookwire.Client(transport="httpx")``      ``httpx.Client``                    <= 1.10x
``hookwire.AsyncClient(transport="aiohttp")`` ``aiohttp.ClientSession``         <= 1.10x
``hookwire.AsyncClient(transport="httpx")``   ``httpx.AsyncClient``             <= 1.00x
``hookwire.AsyncClient(transport="pyreqwest")`` ``pyreqwest.client.Client``     <= 1.10x
``hookwire.AsyncClient(transport="pyreqwest")`` ``aiohttp.ClientSession``       <= 1.00x
``hookwire.AsyncClient(transport="native")``  ``aiohttp.ClientSession``         <= 1.00x
``hookwire.AsyncClient(transport="native")``  ``pyreqwest.client.Client``       <= 1.00x
``hookwire.Client(transport="native")``       ``pyreqwest`` ``SyncClient``, ``http.client``,
                                              ``requests.Session``, ``httpx.Client``  <= 1.00x
=====================================  ==================================  ========

Sync: sequential ``GET`` + ``.json()``. Async: 64 concurrent ``GET`` + ``.json()``
(``asyncio.gather``), repeated. Each contestant is warmed up, then the pair runs ``--rounds``
rounds, alternating which goes first, so load drift hits both alike. Reported: the median over
rounds of the mean wall time per request and the ratio of the two medians (the target's
measure), plus the median of per-round ratios and the ratio of the best rounds (both less
sensitive to load from other processes on a shared machine), and the client process's CPU time
per request (server time excluded, so this ratio is the SDK's overhead undiluted). ``--profile``
adds a cProfile of the SDK side of each pair, sorted by own time.

Usage: ``python benchmarks/bench_http.py [--rounds 15] [--requests 400] [--batches 24] [--profile]
[--only requests|httpx|aiohttp|httpx-async|pyreqwest|native|native-sync] [--loop uvloop]``
(pyreqwest pairs need ``hookwire[pyreqwest]``, native pairs ``hookwire[native]``, and their
raw peers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import os
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from _servers import local_server

import hookwire

CONCURRENCY = 64


@dataclass
class Pair:
    name: str
    target: float
    sdk_us: list[float] = field(default_factory=list)
    raw_us: list[float] = field(default_factory=list)
    sdk_cpu: list[float] = field(default_factory=list)
    raw_cpu: list[float] = field(default_factory=list)
    #: CPU of the thread running the event loop only (async pairs): a Rust client's own
    #: runtime thread is left out, so this is the Python-side work undiluted.
    sdk_thread: list[float] = field(default_factory=list)
    raw_thread: list[float] = field(default_factory=list)

    def add(self, side: str, sample: tuple[float, ...]) -> None:
        wall, cpu = sample[0], sample[1]
        (self.sdk_us if side == "hookwire" else self.raw_us).append(wall)
        (self.sdk_cpu if side == "hookwire" else self.raw_cpu).append(cpu)
        if len(sample) > 2:
            (self.sdk_thread if side == "hookwire" else self.raw_thread).append(sample[2])

    def report(self) -> str:
        sdk_med = statistics.median(self.sdk_us)
        raw_med = statistics.median(self.raw_us)
        ratio = sdk_med / raw_med
        pairs = zip(self.sdk_us, self.raw_us, strict=True)
        round_ratio = statistics.median(s / r for s, r in pairs)
        best_ratio = min(self.sdk_us) / min(self.raw_us)
        cpu_sdk = statistics.median(self.sdk_cpu)
        cpu_raw = statistics.median(self.raw_cpu)
        verdict = "meets" if ratio <= self.target else "MISSES"
        text = (
            f"{self.name}\n"
            f"  wall per request: hookwire {sdk_med:.1f} us, raw {raw_med:.1f} us -> {ratio:.3f}x "
            f"(median of per-round ratios {round_ratio:.3f}x, best rounds {best_ratio:.3f}x); "
            f"target <= {self.target:.2f}x: {verdict}\n"
            f"  client CPU per request: hookwire {cpu_sdk:.1f} us, raw {cpu_raw:.1f} us -> "
            f"{cpu_sdk / cpu_raw:.3f}x"
        )
        if self.sdk_thread:
            thread_sdk = statistics.median(self.sdk_thread)
            thread_raw = statistics.median(self.raw_thread)
            text += (
                f"\n  event-loop thread CPU per request: hookwire {thread_sdk:.1f} us, "
                f"raw {thread_raw:.1f} us -> {thread_sdk / thread_raw:.3f}x"
            )
        return text


# -- sync ----------------------------------------------------------------------------------------
def time_sync(get_json: Callable[[str], object], url: str, n: int) -> tuple[float, float]:
    """Mean wall and CPU microseconds per sequential GET + JSON decode over ``n`` requests."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        get_json(url)
    return (
        (time.perf_counter() - started) / n * 1e6,
        (time.process_time() - cpu) / n * 1e6,
    )


def run_sync_pair(
    pair: Pair,
    sdk_get: Callable[[str], object],
    raw_get: Callable[[str], object],
    url: str,
    args: argparse.Namespace,
) -> None:
    for get_json in (sdk_get, raw_get):
        time_sync(get_json, url, args.warmup)
    for i in range(args.rounds):
        order = [("hookwire", sdk_get), ("raw", raw_get)]
        for side, get_json in order if i % 2 == 0 else order[::-1]:
            pair.add(side, time_sync(get_json, url, args.requests))


def bench_requests(url: str, args: argparse.Namespace) -> Pair:
    import requests

    pair = Pair("Client(requests) vs requests.Session", 1.10)
    with hookwire.Client(transport="requests") as client, requests.Session() as session:
        run_sync_pair(
            pair,
            lambda u: client.get(u).json(),
            lambda u: session.get(u).json(),
            url,
            args,
        )
        if args.profile:
            profile_sync(lambda u: client.get(u).json(), url, args.requests * 4)
    return pair


def bench_requests_no_env(url: str, args: argparse.Namespace) -> Pair:
    """The stricter peer: requests.Session without its per-request environment lookups.

    A default Session re-reads proxy variables and ~/.netrc on every request
    (``merge_environment_settings``); ``trust_env=False`` skips that. The SDK still honours
    the proxy variables (with a cached environment), so this pair flatters raw requests.
    """
    import requests

    pair = Pair("Client(requests) vs requests.Session(trust_env=False) [informational]", 1.10)
    with hookwire.Client(transport="requests") as client, requests.Session() as session:
        session.trust_env = False
        run_sync_pair(
            pair,
            lambda u: client.get(u).json(),
            lambda u: session.get(u).json(),
            url,
            args,
        )
    return pair


def bench_httpx(url: str, args: argparse.Namespace) -> Pair:
    import httpx

    pair = Pair("Client(httpx) vs httpx.Client", 1.10)
    with hookwire.Client(transport="httpx") as client, httpx.Client() as raw:
        run_sync_pair(
            pair,
            lambda u: client.get(u).json(),
            lambda u: raw.get(u).json(),
            url,
            args,
        )
        if args.profile:
            profile_sync(lambda u: client.get(u).json(), url, args.requests * 4)
    return pair


def bench_native_sync(url: str, args: argparse.Namespace, *, peer: str) -> Pair:
    """``Client(transport="native")`` (hookwire's own HTTP/1.1 on blocking sockets) against
    the fastest raw sync Python clients: pyreqwest's ``SyncClient`` (Rust), and the standard
    library's ``http.client`` on one kept-alive connection (no pool, no URL parsing: the
    floor of what Python itself costs), and requests and httpx as most code uses them."""
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(hookwire.Client(transport="native"))
        raw_get: Callable[[str], object]
        if peer == "pyreqwest":
            from pyreqwest.client import SyncClientBuilder

            raw = stack.enter_context(SyncClientBuilder().build())

            def raw_get(u: str) -> object:
                return raw.get(u).build().send().json()

            name = "pyreqwest SyncClient"
        elif peer == "http.client":
            import http.client
            import json
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
            stack.callback(conn.close)

            def raw_get(u: str) -> object:
                conn.request("GET", parts.path)
                return json.loads(conn.getresponse().read())

            name = "http.client.HTTPConnection"
        elif peer == "requests":
            import requests

            session = stack.enter_context(requests.Session())

            def raw_get(u: str) -> object:
                return session.get(u).json()

            name = "requests.Session"
        else:
            import httpx

            raw_httpx = stack.enter_context(httpx.Client())

            def raw_get(u: str) -> object:
                return raw_httpx.get(u).json()

            name = "httpx.Client"
        pair = Pair(f"Client(native) vs {name}", 1.0)
        run_sync_pair(pair, lambda u: client.get(u).json(), raw_get, url, args)
        if args.profile and peer == "pyreqwest":
            profile_sync(lambda u: client.get(u).json(), url, args.requests * 4)
    return pair


# -- async ---------------------------------------------------------------------------------------
async def time_async(
    get_json: Callable[[str], Awaitable[object]], url: str, batches: int
) -> tuple[float, float, float]:
    """Mean wall, process CPU and event-loop-thread CPU microseconds per request over
    ``batches`` x 64 concurrent GET + JSON."""
    gc.collect()
    started, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(batches):
        await asyncio.gather(*(get_json(url) for _ in range(CONCURRENCY)))
    n = batches * CONCURRENCY
    return (
        (time.perf_counter() - started) / n * 1e6,
        (time.process_time() - cpu) / n * 1e6,
        (time.thread_time() - thread) / n * 1e6,
    )


async def run_async_pair(
    pair: Pair,
    sdk_get: Callable[[str], Awaitable[object]],
    raw_get: Callable[[str], Awaitable[object]],
    url: str,
    args: argparse.Namespace,
    *,
    profile: str | None = None,
) -> None:
    for get_json in (sdk_get, raw_get):
        await time_async(get_json, url, args.batches)
    for i in range(args.rounds):
        order = [("hookwire", sdk_get), ("raw", raw_get)]
        for side, get_json in order if i % 2 == 0 else order[::-1]:
            pair.add(side, await time_async(get_json, url, args.batches))
    if profile is not None and args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await time_async(sdk_get, url, args.batches * 4)
        profiler.disable()
        print_profile(profiler, profile)


async def bench_aiohttp(url: str, args: argparse.Namespace, *, same_timeouts: bool = False) -> Pair:
    """The target pair; ``same_timeouts`` gives raw aiohttp the SDK's default timeouts.

    A bare ``aiohttp.ClientSession()`` has no per-read timeout (only ``total=300``), while the
    SDK enforces ``Timeout()``'s connect 5 s and read 60 s on every request, which costs aiohttp a
    timer per read. The informational pair measures raw aiohttp doing the same work.
    """
    import aiohttp

    if same_timeouts:
        pair = Pair(
            f"AsyncClient(aiohttp) vs aiohttp x{CONCURRENCY}, same timeouts [informational]", 1.10
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
    else:
        pair = Pair(f"AsyncClient(aiohttp) vs aiohttp x{CONCURRENCY}", 1.10)
        timeout = aiohttp.ClientTimeout(total=300)  # aiohttp's own default

    session_cm = aiohttp.ClientSession(timeout=timeout)
    async with hookwire.AsyncClient(transport="aiohttp") as client, session_cm as session:

        async def sdk_get(u: str) -> object:
            return (await client.get(u)).json()

        async def raw_get(u: str) -> object:
            async with session.get(u) as response:
                return await response.json()

        profile = None if same_timeouts else "AsyncClient(aiohttp)"
        await run_async_pair(pair, sdk_get, raw_get, url, args, profile=profile)
    return pair


async def bench_httpx_async(url: str, args: argparse.Namespace) -> Pair:
    """``AsyncClient(transport="httpx")`` against a raw ``httpx.AsyncClient`` (its defaults:
    connect/read/write/pool 5 s, a pool of 100): the SDK drives httpx's transport layer only,
    so this is the cost of hookwire's own work against httpx's client layer."""
    import httpx

    pair = Pair(f"AsyncClient(httpx) vs httpx.AsyncClient x{CONCURRENCY}", 1.0)
    async with hookwire.AsyncClient(transport="httpx") as client, httpx.AsyncClient() as raw:

        async def sdk_get(u: str) -> object:
            return (await client.get(u)).json()

        async def raw_get(u: str) -> object:
            return (await raw.get(u)).json()

        await run_async_pair(pair, sdk_get, raw_get, url, args, profile="AsyncClient(httpx)")
    return pair


def _pyreqwest_registered() -> None:
    """Register the transport when an older editable install does not list its entry point."""
    host = hookwire.get_plugin_host()
    if "pyreqwest" not in host.transports():
        from hookwire.plugins.transports import pyreqwest_transport

        host.register(pyreqwest_transport, "transport-pyreqwest")


async def bench_pyreqwest(url: str, args: argparse.Namespace, *, peer: str) -> Pair:
    """``AsyncClient(transport="pyreqwest")`` against raw pyreqwest (``peer="pyreqwest"``: its
    own ``Client``, body read with ``json()``) or against raw aiohttp (``peer="aiohttp"``: is
    hookwire's fastest async path faster than the fastest raw Python client?)."""
    from pyreqwest.client import ClientBuilder

    _pyreqwest_registered()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(hookwire.AsyncClient(transport="pyreqwest"))

        async def sdk_get(u: str) -> object:
            return (await client.get(u)).json()

        if peer == "pyreqwest":
            pair = Pair(f"AsyncClient(pyreqwest) vs pyreqwest Client x{CONCURRENCY}", 1.10)
            raw = await stack.enter_async_context(ClientBuilder().build())

            async def raw_get(u: str) -> object:
                return await (await raw.get(u).build().send()).json()

        else:
            import aiohttp

            pair = Pair(f"AsyncClient(pyreqwest) vs aiohttp x{CONCURRENCY}", 1.0)
            session = await stack.enter_async_context(aiohttp.ClientSession())

            async def raw_get(u: str) -> object:
                async with session.get(u) as response:
                    return await response.json()

        profile = "AsyncClient(pyreqwest)" if peer == "pyreqwest" else None
        await run_async_pair(pair, sdk_get, raw_get, url, args, profile=profile)
    return pair


async def bench_native(url: str, args: argparse.Namespace, *, peer: str) -> Pair:
    """``AsyncClient(transport="native")`` (hookwire's own HTTP/1.1 on asyncio) against the
    fastest raw Python clients: aiohttp's ``ClientSession`` and pyreqwest's ``Client`` (its
    body read and parsed in Rust with ``json()``, the library at its fastest)."""
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(hookwire.AsyncClient(transport="native"))

        async def sdk_get(u: str) -> object:
            return (await client.get(u)).json()

        if peer == "pyreqwest":
            from pyreqwest.client import ClientBuilder

            pair = Pair(f"AsyncClient(native) vs pyreqwest Client x{CONCURRENCY}", 1.0)
            raw = await stack.enter_async_context(ClientBuilder().build())

            async def raw_get(u: str) -> object:
                return await (await raw.get(u).build().send()).json()

        else:
            import aiohttp

            pair = Pair(f"AsyncClient(native) vs aiohttp x{CONCURRENCY}", 1.0)
            session = await stack.enter_async_context(aiohttp.ClientSession())

            async def raw_get(u: str) -> object:
                async with session.get(u) as response:
                    return await response.json()

        profile = "AsyncClient(native)" if peer == "aiohttp" else None
        await run_async_pair(pair, sdk_get, raw_get, url, args, profile=profile)
    return pair


# -- profiling -------------------------------------------------------------------------------------
def profile_sync(get_json: Callable[[str], object], url: str, n: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    time_sync(get_json, url, n)
    profiler.disable()
    print_profile(profiler, f"{n} requests")


def print_profile(profiler: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print(f"\n--- cProfile ({title}), top 25 by own time ---")
    print(out.getvalue())


def _runner(name: str) -> Callable[[Awaitable[Pair]], Pair]:
    """``asyncio.run`` on the chosen loop (uvloop: ``pip install uvloop``)."""
    if name == "asyncio":
        return asyncio.run  # type: ignore[return-value]
    import uvloop

    def run(main: Awaitable[Pair]) -> Pair:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)  # type: ignore[arg-type]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="measured rounds per pair")
    parser.add_argument("--requests", type=int, default=400, help="sync requests per round")
    # 24 batches (1536 requests) a round: with 8, one scheduler hiccup moved the async ratio by
    # several percent between runs.
    parser.add_argument("--batches", type=int, default=24, help="async batches of 64 per round")
    parser.add_argument("--warmup", type=int, default=200, help="sync warm-up requests")
    parser.add_argument("--profile", action="store_true", help="cProfile the SDK side")
    choices = [
        "requests",
        "httpx",
        "aiohttp",
        "httpx-async",
        "pyreqwest",
        "native",
        "native-sync",
    ]
    parser.add_argument("--only", choices=choices, action="append")
    parser.add_argument(
        "--loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="the event loop both sides of every async pair run on",
    )
    args = parser.parse_args()
    run = _runner(args.loop)
    only = set(args.only or choices)
    pairs: list[Pair] = []
    with local_server() as base:
        url = f"{base}/get"
        print(f"server: {base} (bare ASGI, uvicorn+uvloop+httptools, own process)")
        if "requests" in only:
            pairs.append(bench_requests(url, args))
            pairs.append(bench_requests_no_env(url, args))
        if "httpx" in only:
            pairs.append(bench_httpx(url, args))
        if "aiohttp" in only:
            pairs.append(run(bench_aiohttp(url, args)))
            pairs.append(run(bench_aiohttp(url, args, same_timeouts=True)))
        if "httpx-async" in only:
            pairs.append(run(bench_httpx_async(url, args)))
        if "pyreqwest" in only:
            pairs.append(run(bench_pyreqwest(url, args, peer="pyreqwest")))
            pairs.append(run(bench_pyreqwest(url, args, peer="aiohttp")))
        if "native-sync" in only:
            for peer in ("pyreqwest", "http.client", "requests", "httpx"):
                pairs.append(bench_native_sync(url, args, peer=peer))
        if "native" in only:
            pairs.append(run(bench_native(url, args, peer="aiohttp")))
            pairs.append(run(bench_native(url, args, peer="pyreqwest")))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\n{args.rounds} rounds; sync {args.requests} requests/round, "
        f"async {args.batches}x{CONCURRENCY} requests/round; medians over rounds; "
        f"{os.cpu_count()} CPUs, 1-min load {load:.2f} at the end; event loop: {args.loop}"
    )
    for pair in pairs:
        print(pair.report())


if __name__ == "__main__":
    main()
