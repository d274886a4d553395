"""Which vLLM replica takes the next request: round-robin over the healthy ones, with cooldowns.

This module decides and does no I/O (the shape of the retry policy): the provider asks for
:meth:`ReplicaPool.plan` and reports back with :meth:`mark_up` / :meth:`mark_down`. Probing
``/health`` and sending the request stay in the provider, so sync and async share every
decision, and tests drive the pool with plain numbers for time.

A replica is in one of three states:

=============  ==========================================================================
``unknown``    never checked: probe ``/health`` before its first request
``up``         last probe or request succeeded: send to it
``down``       refused a connection, timed out or answered 502/503/504 (or ``/health`` was
               not 200): skipped until ``cooldown`` seconds have passed, then probed again
=============  ==========================================================================
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from hookwire.errors import InvalidRequest, NetworkError, RequestError

__all__ = ["Replica", "ReplicaPool", "ReplicasUnavailable", "health_url"]

State = Literal["unknown", "up", "down"]


class ReplicasUnavailable(NetworkError):
    """Every replica was down or failed; ``.replicas`` lists ``(url, reason)`` for each one tried.

    A ``NetworkError`` (so a ``TransportError``): no replica could serve the request.
    """

    _context = (*RequestError._context, "replicas")
    replicas: list[tuple[str, str]] | None


def health_url(base_url: str) -> str:
    """vLLM's ``/health`` sits at the server root, beside ``/v1``."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return root + "/health"


@dataclass
class Replica:
    """One server of the pool and what the pool knows about it."""

    base_url: str
    state: State = "unknown"
    down_until: float = 0.0
    reason: str = ""
    served: int = 0

    @property
    def health_url(self) -> str:
        return health_url(self.base_url)


class ReplicaPool:
    """Thread-safe round-robin order over replicas with a cooldown for the ones that failed."""

    def __init__(self, urls: list[str], *, cooldown: float = 30.0) -> None:
        if not urls or not all(isinstance(u, str) and u for u in urls):
            raise InvalidRequest("replicas= takes a non-empty list of base URLs (…:8000/v1)")
        cleaned = [u.rstrip("/") for u in urls]
        if len(set(cleaned)) != len(cleaned):
            raise InvalidRequest(f"replicas= lists a URL twice: {cleaned}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or cooldown < 0:
            raise InvalidRequest(f"replica_cooldown must be seconds >= 0, not {cooldown!r}")
        self.replicas = [Replica(u) for u in cleaned]
        self.cooldown = float(cooldown)
        self._next = 0
        self._lock = threading.Lock()

    @property
    def urls(self) -> list[str]:
        return [r.base_url for r in self.replicas]

    def plan(self, now: float) -> tuple[list[tuple[Replica, bool]], list[tuple[str, str]]]:
        """The replicas to try for one request, in order, and the ones skipped (with why).

        Each entry is ``(replica, probe_first)``. The starting point moves one step per call,
        so consecutive requests spread over the pool; replicas still cooling down are skipped.
        """
        with self._lock:
            n = len(self.replicas)
            start = self._next
            self._next = (start + 1) % n
            order = [self.replicas[(start + i) % n] for i in range(n)]
        plan: list[tuple[Replica, bool]] = []
        skipped: list[tuple[str, str]] = []
        for replica in order:
            if replica.state == "up":
                plan.append((replica, False))
            elif replica.state == "unknown" or now >= replica.down_until:
                plan.append((replica, True))
            else:
                left = replica.down_until - now
                skipped.append((replica.base_url, f"down ({replica.reason}); retry in {left:.1f}s"))
        return plan, skipped

    def served(self, replica: Replica) -> None:
        """``replica`` answered: it is up, and the next request starts after it."""
        with self._lock:
            replica.state, replica.reason = "up", ""
            replica.served += 1
            index = self.replicas.index(replica)
            self._next = (index + 1) % len(self.replicas)

    def mark_up(self, replica: Replica) -> None:
        with self._lock:
            replica.state, replica.reason = "up", ""

    def mark_down(self, replica: Replica, now: float, reason: str) -> None:
        with self._lock:
            replica.state, replica.reason = "down", reason
            replica.down_until = now + self.cooldown

    def __repr__(self) -> str:
        states = ", ".join(f"{r.base_url}={r.state}" for r in self.replicas)
        return f"<ReplicaPool {states}>"
