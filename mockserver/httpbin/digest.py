"""HTTP Digest authentication, server side, written from RFC 7616 (no client code shared).

Pure pieces (``parse_credentials``, ``expected_response``, ``challenge``) plus a bounded in-memory
``NonceStore`` that gives the server the state RFC 7616 asks for and httpbin fakes with cookies:
which nonces it issued, their ``opaque``, the highest ``nc`` seen (replays are refused) and how
many times each was used (for the ``stale_after`` route form, which answers ``stale=true`` once a
nonce has been used N times).

Supported: qop ``auth`` / ``auth-int`` / none (RFC 2069), algorithms MD5, SHA-256, SHA-512,
SHA-512-256 (the FIPS 180-4 function, not truncated SHA-512) and each with ``-sess``, ``userhash``
and RFC 5987 ``username*``.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = [
    "ALGORITHMS",
    "NonceStore",
    "Verdict",
    "challenge",
    "digest_hex",
    "expected_response",
    "parse_credentials",
    "verify",
]

ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256", "SHA-512": "sha512", "SHA-512-256": "sha512_256"}

_PARAM = re.compile(
    r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)'
)


def split_algorithm(name: str) -> tuple[str, bool] | None:
    """``"SHA-256-sess"`` -> ``("SHA-256", True)``; ``None`` for an unknown algorithm."""
    upper = name.upper()
    sess = upper.endswith("-SESS")
    base = upper[:-5] if sess else upper
    return (base, sess) if base in ALGORITHMS else None


def digest_hex(algorithm: str, data: bytes) -> str:
    """H(data) for a base algorithm name (no ``-sess`` suffix)."""
    return hashlib.new(ALGORITHMS[algorithm], data).hexdigest()


def parse_credentials(header: str) -> dict[str, str] | None:
    """Parse ``Authorization: Digest k=v, ...``; ``None`` if it is not a Digest header."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            return None
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
        position = match.end()
    return params


def decode_ext_value(value: str) -> str | None:
    """RFC 5987 ``charset'lang'pct-encoded`` -> text (``username*``)."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not (sep and sep2) or charset.lower() not in ("utf-8", "iso-8859-1"):
        return None
    try:
        return unquote(encoded, encoding=charset, errors="strict")
    except UnicodeDecodeError:
        return None


def expected_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str = "",
    cnonce: str = "",
    qop: str | None = None,
    body: bytes = b"",
) -> str:
    """The ``response`` value a client with the right password computes (RFC 7616 §3.4.1)."""
    split = split_algorithm(algorithm)
    if split is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    base, sess = split

    def h(text: str) -> str:
        return digest_hex(base, text.encode("utf-8"))

    ha1 = h(f"{username}:{realm}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        ha2 = h(f"{method}:{uri}:{digest_hex(base, body)}")
    else:
        ha2 = h(f"{method}:{uri}")
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def challenge(
    *, realm: str, nonce: str, opaque: str, qops: tuple[str, ...], algorithm: str, stale: bool
) -> str:
    """A ``WWW-Authenticate`` value offering ``qops`` (empty: RFC 2069 style, no qop)."""
    parts = [f'Digest realm="{realm}"', f'nonce="{nonce}"', f'opaque="{opaque}"']
    if qops:
        parts.append(f'qop="{", ".join(qops)}"')
    parts += [f"algorithm={algorithm}", f"stale={'true' if stale else 'false'}"]
    parts += ["charset=UTF-8", "userhash=true"]
    return ", ".join(parts)


@dataclass
class _NonceState:
    opaque: str
    last_nc: int = 0
    uses: int = 0


class NonceStore:
    """Issued nonces, most recent ``capacity`` kept; thread-safe (servers may run in threads)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._nonces: OrderedDict[str, _NonceState] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, str]:
        """A fresh ``(nonce, opaque)`` pair."""
        nonce, opaque = secrets.token_hex(16), secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = _NonceState(opaque)
            while len(self._nonces) > self._capacity:
                self._nonces.popitem(last=False)
        return nonce, opaque

    def use(self, nonce: str, opaque: str | None, nc: int | None, stale_after: int | None) -> str:
        """Record one authenticated use: ``"ok"``, ``"stale"``, ``"replay"`` or ``"opaque"``."""
        with self._lock:
            state = self._nonces.get(nonce)
            if state is None:
                return "stale"
            if opaque != state.opaque:
                return "opaque"
            if stale_after is not None and state.uses >= stale_after:
                del self._nonces[nonce]
                return "stale"
            if nc is not None:
                if nc <= state.last_nc:
                    return "replay"
                state.last_nc = nc
            state.uses += 1
            return "ok"


