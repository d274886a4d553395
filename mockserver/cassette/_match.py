"""Matching a live request to a recorded one: small named rules, each able to say how two
requests differ (vcrpy's ``matchers.py`` answers only yes or no).

A rule takes ``(recorded, live, ignore_fields)`` and returns None when they agree, else a short
sentence naming the difference. ``match_on`` lists rule names, or callables
``(recorded, live) -> bool | str | None`` (True/None: same; False or a sentence: different).

| rule     | compares                                                              |
|----------|-----------------------------------------------------------------------|
| method   | GET, POST...                                                          |
| scheme   | http / https                                                          |
| host     | the host name, case-insensitively                                     |
| port     | the port (80 / 443 when the URL names none)                           |
| path     | the path, exactly                                                     |
| query    | the query parameters, in any order                                    |
| body     | JSON bodies as values (key order and layout ignored, ``ignore_fields`` |
|          | dropped), form bodies as parameters, anything else byte for byte      |
| headers  | nothing by default; ``("header", "x-name")`` compares one header      |

The body rule is LLM-aware: ``ignore_fields`` (default ``seed`` and ``user``) names JSON fields
left out of the comparison, at the top level or by a dotted path (``metadata.trace_id``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Union
from urllib.parse import parse_qsl, urlsplit

from hookwire.mockserver.cassette._format import RecordedRequest

DEFAULT_MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")
#: What a server replaying a cassette compares: it answers on its own host and port.
SERVER_MATCH_ON = ("method", "path", "query", "body")
DEFAULT_IGNORE_FIELDS = ("seed", "user")

Matcher = Callable[[RecordedRequest, RecordedRequest], bool | str | None]
MatchRule = Union[str, tuple[str, str], Matcher]  # noqa: UP007  (a runtime alias on 3.10)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parts(uri: str) -> tuple[str, str, int | None, str, list[tuple[str, str]]]:
    split = urlsplit(uri)
    try:
        port = split.port or _DEFAULT_PORTS.get(split.scheme)
    except ValueError:
        port = None
    query = sorted(parse_qsl(split.query, keep_blank_values=True))
    return split.scheme, (split.hostname or "").lower(), port, split.path or "/", query


def _compare(name: str, recorded: Any, live: Any) -> str | None:
    if recorded == live:
        return None
    return f"{name}: recorded {_short(recorded)}, got {_short(live)}"


def _json(body: bytes) -> tuple[bool, Any]:
    if not body or body.lstrip()[:1] not in (b"{", b"["):
        return False, None
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def _drop(value: Any, fields: Sequence[str]) -> Any:
    if not isinstance(value, dict):
        return value
    value = dict(value)
    for path in fields:
        head, dot, rest = path.partition(".")
        if not dot:
            value.pop(path, None)
        elif isinstance(value.get(head), dict):
            value[head] = _drop(value[head], [rest])
    return value


def _json_diff(recorded: Any, live: Any, where: str, out: list[str], limit: int = 3) -> None:
    if len(out) >= limit or recorded == live:
        return
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key in list(recorded) + [k for k in live if k not in recorded]:
            here = f"{where}.{key}"
            if key not in live:
                out.append(f"{here}: recorded {_short(recorded[key])}, missing now")
            elif key not in recorded:
                out.append(f"{here}: not recorded, got {_short(live[key])}")
            else:
                _json_diff(recorded[key], live[key], here, out, limit)
            if len(out) >= limit:
                return
        return
    if isinstance(recorded, list) and isinstance(live, list) and len(recorded) == len(live):
        for i, (a, b) in enumerate(zip(recorded, live, strict=True)):
            _json_diff(a, b, f"{where}[{i}]", out, limit)
        return
    out.append(f"{where}: recorded {_short(recorded)}, got {_short(live)}")


def body_difference(
    recorded: RecordedRequest, live: RecordedRequest, ignore_fields: Sequence[str] = ()
) -> str | None:
    a, b = recorded.body, live.body
    if a == b:
        return None
    a_is_json, a_value = _json(a)
    b_is_json, b_value = _json(b)
    if a_is_json and b_is_json:
        a_value, b_value = _drop(a_value, ignore_fields), _drop(b_value, ignore_fields)
        diffs: list[str] = []
        _json_diff(a_value, b_value, "body", diffs)
        return "; ".join(diffs) or None
    form = "x-www-form-urlencoded"
    if form in (recorded.header("content-type") or "") and form in (
        live.header("content-type") or ""
    ):
        try:
            pa = sorted(parse_qsl(a.decode("ascii"), keep_blank_values=True))
            pb = sorted(parse_qsl(b.decode("ascii"), keep_blank_values=True))
        except UnicodeDecodeError:
            pass
        else:
            return _compare("body", pa, pb)
    pairs = enumerate(zip(a, b, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    return (
        f"body: {len(a)} bytes recorded, {len(b)} now, first different at byte {at} "
        f"(recorded {_short(a[at:at + 24])}, got {_short(b[at:at + 24])})"
    )


def difference(
    rule: MatchRule,
    recorded: RecordedRequest,
    live: RecordedRequest,
    ignore_fields: Sequence[str] = DEFAULT_IGNORE_FIELDS,
) -> str | None:
    """None when ``recorded`` and ``live`` agree under ``rule``, else what differs."""
    if callable(rule):
        verdict = rule(recorded, live)
        if verdict is True or verdict is None:
            return None
        name = getattr(rule, "__name__", "custom rule")
        return f"{name}: {verdict}" if isinstance(verdict, str) else f"{name}: differs"
    if isinstance(rule, tuple):
        kind, header = rule
        if kind != "header":
            raise ValueError(f"unknown match rule {rule!r}")
        return _compare(f"header {header}", recorded.header(header), live.header(header))
    if rule == "method":
        return _compare("method", recorded.method.upper(), live.method.upper())
    if rule == "body":
        return body_difference(recorded, live, ignore_fields)
    if rule == "headers":
        return None
    index = {"scheme": 0, "host": 1, "port": 2, "path": 3, "query": 4}.get(rule)
    if index is None:
        raise ValueError(
            f"unknown match rule {rule!r}; the rules are method, scheme, host, port, path, "
            "query, body, ('header', NAME) or a callable"
        )
    return _compare(rule, _parts(recorded.uri)[index], _parts(live.uri)[index])


def check_rules(match_on: Sequence[MatchRule]) -> tuple[MatchRule, ...]:
    """The rules, checked now (a typo fails when the cassette is made, not on first use)."""
    if isinstance(match_on, str):
        raise ValueError(f"match_on takes a list of rules, not the string {match_on!r}")
    probe = RecordedRequest("GET", "http://h/")
    for rule in match_on:
        if not callable(rule):
            difference(rule, probe, probe)
    return tuple(match_on)


def differences(
    match_on: Sequence[MatchRule],
    recorded: RecordedRequest,
    live: RecordedRequest,
    ignore_fields: Sequence[str],
) -> list[str]:
    out = []
    for rule in match_on:
        diff = difference(rule, recorded, live, ignore_fields)
        if diff is not None:
            out.append(diff)
    return out
