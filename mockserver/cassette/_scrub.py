"""Scrubbing: secrets leave an interaction before it is written (and before a live request is
matched, so a scrubbed recording still matches the request that made it).

Three places hold credentials by name: headers (``Authorization``, cookies, API-key headers),
query parameters (``key``, ``api_key``, ``token``, ``sig``...) and JSON or form fields
(``api_key``, ``apiKey``, ``password``...). Names compare case-insensitively, and for query and
JSON names with ``-`` and ``_`` ignored (``apiKey``, ``api_key`` and ``api-key`` are one name).
Every value taken out that way is then swept from the rest of the interaction too: an echo
server (httpbin's ``/get`` or ``/headers``) would otherwise write the key back into a response
body. ``secrets=`` adds literal strings to sweep (a key read from the environment).

``Authorization: Bearer sk-...`` becomes ``Bearer <redacted>`` (the scheme stays readable);
a cookie keeps its name and attributes and loses its value.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from hookwire.mockserver.cassette._format import (
    _LAYOUTS,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    _json_layout,
)

DEFAULT_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "x-auth-token",
        "x-amz-security-token",
    }
)
DEFAULT_QUERY = frozenset(
    {"key", "api_key", "token", "access_token", "refresh_token", "sig", "signature", "secret",
     "client_secret", "password"}
)
# Not "token": an LLM's logprobs are lists of {"token": ..., "logprob": ...}, content, not keys.
DEFAULT_JSON_FIELDS = frozenset(
    {"api_key", "access_token", "refresh_token", "id_token", "auth_token", "secret",
     "client_secret", "password", "authorization"}
)
PLACEHOLDER = "<redacted>"
# A value taken out is swept from everywhere else only when it looks like a secret: long enough,
# and not a plain word (a cookie "theme=darkmode" must not blank "darkmode" in every body).
_MIN_SWEEP = 8


def _sweepable(value: str, placeholder: str) -> bool:
    return len(value) >= _MIN_SWEEP and value != placeholder and not value.isalpha()


def _norm(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


@dataclass(frozen=True)
class Scrubber:
    """What to take out of a recording; the defaults are the module's tables.

    ``Scrubber(headers=Scrubber().headers | {"x-my-token"})`` adds a header; ``secrets`` are
    literal strings swept from everything. ``Scrubber.off()`` keeps everything (a local server
    with nothing to hide).
    """

    headers: frozenset[str] = DEFAULT_HEADERS
    query: frozenset[str] = DEFAULT_QUERY
    json_fields: frozenset[str] = DEFAULT_JSON_FIELDS
    secrets: tuple[str, ...] = ()
    placeholder: str = PLACEHOLDER
    _query_norm: frozenset[str] = field(init=False, repr=False, compare=False)
    _json_norm: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("headers", "query", "json_fields"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise TypeError(f"Scrubber({name}=...) takes a collection of names, not {value!r}")
            object.__setattr__(self, name, frozenset(v.lower() for v in value))
        object.__setattr__(self, "secrets", tuple(s for s in self.secrets if s))
        object.__setattr__(self, "_query_norm", frozenset(map(_norm, self.query)))
        object.__setattr__(self, "_json_norm", frozenset(map(_norm, self.json_fields)))

    @classmethod
    def off(cls) -> Scrubber:
        return cls(headers=frozenset(), query=frozenset(), json_fields=frozenset())

    # -- the pieces -----------------------------------------------------------------------
    def _header(self, name: str, value: str, found: set[str]) -> str:
        lower = name.lower()
        if lower not in self.headers:
            return value
        if lower in ("cookie", "set-cookie"):
            return self._cookie(value, found, attributes=lower == "set-cookie")
        scheme, sep, credentials = value.partition(" ")
        if sep and scheme.isalpha() and credentials.strip():
            found.add(credentials.strip())
            if scheme.lower() == "basic":
                try:
                    user_pass = base64.b64decode(credentials.strip(), validate=True).decode()
                    found.add(user_pass.partition(":")[2])
                except (binascii.Error, ValueError):
                    pass
            return f"{scheme} {self.placeholder}"
        found.add(value)
        return self.placeholder

    def _cookie(self, value: str, found: set[str], *, attributes: bool) -> str:
        parts = value.split(";")
        out = []
        for i, part in enumerate(parts):
            name, eq, val = part.partition("=")
            if eq and (i == 0 or not attributes):
                found.add(val.strip())
                out.append(f"{name}={self.placeholder}")
            else:
                out.append(part)
        return ";".join(out)

    def _pairs(self, text: str, found: set[str]) -> str:
        """``a=1&key=s`` with the secret values replaced, everything else byte for byte."""
        parts = text.split("&")
        changed = False
        for i, part in enumerate(parts):
            name, eq, value = part.partition("=")
            if eq and _norm(unquote_plus(name)) in self._query_norm and value != self.placeholder:
                found.add(unquote_plus(value))
                found.add(value)
                parts[i] = f"{name}={self.placeholder}"
                changed = True
        return "&".join(parts) if changed else text

    def _uri(self, uri: str, found: set[str]) -> str:
        try:
            split = urlsplit(uri)
        except ValueError:
            return uri
        netloc = split.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, colon, password = userinfo.partition(":")
            if colon and password != self.placeholder:
                found.add(password)
                found.add(unquote_plus(password))
                netloc = f"{user}:{self.placeholder}@{hostport}"
        query = self._pairs(split.query, found) if split.query else split.query
        if netloc == split.netloc and query == split.query:
            return uri
        return urlunsplit(split._replace(netloc=netloc, query=query))

    def _json_value(self, value: object, found: set[str]) -> tuple[object, bool]:
        if isinstance(value, dict):
            changed = False
            out = {}
            for k, v in value.items():
                if isinstance(k, str) and _norm(k) in self._json_norm and v != self.placeholder:
                    if isinstance(v, str):
                        found.add(v)
                    out[k] = self.placeholder if v not in (None, "") else v
                    changed = changed or v not in (None, "")
                else:
                    out[k], sub = self._json_value(v, found)
                    changed = changed or sub
            return out, changed
        if isinstance(value, list):
            items = [self._json_value(v, found) for v in value]
            return [v for v, _ in items], any(c for _, c in items)
        return value, False

    def _body(self, body: bytes, content_type: str | None, found: set[str]) -> bytes:
        if not body:
            return body
        ctype = (content_type or "").lower()
        if "x-www-form-urlencoded" in ctype:
            try:
                return self._pairs(body.decode("ascii"), found).encode("ascii")
            except UnicodeDecodeError:
                return body
        layout = _json_layout(body)
        if layout is None:
            if "json" not in ctype:
                return body
            try:
                value = json.loads(body)
            except (ValueError, RecursionError):
                return body
            new, changed = self._json_value(value, found)
            return json.dumps(new, separators=(",", ":"), ensure_ascii=False).encode() if (
                changed) else body
        name, value = layout
        new, changed = self._json_value(value, found)
        if not changed:
            return body
        separators, ascii_only, indent = _LAYOUTS[name.removesuffix("+nl")]
        text = json.dumps(new, separators=separators, ensure_ascii=ascii_only, indent=indent)
        return (text + ("\n" if name.endswith("+nl") else "")).encode("utf-8")

    def _headers(self, headers: Headers, found: set[str]) -> Headers:
        return [(k, self._header(k, v, found)) for k, v in headers]

    # -- whole requests and interactions ----------------------------------------------------
    def request(self, request: RecordedRequest, found: set[str] | None = None) -> RecordedRequest:
        """The request with its named secrets replaced (collected into ``found``)."""
        found = set() if found is None else found
        return replace(
            request,
            uri=self._uri(request.uri, found),
            headers=self._headers(request.headers, found),
            body=self._body(request.body, request.header("content-type"), found),
        )

    def interaction(self, item: Interaction) -> Interaction:
        """The interaction as it may be written: named secrets out, then every value found
        (and every ``secrets`` string) swept from all of it."""
        found: set[str] = set()
        request = self.request(item.request, found)
        resp = item.response
        response = replace(
            resp,
            headers=self._headers(resp.headers, found),
            body=self._body(resp.body, resp.header("content-type"), found),
        )
        sweep = sorted(
            {s for s in found if _sweepable(s, self.placeholder)}
            | set(self.secrets),
            key=len,
            reverse=True,
        )
        if not sweep:
            return Interaction(request, response)
        return Interaction(_sweep_request(request, sweep, self.placeholder),
                           _sweep_response(response, sweep, self.placeholder))


def _sweep_text(text: str, secrets: list[str], placeholder: str) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, placeholder)
    return text


def _sweep_bytes(data: bytes, secrets: list[bytes], placeholder: bytes) -> bytes:
    for secret in secrets:
        if secret in data:
            data = data.replace(secret, placeholder)
    return data


def _sweep_request(req: RecordedRequest, secrets: list[str], placeholder: str) -> RecordedRequest:
    raw = [s.encode() for s in secrets]
    return replace(
        req,
        uri=_sweep_text(req.uri, secrets, placeholder),
        headers=[(k, _sweep_text(v, secrets, placeholder)) for k, v in req.headers],
        body=_sweep_bytes(req.body, raw, placeholder.encode()),
    )


def _sweep_response(
    resp: RecordedResponse, secrets: list[str], placeholder: str
) -> RecordedResponse:
    raw = [s.encode() for s in secrets]
    mark = placeholder.encode()
    chunks = offsets = None
    if resp.chunks is not None:
        chunks = [_sweep_bytes(c, raw, mark) for c in resp.chunks]
        offsets = list(resp.offsets) if resp.offsets is not None else None
        chunks, offsets = _sweep_across(chunks, offsets, raw, mark)
    return replace(
        resp,
        headers=[(k, _sweep_text(v, secrets, placeholder)) for k, v in resp.headers],
        body=_sweep_bytes(resp.body, raw, mark),
        chunks=chunks,
        offsets=offsets,
    )


def _sweep_across(
    chunks: list[bytes], offsets: list[float] | None, secrets: list[bytes], mark: bytes
) -> tuple[list[bytes], list[float] | None]:
    """A secret split over a chunk boundary: the chunks it spans become one, swept."""
    for secret in secrets:
        while True:
            joined = b"".join(chunks)
            at = joined.find(secret)
            if at < 0:
                break
            start = end = 0
            pos = 0
            for i, chunk in enumerate(chunks):
                if pos <= at < pos + len(chunk):
                    start = i
                if pos < at + len(secret) <= pos + len(chunk):
                    end = i
                    break
                pos += len(chunk)
            merged = b"".join(chunks[start : end + 1]).replace(secret, mark)
            chunks = [*chunks[:start], merged, *chunks[end + 1 :]]
            if offsets is not None:
                offsets = [*offsets[:start], offsets[end], *offsets[end + 1 :]]
    return chunks, offsets
