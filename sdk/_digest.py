"""HTTP Digest authentication (RFC 7616) as pure functions: parse a challenge, build an answer.

No state and no I/O here: the nonce count, the fresh cnonce and the retry on ``stale=true`` live
in :class:`hookwire.auth.DigestAuth`, which drives these functions. Compared with the peers:
requests drops unknown algorithms silently and lacks SHA-512-256; httpx raises
``NotImplementedError`` on ``auth-int`` and ``KeyError`` on an unknown algorithm. Here every
RFC 7616 algorithm (and httpbin's SHA-512) works with and without ``-sess``, ``auth-int`` hashes
the body, and anything unanswerable raises :class:`DigestChallengeError` naming the reason.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple
from urllib.parse import quote

from hookwire.errors import DigestChallengeError

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "DigestChallenge",
    "DigestChallengeError",
    "build_authorization",
    "choose_qop",
    "digest_hash",
    "digest_offered",
    "parse_challenge",
]

# algorithm (upper case, without -SESS) -> (hashlib name, strength rank for choosing)
_ALGORITHMS = {
    "MD5": ("md5", 1),
    "SHA-256": ("sha256", 2),
    "SHA-512-256": ("sha512_256", 3),  # SHA-512/256 proper, not truncated SHA-512 (RFC 7616 3.2)
    "SHA-512": ("sha512", 3),  # not in RFC 7616, but httpbin offers it
}


def _available(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:  # an OpenSSL build without SHA-512/256
        return False
    return True


#: Base algorithms this interpreter can compute; each also works with ``-sess``.
SUPPORTED_ALGORITHMS = tuple(a for a, (name, _) in _ALGORITHMS.items() if _available(name))

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf"({_TCHARS})\s*=\s*(.*)", re.DOTALL)
_SCHEME = re.compile(rf"({_TCHARS})(?:\s+(.*))?", re.DOTALL)
# RFC 8187 attr-char, which needs no percent-encoding in ``username*``.
_ATTR_SAFE = "!#$&+-.^_`|~"


class DigestChallenge(NamedTuple):
    """One parsed ``Digest`` challenge. ``algorithm`` keeps the server's spelling."""

    realm: str
    nonce: str
    qop: tuple[str, ...] = ()
    algorithm: str = "MD5"
    opaque: str | None = None
    stale: bool = False
    userhash: bool = False
    charset: str | None = None
    domain: tuple[str, ...] = ()

    @property
    def base_algorithm(self) -> str:
        """``"SHA-256"`` for ``sha-256-sess``: the hash, upper case, without the suffix."""
        upper = self.algorithm.upper()
        return upper[: -len("-SESS")] if upper.endswith("-SESS") else upper

    @property
    def is_session(self) -> bool:
        return self.algorithm.upper().endswith("-SESS")


def _split_items(value: str) -> list[str]:
    """Split at commas outside quoted strings; quotes and escapes are kept for later."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if not raw.startswith('"'):
        return raw
    out: list[str] = []
    escaped = False
    for char in raw[1:]:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            break
        else:
            out.append(char)
    return "".join(out)


def _challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Every ``scheme param=value, ...`` challenge in a (possibly combined) header value."""
    found: list[tuple[str, dict[str, str]]] = []
    for item in _split_items(header):
        param = _PARAM.fullmatch(item)
        if param is None:
            scheme = _SCHEME.fullmatch(item)
            if scheme is None:
                continue  # junk between challenges is skipped, not fatal
            found.append((scheme.group(1), {}))
            rest = scheme.group(2)
            param = _PARAM.fullmatch(rest) if rest else None
            if param is None:
                continue  # a bare scheme, or a token68 (Basic/Bearer credentials)
        if found:
            found[-1][1].setdefault(param.group(1).lower(), _unquote(param.group(2)))
    return found


def _challenge_from(params: dict[str, str]) -> DigestChallenge:
    for name in ("realm", "nonce"):
        if name not in params:
            raise DigestChallengeError(f"the Digest challenge has no {name}")
    bad = [k for k, v in params.items() if any(c in v for c in "\r\n\x00")]
    if bad:
        raise DigestChallengeError(f"the Digest challenge's {bad[0]} holds CR, LF or NUL")
    challenge = DigestChallenge(
        realm=params["realm"],
        nonce=params["nonce"],
        qop=tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()),
        algorithm=params.get("algorithm", "MD5").strip() or "MD5",
        opaque=params.get("opaque"),
        stale=params.get("stale", "").strip().lower() == "true",
        userhash=params.get("userhash", "").strip().lower() == "true",
        charset=params.get("charset"),
        domain=tuple(params.get("domain", "").split()),
    )
    if challenge.base_algorithm not in SUPPORTED_ALGORITHMS:
        supported = ", ".join(SUPPORTED_ALGORITHMS)
        raise DigestChallengeError(
            f"Digest algorithm {challenge.algorithm!r} is not supported (supported: {supported},"
            " each also with -sess)"
        )
    if challenge.qop and not {"auth", "auth-int"} & set(challenge.qop):
        raise DigestChallengeError(f"Digest qop {', '.join(challenge.qop)!r} is not supported")
    return challenge


