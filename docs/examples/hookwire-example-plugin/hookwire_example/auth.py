"""``hmac``: sign each request with a shared secret (method, path and body, SHA-256).

An auth scheme is a generator flow: it changes the request, yields it, and may look at the
response. It does no I/O, so it works on every transport, sync and async.
"""

from __future__ import annotations

import hashlib
import hmac

from hookwire.auth import Auth
from hookwire.plugin import Request


class HMACAuth(Auth):
    requires_request_body = True  # the signature covers the body, so the client buffers it

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self._secret = secret.encode()

    def signature(self, method: str, path: str, body: bytes) -> str:
        message = method.encode() + b"\n" + path.encode() + b"\n" + body
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def auth_flow(self, request: Request):
        path = request.url.split("://", 1)[-1].partition("/")[2]
        sig = self.signature(request.method, "/" + path, request.body or b"")
        request.headers["X-Key-Id"] = self.key_id
        request.headers["X-Signature"] = sig
        yield request

    def __repr__(self) -> str:  # never show the secret
        return f"<HMACAuth key_id={self.key_id!r} secret=[REDACTED]>"
