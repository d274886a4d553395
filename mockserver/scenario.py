"""Scenario rules: scripted faults and replies from a TOML file or from code.

File format (`--scenario FILE`)::

    [[rule]]
    path = "/v1/chat/completions"   # exact path or glob ("/v1/*")
    method = "POST"                 # optional
    calls = "1-2"                   # optional, 1-based per (session, path)
    session = "abc"                 # optional, matches the X-Mock-Session header
    status = 503                    # any fault directive, `-` or `_` spelling
    retry-after = "0"
    content = "scripted reply"      # optional scripted reply fields
    reasoning = "scripted thoughts"
    tool_calls = [{ name = "get_weather", arguments = { city = "Paris" } }]
    finish_reason = "stop"

In code: `app.state.scenario.add({...same keys...})` and `.clear()`.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import threading
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from hookwire.mockserver.faults import (
    FAULT_KEYS,
    FaultSyntaxError,
    Rule,
    parse_calls,
    set_directive,
)

_FINISH = {"stop", "length", "tool_calls", "content_filter"}


def rule_from_dict(data: dict[str, Any], where: str = "rule") -> Rule:
    """Validate a rule table; unknown keys raise `FaultSyntaxError` naming them."""
    rule = Rule(source=where)
    for key, value in data.items():
        norm = key.replace("_", "-")
        if key == "path":
            rule.path = str(value)
        elif key == "method":
            rule.method = str(value).upper()
        elif key == "session":
            rule.session = str(value)
        elif key == "calls":
            rule.calls = parse_calls(value)
        elif key in ("content", "reasoning"):
            setattr(rule, key, str(value))
        elif key == "finish_reason":
            if value not in _FINISH:
                raise FaultSyntaxError(f"{where}: finish_reason must be one of {sorted(_FINISH)}")
            rule.finish_reason = value
        elif key == "tool_calls":
            rule.tool_calls = _tool_calls(value, where)
        elif norm in FAULT_KEYS:
            set_directive(rule, norm, value)
        else:
            raise FaultSyntaxError(f"{where}: unknown key {key!r}")
    return rule


def _tool_calls(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise FaultSyntaxError(f"{where}: tool_calls must be a list of {{name, arguments}}")
    calls = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FaultSyntaxError(f"{where}: each tool call needs a string 'name'")
        args = item.get("arguments", {})
        text = args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))
        calls.append({"name": item["name"], "arguments": text})
    return calls


def load_rules(path: str | Path) -> list[Rule]:
    """Parse a scenario TOML file into rules (errors name the file and rule index)."""
    return [rule_from_dict(table, where) for where, table in load_tables(path)]


def load_tables(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """The file's `[[rule]]` tables, each with where it is ("FILE: rule N"), not yet checked."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FaultSyntaxError(f"cannot read scenario file {str(path)!r}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise FaultSyntaxError(f"scenario file {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = set(data) - {"rule"}
    if unknown:
        raise FaultSyntaxError(f"scenario file {str(path)!r}: unknown tables {sorted(unknown)}")
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise FaultSyntaxError(f"scenario file {str(path)!r}: use [[rule]] tables")
    return [(f"{path}: rule {i + 1}", t) for i, t in enumerate(tables)]


class Scenario:
    """An ordered, thread-safe rule list; the first rule that matches a call is used."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self._rules: list[Rule] = list(rules or [])
        self._lock = threading.Lock()

    def add(self, rule: dict[str, Any] | Rule) -> Rule:
        parsed = rule if isinstance(rule, Rule) else rule_from_dict(rule)
        with self._lock:
            self._rules.append(parsed)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def match(self, method: str, path: str, session: str, call_number: int) -> Rule | None:
        if not self._rules:  # the hot path: no scenario at all
            return None
        for rule in self.rules:
            if (
                rule.path is not None
                and rule.path != path
                and not fnmatch.fnmatchcase(path, rule.path)
            ):
                continue
            if rule.method is not None and rule.method != method:
                continue
            if rule.session is not None and rule.session != session:
                continue
            if rule.applies_to_call(call_number):
                return rule
        return None
