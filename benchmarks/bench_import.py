"""Cold-import cost of ``import hookwire`` against ``import openai`` (target: <= 0.15x openai).

Each sample is a fresh interpreter, so nothing is cached in ``sys.modules``; ``.pyc`` files are
warm on disk (a user's second run, the common case). Two measures, interleaved sdk/openai/bare
so drift in machine load hits all of them alike:

- wall: wall-clock of ``python -c "import X"`` minus the median of ``python -c "pass"``;
- importtime: the sum of the top-level cumulative times ``python -X importtime`` reports, minus
  the same sum for ``pass`` (excludes process start-up; the more precise of the two).

Besides ``import hookwire`` (which loads names lazily), ``hookwire.Client`` measures what a user
pays before
the first request: the client facade, models, auth, retry and the plugin host's pluggy, but still
no HTTP library (the transport is imported on first send).

Usage: ``python benchmarks/bench_import.py [--rounds 30]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET = 0.15


def wall_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def importtime_us(code: str) -> int:
    """Microseconds of imports ``code`` triggers, summed over top-level ``-X importtime`` lines."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    total = 0
    for line in proc.stderr.splitlines():
        # "import time:  self [us] | cumulative | imported package"; nesting indents the name
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            total += int(parts[1].strip())
    return total


def modules_after(code: str) -> set[str]:
    probe = f"{code}; import sys; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def third_party_loaded(code: str) -> list[str]:
    """Top-level modules ``code`` loads beyond a bare interpreter, the stdlib and hookwire
    itself."""
    extra = modules_after(code) - modules_after("pass") - set(sys.stdlib_module_names)
    return sorted(extra - {"hookwire"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    cases = {
        "hookwire": "import hookwire",
        "hookwire.Client": "import hookwire; hookwire.Client",
        "openai": "import openai",
        "requests": "import requests",
        "httpx": "import httpx",
        "aiohttp": "import aiohttp",
    }
    for code in cases.values():  # warm the disk cache and .pyc files; not measured
        wall_seconds(code)
    bare: list[float] = []
    bare_itime: list[int] = []
    wall: dict[str, list[float]] = {name: [] for name in cases}
    itime: dict[str, list[int]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        bare.append(wall_seconds("pass"))
        bare_itime.append(importtime_us("pass"))
        for name, code in cases.items():
            wall[name].append(wall_seconds(code))
            itime[name].append(importtime_us(code))
    bare_ms = statistics.median(bare) * 1e3
    bare_itime_ms = statistics.median(bare_itime) / 1e3
    print(f"python {sys.version.split()[0]}, {args.rounds} fresh processes each, medians")
    print(f"bare interpreter start: {bare_ms:.1f} ms wall ({bare_itime_ms:.1f} ms of imports)")
    print(f"{'case':<12} {'wall-bare ms':>13} {'importtime ms':>14}")
    results: dict[str, tuple[float, float]] = {}
    for name in cases:
        w = statistics.median(wall[name]) * 1e3 - bare_ms
        i = statistics.median(itime[name]) / 1e3 - bare_itime_ms
        results[name] = (w, i)
        print(f"{name:<12} {w:>13.1f} {i:>14.1f}")
    for name in ("hookwire", "hookwire.Client"):
        ratio_itime = results[name][1] / results["openai"][1]
        ratio_wall = results[name][0] / results["openai"][0]
        verdict = "meets" if ratio_itime <= TARGET else "MISSES"
        print(
            f"{name}/openai: {ratio_itime:.4f}x (importtime), {ratio_wall:.4f}x (wall); "
            f"{verdict} the <= {TARGET}x target"
        )
    for name in ("hookwire", "hookwire.Client"):
        print(f"third-party modules loaded by `{cases[name]}`: {third_party_loaded(cases[name])}")


if __name__ == "__main__":
    main()