class Verdict(enum.Enum):
    OK = "ok"
    CHALLENGE = "challenge"  # no or wrong credentials: a fresh challenge
    STALE = "stale"  # right password, old nonce: a fresh challenge with stale=true
    BAD_REQUEST = "bad request"


@dataclass(frozen=True)
class DigestRoute:
    """What one ``/digest-auth/...`` URL expects."""

    user: str
    password: str
    realm: str
    algorithm: str  # may carry -sess
    qops: tuple[str, ...]  # empty: the legacy RFC 2069 form is also accepted
    stale_after: int | None


def _claimed_user(creds: dict[str, str], route: DigestRoute) -> str | None:
    if "username*" in creds:
        return decode_ext_value(creds["username*"])
    username = creds.get("username")
    if username is None:
        return None
    if creds.get("userhash", "").lower() == "true":
        base = split_algorithm(route.algorithm)
        assert base is not None
        expected = digest_hex(base[0], f"{route.user}:{route.realm}".encode())
        return route.user if secrets.compare_digest(username, expected) else None
    return username


def verify(
    route: DigestRoute,
    creds: dict[str, str],
    *,
    method: str,
    target: str,
    body: bytes,
    store: NonceStore,
) -> tuple[Verdict, str]:
    """Check parsed credentials against ``route``; the string explains a refusal."""
    for key in ("nonce", "uri", "response"):
        if key not in creds:
            return Verdict.CHALLENGE, f"missing {key}"
    if creds.get("realm") != route.realm:
        return Verdict.CHALLENGE, "wrong realm"
    if creds.get("algorithm", "MD5").upper() != route.algorithm.upper():
        return Verdict.CHALLENGE, "wrong algorithm"
    qop = creds.get("qop")
    if (qop is None and route.qops and route.qops != ("auth", "auth-int")) or (
        qop is not None and qop not in (route.qops or ("auth", "auth-int"))
    ):
        return Verdict.CHALLENGE, f"qop {qop!r} was not offered"
    nc_value: int | None = None
    if qop is not None:
        nc_text, cnonce = creds.get("nc", ""), creds.get("cnonce")
        if not re.fullmatch(r"[0-9a-fA-F]{8}", nc_text) or not cnonce:
            return Verdict.BAD_REQUEST, "qop needs nc (8 hex digits) and cnonce"
        nc_value = int(nc_text, 16)
    if creds["uri"] != target:
        # RFC 7616 §3.4.6: the digest must cover this very request target.
        return Verdict.BAD_REQUEST, "uri does not match the request target"
    if _claimed_user(creds, route) != route.user:
        return Verdict.CHALLENGE, "unknown user"
    # HA1 always hashes the real user name: with userhash or username* the claimed name was
    # already mapped back to it above (RFC 7616 §3.4.4).
    wanted = expected_response(
        algorithm=route.algorithm,
        username=route.user,
        realm=route.realm,
        password=route.password,
        method=method,
        uri=creds["uri"],
        nonce=creds["nonce"],
        nc=creds.get("nc", ""),
        cnonce=creds.get("cnonce", ""),
        qop=qop,
        body=body,
    )
    if not secrets.compare_digest(wanted, creds["response"].lower()):
        return Verdict.CHALLENGE, "wrong response"
    outcome = store.use(creds["nonce"], creds.get("opaque"), nc_value, route.stale_after)
    if outcome == "ok":
        return Verdict.OK, ""
    if outcome == "stale":
        return Verdict.STALE, "nonce is stale"
    return Verdict.CHALLENGE, f"nonce {outcome}"
