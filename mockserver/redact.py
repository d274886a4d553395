"""The mock server's one redaction rule, and how each part of a request is put through it.

Every view of what the mock received (the journal in-process, `/__mock__/journal`,
`/__mock__/last`) shows requests as `hookwire.mockserver.journal` recorded them, and the journal
records them through this module, so a secret is replaced by "[REDACTED]" before it is stored.
Written for the mock alone: it shares nothing with the SDK's own redaction.

The rule, for a name (header, query parameter, JSON key at any depth, form field), lowercased
and read left to right for these needles:

- a stem anywhere (`STEMS`: key, secret, signature, passw, cookie, credential, bearer), and
  ``token`` and ``auth``: secret, except where a benign word holds them (``tokens`` as in
  ``max_tokens``, ``tokenize``, ``author``, ``keyword``, ``monkey``...: `_benign`);
- a short word (`SHORT`: sig, pwd, pass, jwt, otp, hmac) where a word can start and end:
  after a non-letter or as a capital hump, before anything but a lowercase letter (``x-sig``,
  ``mySig`` are secret; ``design`` is not);
- the whole name one of `SECRET_NAMES` (``code``, ``session``, ``sid``...: OAuth codes and
  session ids as query parameters; ``X-Mock-Session`` and ``country_code`` are no secret);
- except the names in `NOT_SECRET` (``Idempotency-Key`` is a correlation id, not a key: tests
  assert on it).

The same reading (`_suspect`) runs over a whole request body before it is stored
(`may_hold_secret`): a body in which it finds nothing cannot hold a secret name, and is kept
without decoding it; any other is decoded and redacted at once.

Values are replaced, names and everything else kept, so tests can still assert on traffic.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[REDACTED]"
_REDACTED_B = REDACTED.encode()

STEMS = ("key", "secret", "signature", "passw", "passphrase", "cookie", "credential", "bearer")
SHORT = ("sig", "pwd", "pass", "jwt", "otp", "hmac")
SECRET_NAMES = frozenset({"code", "session", "session_id", "sessionid", "sid"})
NOT_SECRET = frozenset({"idempotency_key", "x_idempotency_key"})


def _alternation(needles: set[str]) -> str:
    # longest first where one needle starts another: the alternation takes the first that fits
    return "|".join(re.escape(n) for n in sorted(needles, key=lambda n: (-len(n), n)))


_NAME_NEEDLES = {*STEMS, "token", "auth", *SHORT}
_FIND = re.compile(_alternation(_NAME_NEEDLES))
# In a body, a secret name may also be written with an escape (\u in JSON, % in a form) that no
# needle would see: either is a hit. Whole secret names are looked for as short words.
_BODY_SHORT = {*SHORT, *(n for n in SECRET_NAMES if "_" not in n)}
_FIND_BYTES = re.compile((_alternation(_NAME_NEEDLES | _BODY_SHORT) + r"|\\u|%").encode())
_SHORT = frozenset(_BODY_SHORT)
_KEY_BEFORE = ("mon", "whis", "hoc", "tur", "joc", "don")  # monkey, whiskey, hockey...
_KEY_AFTER = ("word", "board", "stroke", "note")  # keyword, keyboard, keystroke, keynote


def _benign(low: Any, word: str, start: int, end: int) -> bool:
    """Whether the needle `word` at `low[start:end]` is part of a word that is no secret."""
    if word == "token":  # tokens (a count), tokenize/tokenizer
        return bool(low[end : end + 1] in ("s", b"s") or low[end : end + 2] in ("iz", b"iz"))
    if word == "auth":  # author(s), but authorization is a secret
        return bool(
            low[end : end + 2] in ("or", b"or") and low[end : end + 4] not in ("oriz", b"oriz")
        )
    if word == "key":
        before = low[max(start - 4, 0) : start]
        if isinstance(before, bytes):
            before = before.decode("latin-1")
        after = low[end : end + 6]
        if isinstance(after, bytes):
            after = after.decode("latin-1")
        return bool(before.endswith(_KEY_BEFORE) or after.startswith(_KEY_AFTER))
    return False


def _suspect(
    text: Any, low: Any, finder: re.Pattern[Any], patience: int = 0, start_at: int = 0
) -> bool:
    """True when the reading of the module doc finds a secret needle in `text` (str or bytes;
    `low` is it lowercased). With `patience`, more benign hits than that also count as True."""
    for seen, match in enumerate(finder.finditer(low, start_at)):
        if patience and seen >= patience:
            return True  # too many to look at one by one: let the caller decode
        start, end = match.span()
        word = match.group()
        if isinstance(word, bytes):
            word = word.decode("ascii")
            if word in ("\\u", "%"):
                return True
        if word in _SHORT:
            starts = start == 0 or not text[start - 1 : start].islower()
            if (starts or text[start : start + 1].isupper()) and not text[end : end + 1].islower():
                return True
        elif not _benign(low, word, start, end):
            return True
    return False


# Cached verdicts: names repeat on every request (the same dozen headers and JSON keys), but a
# client can send endless distinct ones, so the caches stop growing at a size.
_CACHE_MAX = 4096
_verdicts: dict[str, bool] = {}
_header_verdicts: dict[bytes, bool] = {}


# ASCII letters only, as bytes.lower() does to a body: str.lower() may change a name's length
# ("İ" becomes two characters), and the needles' positions must be the name's
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _judge(name: str) -> bool:
    exact = name.lower().replace("-", "_")
    if exact in NOT_SECRET:
        return False
    return exact in SECRET_NAMES or _suspect(name, name.translate(_ASCII_LOWER), _FIND)


def is_secret(name: str) -> bool:
    """True when the value under `name` must never be shown (the rule in the module doc)."""
    verdict = _verdicts.get(name)
    if verdict is None:
        verdict = _judge(name)
        if len(_verdicts) < _CACHE_MAX:
            _verdicts[name] = verdict
    return verdict


def _secret_header(raw_name: bytes) -> bool:
    verdict = _header_verdicts.get(raw_name)
    if verdict is None:
        verdict = _judge(raw_name.decode("latin-1"))
        if len(_header_verdicts) < _CACHE_MAX:
            _header_verdicts[raw_name] = verdict
    return verdict


def header_list(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """ASGI headers with every secret value replaced; the same list when none is secret."""
    items = raw if isinstance(raw, list) else list(raw)
    verdicts = _header_verdicts
    for name, _ in items:
        verdict = verdicts.get(name)
        if verdict or (verdict is None and _secret_header(name)):
            return [(n, _REDACTED_B if _secret_header(n) else v) for n, v in items]
    return items


def pairs(text: str) -> str:
    """``a=1&api_key=x`` -> ``a=1&api_key=[REDACTED]`` (query strings and form bodies).

    Names are percent-decoded before they are judged (``api%5Fkey`` is ``api_key``); pieces
    that are not secret are kept byte for byte.
    """
    if "=" not in text:
        return text
    parts = text.split("&")
    changed = False
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value and is_secret(unquote_plus(name)):
            parts[i] = f"{name}={REDACTED}"
            changed = True
    return "&".join(parts) if changed else text


def json_value(value: Any) -> Any:
    """`value` with the values of secret keys replaced at any depth.

    Copy on write: containers without a secret are returned as they are, so a request body
    with nothing to hide costs one walk and no copy. The caller bounds the depth (the JSON it
    walks was parsed under the nesting cap).
    """
    if isinstance(value, dict):
        out: dict[Any, Any] | None = None
        for key, item in value.items():
            new = REDACTED if isinstance(key, str) and is_secret(key) else json_value(item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        copy: list[Any] | None = None
        for i, item in enumerate(value):
            new = json_value(item)
            if new is not item:
                if copy is None:
                    copy = list(value)
                copy[i] = new
        return value if copy is None else copy
    return value


# `name: value` / `name=value` / `"name": "value"` in text that is not JSON we could parse
# (malformed JSON, text/plain, a multipart part): the value runs to the end of its quotes, or
# to a separator or the end of the line.
_PAIR = re.compile(
    r"""(["']?)([\w.\-]+)\1[ \t]*([:=])[ \t]*"""  # a name, maybe quoted, then : or =
    r"""("(?:[^"\\\r\n]|\\.)*"?|'[^'\r\n]*'?|[^\r\n&,;}\]"']*)"""  # its value
)


def text(value: str) -> str:
    """Text with the value of every secret-named ``name=value`` / ``name: value`` replaced."""

    def scrub(match: re.Match[str]) -> str:
        if not is_secret(match.group(2)):
            return match.group(0)
        quote = match.group(4)[:1] if match.group(4)[:1] in ("'", '"') else ""
        head = match.group(0)[: match.start(4) - match.start(0)]
        return f"{head}{quote}{REDACTED}{quote}"

    return _PAIR.sub(scrub, value)


PREFILTER_MAX = 64 * 1024  # bigger bodies are decoded without a look: parsing costs less
_PATIENCE = 64  # benign hits to look at in a body before decoding it anyway


def may_hold_secret(body: bytes) -> bool:
    """False only when no name in `body` can be secret: `_suspect` over the raw bytes finds
    nothing, and no escape (``\\u`` in JSON, ``%`` in a form) could spell a name."""
    if len(body) > PREFILTER_MAX:
        return True
    low = body.lower()
    first = _FIND_BYTES.search(low)
    if first is None:  # the common case, at the regex engine's speed
        return False
    return _suspect(body, low, _FIND_BYTES, _PATIENCE, first.start())


def multipart(raw: bytes, content_type: str) -> bytes:
    """A multipart body with the content of every secret-named part replaced."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return raw
    delimiter = b"--" + match.group(1).encode("latin-1")
    pieces = raw.split(delimiter)
    for i, piece in enumerate(pieces):
        head, sep, _ = piece.partition(b"\r\n\r\n")
        name = re.search(rb'[; ]name="([^"]*)"', head)
        if sep and name and is_secret(unquote_plus(name.group(1).decode("latin-1"))):
            pieces[i] = head + sep + _REDACTED_B + b"\r\n"
    return delimiter.join(pieces)
