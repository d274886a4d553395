"""``DigestAuth``: the stateful Digest flow on top of the pure functions in ``hookwire._digest``.

The flow is a generator (see :class:`hookwire.auth.Auth`), so one implementation serves every
transport, sync and async. What it adds to the pure functions:

* the nonce count: ``nc`` counts the uses of one nonce, under a lock, so concurrent requests
  sharing one ``DigestAuth`` never send the same ``nc`` twice (a server may reject a repeat as
  a replay);
* a fresh random cnonce for every answer;
* preemptive answers: once a server has challenged, later requests to the same origin (and
  inside the challenge's ``domain``, when it gave one) carry an answer to the cached challenge
  at once, saving a round trip per request, as requests' ``HTTPDigestAuth`` does;
* ``stale=true`` (RFC 7616 section 3.3: the nonce expired, the credentials were right) is
  retried once with the new nonce; any other 401 after an answer is returned as is, and the
  client turns it into :class:`~hookwire.errors.AuthenticationError`;
* the body is replayed after the 401: bytes and seekable files byte-identical, while a
  one-shot iterator that was already sent raises :class:`~hookwire.errors.UnreplayableBodyError`
  instead of sending an empty body. ``auth-int`` needs the body in memory and buffers a file.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import AsyncIterable
from urllib.parse import urlsplit

from hookwire._digest import (
    DigestChallenge,
    build_authorization,
    choose_qop,
    digest_offered,
    parse_challenge,
)
from hookwire._models import Request, Response
from hookwire.auth import Auth, AuthFlow
from hookwire.errors import DigestChallengeError, UnreplayableBodyError

__all__ = ["DigestAuth"]


def _origin_and_target(url: str) -> tuple[str, str]:
    """``("http://host:port", "/path?query")``: the protection-space key and the digest uri."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return f"{parts.scheme.lower()}://{host.lower()}{port}", target


def _in_domain(challenge: DigestChallenge, origin: str, url: str) -> bool:
    # RFC 7616 section 3.3: no domain means every URI on the origin.
    if not challenge.domain:
        return True
    path = urlsplit(url).path or "/"
    for uri in challenge.domain:
        if "://" in uri:
            domain_origin, domain_path = _origin_and_target(uri)
            if domain_origin == origin and path.startswith(domain_path.split("?")[0]):
                return True
        elif path.startswith(uri):
            return True
    return False


class DigestAuth(Auth):
    """HTTP Digest (RFC 7616): MD5, SHA-256, SHA-512-256, SHA-512, each with ``-sess``.

    ``qop`` forces ``"auth"`` or ``"auth-int"``; by default ``auth`` is used when offered.
    One instance may be shared by threads and by concurrent async tasks.
    """

    def __init__(self, username: str, password: str, *, qop: str | None = None) -> None:
        self.username = username
        self._password = password
        self.qop = qop
        self._lock = threading.Lock()
        self._challenges: dict[str, DigestChallenge] = {}  # origin -> latest challenge
        self._counts: dict[str, int] = {}  # nonce -> uses so far

    # -- state (locked) ---------------------------------------------------------------------
    def _remember(self, origin: str, challenge: DigestChallenge) -> None:
        with self._lock:
            old = self._challenges.get(origin)
            self._challenges[origin] = challenge
            if old is not None and old.nonce != challenge.nonce:
                still_used = any(c.nonce == old.nonce for c in self._challenges.values())
                if not still_used:
                    self._counts.pop(old.nonce, None)

    def _cached(self, origin: str, url: str) -> DigestChallenge | None:
        with self._lock:
            challenge = self._challenges.get(origin)
        if challenge is not None and _in_domain(challenge, origin, url):
            return challenge
        return None

    def _next_nc(self, nonce: str) -> int:
        with self._lock:
            count = self._counts.get(nonce, 0) % 0xFFFFFFFF + 1
            self._counts[nonce] = count
            return count

    # -- the flow ---------------------------------------------------------------------------
    def _body_for(self, request: Request, challenge: DigestChallenge) -> bytes | None:
        if choose_qop(challenge, self.qop) != "auth-int":
            return None
        if request.content is None and request.stream is not None:
            if isinstance(request.stream, AsyncIterable) and not hasattr(request.stream, "seek"):
                raise UnreplayableBodyError(
                    "Digest qop=auth-int hashes the body, so it must be bytes or a file, "
                    "not an async iterator"
                )
            request.read()  # buffers a file (or an unsent iterator) so it can be hashed
        return request.content or b""

    def _authorize(self, request: Request, challenge: DigestChallenge) -> None:
        _, target = _origin_and_target(request.url)
        request.headers["Authorization"] = build_authorization(
            challenge,
            username=self.username,
            password=self._password,
            method=request.method,
            uri=target,
            body=self._body_for(request, challenge),
            nc=self._next_nc(challenge.nonce),
            cnonce=secrets.token_hex(16),
            qop=self.qop,
        )

    @staticmethod
    def _challenge_in(request: Request, response: Response) -> DigestChallenge | None:
        header = response.headers.get("www-authenticate")
        if not header or not digest_offered(header):
            return None
        try:
            return parse_challenge(header)
        except DigestChallengeError as exc:
            raise DigestChallengeError(str(exc), request=request, response=response) from None

    @staticmethod
    def _ensure_replayable(request: Request) -> None:
        if not request.is_replayable:
            raise UnreplayableBodyError(
                "the server asked for Digest credentials after the request body was sent, and "
                "the body is a one-shot iterator; pass bytes or a seekable file so it can be "
                "sent again"
            )

    def auth_flow(self, request: Request) -> AuthFlow:
        origin, _ = _origin_and_target(request.url)
        cached = self._cached(origin, request.url)
        if cached is not None:
            self._authorize(request, cached)
        response = yield request
        answered = stale_retried = False
        while response.status_code == 401:
            challenge = self._challenge_in(request, response)
            if challenge is None:
                return  # not a Digest challenge: the 401 goes back to the caller
            if not answered:
                answered = True
                # A stale answer to a preemptive header already is the one stale retry.
                stale_retried = cached is not None and challenge.stale
            elif challenge.stale and not stale_retried:
                stale_retried = True  # the nonce expired; the credentials were right
            else:
                return  # the credentials were refused: the client raises AuthenticationError
            self._remember(origin, challenge)
            self._ensure_replayable(request)
            self._authorize(request, challenge)
            response = yield request

    def __repr__(self) -> str:
        return f"<DigestAuth username={self.username!r} password=[REDACTED]>"
