"""Auth endpoints: ``/basic-auth``, ``/hidden-basic-auth``, ``/bearer`` and ``/digest-auth``."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response

from ._json import json_response, text_response
from .cookies import set_cookie_header
from .digest import DigestRoute, NonceStore, Verdict, challenge, parse_credentials, verify
from .digest import split_algorithm as _split_algorithm
from .status import status_response

__all__ = ["DIGEST_REALM", "NONCES"]

DIGEST_REALM = "me@kennethreitz.com"  # httpbin's realm; clients sometimes assert on it
NONCES = NonceStore()


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _authenticated(request: Request, user: str) -> Response:
    return json_response(request, {"authenticated": True, "user": user})


async def view_basic_auth(request: Request) -> Response:
    """200 with the user for matching Basic credentials, else 401 with a Basic challenge."""
    user, passwd = request.path_params["user"], request.path_params["passwd"]
    if _basic_credentials(request) != (user, passwd):
        return status_response(request, 401)
    return _authenticated(request, user)


async def view_hidden_basic_auth(request: Request) -> Response:
    """Like ``/basic-auth`` but answers 404 instead of challenging."""
    user, passwd = request.path_params["user"], request.path_params["passwd"]
    if _basic_credentials(request) != (user, passwd):
        return status_response(request, 404)
    return _authenticated(request, user)


async def view_bearer(request: Request) -> Response:
    """200 with the token for any ``Authorization: Bearer <token>``, else 401."""
    header = request.headers.get("authorization")
    if not header or not header.startswith("Bearer "):
        return text_response(request, b"", 401, headers=[(b"www-authenticate", b"Bearer")])
    return json_response(request, {"authenticated": True, "token": header[len("Bearer ") :]})


def _digest_route(request: Request) -> DigestRoute:
    params = request.path_params
    algorithm = params.get("algorithm", "MD5")
    if _split_algorithm(algorithm) is None:
        algorithm = "MD5"  # httpbin falls back to MD5 for names it does not know
    qop = params["qop"]
    stale_after = params.get("stale_after", "never")
    return DigestRoute(
        user=params["user"],
        password=params["passwd"],
        realm=DIGEST_REALM,
        algorithm=algorithm,
        qops=(qop,) if qop in ("auth", "auth-int") else (),
        stale_after=int(stale_after) if stale_after.isdigit() else None,
    )


def _challenge(request: Request, route: DigestRoute, stale: bool) -> Response:
    nonce, opaque = NONCES.issue()
    value = challenge(
        realm=route.realm,
        nonce=nonce,
        opaque=opaque,
        qops=route.qops or ("auth", "auth-int"),
        algorithm=route.algorithm,
        stale=stale,
    )
    response = text_response(request, b"", 401, headers=[(b"www-authenticate", value.encode())])
    response.raw_headers.append(set_cookie_header("fake", "fake_value"))
    return response


def _target(request: Request) -> str:
    raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope["query_string"]
    return (raw_path + (b"?" + query if query else b"")).decode("latin-1")


async def view_digest_auth(request: Request) -> Response:
    """Digest-protected page. See ``digest.py`` for what is checked.

    ``?require-cookie=1`` additionally demands the ``fake=fake_value`` cookie set with the
    challenge (403 without it), like httpbin, to test clients' cookie handling during auth.
    """
    route = _digest_route(request)
    require_cookie = request.query_params.get("require-cookie", "").lower() in ("1", "t", "true")
    creds = parse_credentials(request.headers.get("authorization", ""))
    if creds is None or (require_cookie and "cookie" not in request.headers):
        return _challenge(request, route, stale=False)
    if require_cookie and request.cookies.get("fake") != "fake_value":
        return json_response(
            request,
            {"errors": ["missing cookie set on challenge"]},
            403,
            headers=[set_cookie_header("fake", "fake_value")],
        )
    body = await request.body() if "auth-int" in (creds.get("qop") or "") else b""
    verdict, reason = verify(
        route, creds, method=request.method, target=_target(request), body=body, store=NONCES
    )
    if verdict is Verdict.OK:
        return _authenticated(request, route.user)
    if verdict is Verdict.BAD_REQUEST:
        return text_response(request, reason, 400, "text/plain; charset=utf-8")
    return _challenge(request, route, stale=verdict is Verdict.STALE)
