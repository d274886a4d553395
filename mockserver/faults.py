"""Scripted faults: the `X-Mock-Fault` header grammar and the `Rule` it parses into.

Grammar (see docs/mockserver.md)::

    X-Mock-Fault: group [| group ...]
    group       = directive [; directive ...]
    directive   = key=value | flag

A rule applies to every call unless it carries `calls=<n>` or `calls=<a>-<b>`; calls are
counted per (`X-Mock-Session` value, path), 1-based. The first group whose `calls` matches the
current call number wins. A scenario file's `[[rule]]` tables parse into the same `Rule`, with
extra match keys (path, method, session) and scripted reply fields (content, reasoning, ...).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

MAX_DELAY = 30.0
_NOT_HEADER_TEXT = re.compile(r"[^\t\x20-\x7e\x80-\xff]")  # what a header value cannot hold


class FaultSyntaxError(ValueError):
    """A fault directive or scenario rule is malformed; the message names the culprit."""


@dataclass
class Rule:
    """One scripted behaviour: when it applies, what fault, what reply (all optional)."""

    # matching
    calls: tuple[int, int] | None = None
    path: str | None = None
    method: str | None = None
    session: str | None = None
    # faults
    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: str | None = None
    delay: float | None = None
    close_after: int | None = None
    reset_after_body: bool = False
    stall_after: int | None = None
    keepalive_only: bool = False
    malformed_at: int | None = None
    error_at: int | None = None
    no_done: bool = False
    # scripted reply (scenario files and programmatic rules only)
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    source: str = field(default="", compare=False)

    def applies_to_call(self, number: int) -> bool:
        return self.calls is None or self.calls[0] <= number <= self.calls[1]

    @property
    def is_stream_fault(self) -> bool:
        return (
            any(
                v is not None and v is not False
                for v in (self.stall_after, self.malformed_at, self.error_at)
            )
            or self.keepalive_only
            or self.no_done
        )

    def kinds(self) -> list[str]:
        """The fault kinds this rule applies, by the names of the contract-coverage catalogue
        (`hookwire.mockserver.coverage_report`): status, retry-after, delay, reset, cut,
        stall, keepalive-only, malformed, error-event, no-done."""
        out = []
        if self.status is not None:
            out.append("status")
        if self.retry_after is not None or self.retry_after_ms is not None:
            out.append("retry-after")
        if self.delay:
            out.append("delay")
        if self.reset_after_body or self.close_after == 0:
            out.append("reset")
        elif self.close_after is not None:
            out.append("cut")
        if self.stall_after is not None:
            out.append("stall")
        for name, on in (
            ("keepalive-only", self.keepalive_only),
            ("malformed", self.malformed_at is not None),
            ("error-event", self.error_at is not None),
            ("no-done", self.no_done),
        ):
            if on:
                out.append(name)
        return out

    def describe(self) -> str:
        """Short text for the journal: the rule's source, or its non-default fields."""
        if self.source:
            return self.source
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "source" and value not in (None, False):
                parts.append(f"{f.name}={value}")
        return ";".join(parts)


_FLAGS = {"reset-after-body", "keepalive-only", "no-done"}
_INTS = {"close-after", "stall-after", "malformed-at", "error-at"}
_RAW = {"retry-after", "retry-after-ms"}
MATCH_KEYS = {"calls", "path", "method", "session"}
REPLY_KEYS = {"content", "reasoning", "tool_calls", "finish_reason"}
FAULT_KEYS = _FLAGS | _INTS | _RAW | {"status", "delay"}


def parse_calls(value: Any) -> tuple[int, int]:
    """`3` -> (3, 3); `"1-2"` -> (1, 2); `[1, 2]` -> (1, 2). Call numbers are 1-based."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            lo = hi = value
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            lo, hi = int(value[0]), int(value[1])
        else:
            text = str(value).strip()
            lo_s, sep, hi_s = text.partition("-")
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
    except (TypeError, ValueError):
        raise FaultSyntaxError(f"calls must be <n> or <a>-<b>, not {value!r}") from None
    if lo < 1 or hi < lo:
        raise FaultSyntaxError(f"calls range must be 1-based and ascending, not {value!r}")
    return lo, hi


def _int(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise FaultSyntaxError(f"{key} needs an integer, not {value!r}") from None
    if not low <= number <= high:
        raise FaultSyntaxError(f"{key} must be in {low}..{high}, not {number}")
    return number


def set_directive(rule: Rule, key: str, value: Any) -> None:
    """Apply one fault directive (header or scenario spelling) to `rule`, validating it."""
    key = key.strip().lower().replace("_", "-")
    if key in _FLAGS:
        if value not in (True, None, "", "true", "1"):
            raise FaultSyntaxError(f"{key} is a flag and takes no value, got {value!r}")
        setattr(rule, key.replace("-", "_"), True)
    elif key in _INTS:
        setattr(rule, key.replace("-", "_"), _int(key, value, 0, 1_000_000))
    elif key in _RAW:
        # Sent verbatim on purpose: clients must survive "-1", "nan" and bad dates. But not
        # what HTTP cannot carry: a CR/LF (from a scenario rule) would drop the connection.
        raw = str(value).strip()
        if _NOT_HEADER_TEXT.search(raw):
            raise FaultSyntaxError(f"{key} must be header text (no control characters): {raw!r}")
        setattr(rule, key.replace("-", "_"), raw)
    elif key == "status":
        rule.status = _int(key, value, 100, 599)
    elif key == "delay":
        try:
            seconds = float(str(value).strip())
        except ValueError:
            raise FaultSyntaxError(f"delay needs seconds, not {value!r}") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise FaultSyntaxError(f"delay must be a finite number >= 0, not {value!r}")
        rule.delay = min(seconds, MAX_DELAY)
    elif key == "calls":
        rule.calls = parse_calls(value)
    else:
        raise FaultSyntaxError(f"unknown fault directive {key!r}")


def parse_group(text: str) -> Rule:
    """Parse one `;`-separated directive group."""
    rule = Rule(source=text.strip())
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        set_directive(rule, key, value.strip() if sep else None)
    return rule


def parse_header(values: list[str]) -> list[Rule]:
    """All `X-Mock-Fault` header values -> rules, in order (`|` separates groups)."""
    rules = []
    for value in values:
        for group in value.split("|"):
            if group.strip():
                rules.append(parse_group(group))
    return rules


def pick(rules: list[Rule], call_number: int) -> Rule | None:
    """The first rule that applies to this call number, if any."""
    for rule in rules:
        if rule.applies_to_call(call_number):
            return rule
    return None
