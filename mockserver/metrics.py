"""Prometheus text-format metrics: request counts by method/path/status, latency histogram.

Written by hand (the exposition format is small) so the server needs no prometheus_client.
Paths are labelled by route template for parametrized routes, so `/bytes/1` and `/bytes/2`
share one series and the label set stays bounded.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and a latency histogram; `render()` gives the Prometheus text body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self._bucket_counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._totals: dict[str, int] = defaultdict(int)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        # No lock here: observe() runs on the server's event loop only, and a lock per
        # request costs measurable throughput; render() takes the lock to copy consistently.
        self._counts[(method, path, status)] += 1
        buckets = self._bucket_counts.get(path)
        if buckets is None:
            buckets = self._bucket_counts[path] = [0] * (len(BUCKETS) + 1)
        buckets[bisect_left(BUCKETS, seconds)] += 1
        self._sums[path] += seconds
        self._totals[path] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._bucket_counts.clear()
            self._sums.clear()
            self._totals.clear()

    def render(self) -> str:
        lines = [
            "# HELP mock_requests_total Requests served, by method, path and status.",
            "# TYPE mock_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self._counts.items()):
                lines.append(
                    f'mock_requests_total{{method="{method}",path="{_escape(path)}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP mock_request_duration_seconds Time from request to last response byte.",
                "# TYPE mock_request_duration_seconds histogram",
            ]
            for path in sorted(self._totals):
                label = _escape(path)
                cumulative = 0
                for bound, n in zip(BUCKETS, self._bucket_counts[path][:-1], strict=True):
                    cumulative += n
                    lines.append(
                        f'mock_request_duration_seconds_bucket{{path="{label}",le="{bound}"}} '
                        f"{cumulative}"
                    )
                lines.append(
                    f'mock_request_duration_seconds_bucket{{path="{label}",le="+Inf"}} '
                    f"{self._totals[path]}"
                )
                lines.append(
                    f'mock_request_duration_seconds_sum{{path="{label}"}} {self._sums[path]:.6f}'
                )
                lines.append(
                    f'mock_request_duration_seconds_count{{path="{label}"}} {self._totals[path]}'
                )
        return "\n".join(lines) + "\n"
