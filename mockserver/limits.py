"""What one request may cost the mock server: the caps, and the JSON reader that enforces depth.

A mock shared by a test suite must survive the one test that asks for too much: a schema with
``minLength: 1e9``, ``n=128`` replies of a million tokens each, JSON nested 100,000 deep. Each
cap below bounds the memory and event-loop time of one request; a request over a cap gets the
dialect's 400 (413 for the body size) whose message names the cap, e.g.
``... exceeds the mock server's limit generated_tokens=2000000``. They are fields of `Limits`,
which `MockConfig(limits=Limits(...))` (or ``--limit NAME=VALUE``) replaces. The table with
what each one bounds is in docs/mockserver.md, section "Limits".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-request caps (the request body size is `MockConfig.max_body`)."""

    json_depth: int = 128  # nesting of a request's JSON body (objects and arrays)
    reply_tokens: int = 1_000_000  # X-Mock-Reply-Tokens: tokens of one choice
    n: int = 128  # choices per prompt (OpenAI's own maximum)
    choices: int = 2048  # choices of one request: prompts x n on /v1/completions
    generated_tokens: int = 2_000_000  # all choices together: content, reasoning, tool arguments
    inputs: int = 2048  # embedding inputs, or completion prompts, in one request
    embedding_values: int = 2_097_152  # embedding inputs x dimensions
    stop: int = 16  # stop strings
    tools: int = 128  # tools declared in one request (OpenAI's own maximum)
    logprob_values: int = 1_000_000  # content tokens x (1 + top_logprobs), all choices together
    schema_values: int = 100_000  # values in the instances generated for one reply (minItems...)
    schema_chars: int = 1_000_000  # characters of their strings (minLength...)
    schema_depth: int = 32  # nesting of a generated instance (and of $ref chains)
    batch_requests: int = 50_000  # lines of one batch input file (OpenAI's own maximum)
    stored_files: int = 1_000  # files kept by /v1/files (uploads and batch outputs)
    stored_file_bytes: int = 256 * 1024 * 1024  # their bytes together

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limits.{f.name} must be an integer >= 1, not {value!r}")

    def changed(self) -> dict[str, int]:
        """The caps that differ from the defaults (for reprs and command lines)."""
        default = Limits()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


DEFAULT_LIMITS = Limits()

# Requests this big (or generating this much) are journaled, planned and rendered in a worker
# thread: tokenizing a 10 MiB prompt or rendering two million tokens takes a second or more of
# CPU, and the event loop must keep answering /health and the other requests meanwhile.
OFF_LOOP_BYTES = 256 * 1024
OFF_LOOP_TOKENS = 100_000
LIMIT_NAMES = tuple(f.name for f in fields(Limits))


class LimitExceeded(ValueError):
    """A request asks for more than a cap allows; the message names the cap."""

    def __init__(self, what: str, value: int, name: str, limit: int) -> None:
        super().__init__(f"{what} ({value}) exceeds the mock server's limit {name}={limit}")
        self.name = name
        self.limit = limit
        self.value = value


def check(what: str, value: int, name: str, limits: Limits) -> None:
    """Raise `LimitExceeded` when `value` is over the cap `name` of `limits`."""
    limit: int = getattr(limits, name)
    if value > limit:
        raise LimitExceeded(what, value, name, limit)


class JSONTooDeep(LimitExceeded):
    """A JSON document nests deeper than `Limits.json_depth`."""

    def __init__(self, limit: int) -> None:
        ValueError.__init__(
            self, f"JSON nesting exceeds the mock server's limit json_depth={limit}"
        )
        self.name = "json_depth"
        self.limit = limit
        self.value = limit + 1


def loads(raw: str | bytes, max_depth: int) -> Any:
    """`json.loads(raw)`, or `JSONTooDeep` when it nests deeper than `max_depth`.

    Why not leave it to json: its C parser stops at Python's recursion limit with a
    RecursionError (a 500), and whatever walks the result afterwards (an echo, the journal's
    redaction) would hit the same limit sooner. A document with fewer brackets than
    `max_depth` cannot be too deep, so almost every body skips the walk.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None
    check_depth(value, raw, max_depth)
    return value


def check_depth(value: Any, raw: str | bytes, max_depth: int) -> None:
    """`JSONTooDeep` when the parsed `value` (of the text `raw`) nests deeper than `max_depth`."""
    if len(raw) <= 2 * max_depth:
        return  # every bracket that opens must close: a short text cannot nest that deep
    if isinstance(raw, bytes):
        brackets = raw.count(b"[") + raw.count(b"{")
    else:
        brackets = raw.count("[") + raw.count("{")
    if brackets <= max_depth:
        return
    # breadth first, one level at a time: no recursion, stops at the first level too many
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise JSONTooDeep(max_depth)
        below: list[Any] = []
        for node in level:
            items = node.values() if isinstance(node, dict) else node
            below.extend(item for item in items if isinstance(item, (dict, list)))
        level = below