def parse_challenge(header_value: str) -> DigestChallenge:
    """The strongest Digest challenge this SDK can answer in a ``WWW-Authenticate`` value.

    The value may hold several challenges (several headers joined with ", ", as
    ``Headers[...]`` does), Digest or not. Among the Digest ones that can be answered, the
    strongest algorithm wins (SHA-512-256 and SHA-512, then SHA-256, then MD5); on a tie, the
    first listed, which RFC 7616 section 3.7 makes the server's preference. Raises
    :class:`DigestChallengeError`, naming the problem, when none can be answered.
    """
    problems: list[str] = []
    best: DigestChallenge | None = None
    offered: list[str] = []
    for scheme, params in _challenges(header_value):
        offered.append(scheme)
        if scheme.lower() != "digest":
            continue
        try:
            challenge = _challenge_from(params)
        except DigestChallengeError as exc:
            problems.append(str(exc))
            continue
        if best is None or _rank(challenge) > _rank(best):
            best = challenge
    if best is not None:
        return best
    if problems:
        raise DigestChallengeError("; ".join(problems))
    schemes = ", ".join(dict.fromkeys(offered)) or "none"
    raise DigestChallengeError(f"no Digest challenge in WWW-Authenticate (schemes: {schemes})")


def _rank(challenge: DigestChallenge) -> int:
    return _ALGORITHMS[challenge.base_algorithm][1]


def digest_offered(header_value: str) -> bool:
    """Whether a ``WWW-Authenticate`` value holds any Digest challenge, answerable or not."""
    return any(scheme.lower() == "digest" for scheme, _ in _challenges(header_value))


def digest_hash(algorithm: str, data: bytes) -> str:
    """Hex digest of ``data`` with a Digest algorithm name (``-sess`` ignored)."""
    base = algorithm.upper().removesuffix("-SESS")
    if base not in SUPPORTED_ALGORITHMS:
        raise DigestChallengeError(f"Digest algorithm {algorithm!r} is not supported")
    return hashlib.new(_ALGORITHMS[base][0], data).hexdigest()


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _username_param(username: str) -> str:
    # RFC 7616 section 3.4.4: a name that cannot be a quoted-string goes in username*
    # with RFC 8187 encoding; printable ASCII is quoted (with escapes) as usual.
    if username.isascii() and username.isprintable():
        return f"username={_quoted(username)}"
    return "username*=UTF-8''" + quote(username.encode("utf-8"), safe=_ATTR_SAFE)


def choose_qop(challenge: DigestChallenge, wanted: str | None = None) -> str | None:
    """The qop an answer will use: ``wanted`` if offered, else ``auth``, else ``auth-int``.

    None for an RFC 2069 challenge without qop. :class:`DigestAuth` asks this first to know
    whether it must have the body in memory (``auth-int``).
    """
    if not challenge.qop:
        if wanted is not None:
            raise DigestChallengeError(f"qop {wanted!r} asked for, but the server offers none")
        return None  # RFC 2069 compatibility: no qop, nc or cnonce
    if wanted is not None:
        if wanted not in challenge.qop:
            raise DigestChallengeError(f"qop {wanted!r} is not among {challenge.qop}")
        return wanted
    return "auth" if "auth" in challenge.qop else "auth-int"


def build_authorization(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    body: bytes | None = None,
    nc: int,
    cnonce: str,
    qop: str | None = None,
) -> str:
    """The ``Authorization`` header value answering ``challenge`` (RFC 7616 section 3.4).

    ``uri`` is the request target as sent (path and query). ``body`` is hashed for
    ``auth-int`` (None counts as empty). ``nc`` counts the uses of this nonce, from 1.
    ``qop`` forces ``auth`` or ``auth-int``; by default ``auth`` is preferred when offered.
    Usernames and passwords are encoded as UTF-8 (the only charset RFC 7616 allows).
    """
    if not 1 <= nc <= 0xFFFFFFFF:
        raise ValueError(f"nc is a count of nonce uses from 1 to 0xFFFFFFFF, got {nc}")
    if not cnonce or any(c in cnonce for c in '"\\\r\n'):
        raise ValueError("cnonce must be a non-empty token without quotes or line breaks")
    chosen = choose_qop(challenge, qop)
    alg = challenge.algorithm

    def h(text: str) -> str:
        return digest_hash(alg, text.encode("utf-8"))

    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if challenge.is_session:
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    a2 = f"{method.upper()}:{uri}"
    if chosen == "auth-int":
        a2 += ":" + digest_hash(alg, body or b"")
    ha2 = h(a2)
    nc_text = f"{nc:08x}"
    if chosen is None:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{nc_text}:{cnonce}:{chosen}:{ha2}")

    if challenge.userhash:
        user_param = f"username={_quoted(h(f'{username}:{challenge.realm}'))}"
    else:
        user_param = _username_param(username)
    parts = [
        user_param,
        f"realm={_quoted(challenge.realm)}",
        f"uri={_quoted(uri)}",
        f"algorithm={alg}",
        f"nonce={_quoted(challenge.nonce)}",
    ]
    if chosen is not None:
        parts += [f"nc={nc_text}", f"cnonce={_quoted(cnonce)}", f"qop={chosen}"]
    parts.append(f"response={_quoted(response)}")
    if challenge.opaque is not None:
        parts.append(f"opaque={_quoted(challenge.opaque)}")
    if challenge.userhash:
        parts.append("userhash=true")
    return "Digest " + ", ".join(parts)
