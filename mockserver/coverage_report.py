"""Contract coverage: which behaviours a test run's traffic hit, per endpoint and model.

"We mocked the API" says little; "we tested the failure modes" says which statuses, faults and
stream features the clients under test actually met. This module reads journal entries (live
`JournalEntry` objects, or their `to_dict()` form from `/__mock__/journal` or a file) and counts,
per row (endpoint, model, streaming or not), how often each behaviour of a fixed catalogue was
hit; the rest of the catalogue that applies to the row is "never exercised".

The catalogue, and the rows each behaviour applies to:

- every row: `status-2xx`, `status-400`, `status-404`, `status-429`,
  `status-429-retry-after` (that 429 carried Retry-After or Retry-After-Ms), `status-5xx`,
  `fault-delay`, `fault-reset` (`reset-after-body`, `close-after=0`: no response at all);
- /v1/* rows: `status-401` (the `--api-key` check);
- non-streaming rows: `status-413` (the mock refuses the body unread, so it cannot tell a
  streaming request), `fault-cut` (`close-after=N`, N > 0), `fault-stall` (`stall-after`);
- streaming rows: `fault-cut-mid-stream`, `fault-stall-mid-stream` (the same faults on an event
  stream), `fault-keepalive-only`, `fault-malformed-event`, `fault-no-done`;
- streaming chat rows: `stream-reasoning`, `stream-tool-calls` (deltas of each), `stream-usage`
  (the usage chunk), `stream-error-event`, `stream-done` (`[DONE]`).

A fault counts when its rule applied to the call (the journal's `fault_kinds`); a stream
feature counts when the stream sent it (the journal's `stream`). Stdlib only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "API_ENDPOINTS",
    "CATALOGUE",
    "ReportError",
    "Tally",
    "applicable",
    "behaviours",
    "load",
    "render_text",
    "report",
]

ALL, API, PLAIN, STREAM, CHAT_STREAM = "all", "api", "plain", "stream", "chat-stream"

#: (behaviour, scope): scope says which rows it applies to (see the module table)
CATALOGUE: tuple[tuple[str, str], ...] = (
    ("status-2xx", ALL),
    ("status-400", ALL),
    ("status-401", API),
    ("status-404", ALL),
    ("status-413", PLAIN),  # decided before the body is read: a 413 cannot know it was a stream
    ("status-429", ALL),
    ("status-429-retry-after", ALL),
    ("status-5xx", ALL),
    ("fault-delay", ALL),
    ("fault-reset", ALL),
    ("fault-cut", PLAIN),
    ("fault-stall", PLAIN),
    ("fault-cut-mid-stream", STREAM),
    ("fault-stall-mid-stream", STREAM),
    ("fault-keepalive-only", STREAM),
    ("fault-malformed-event", STREAM),
    ("fault-no-done", STREAM),
    ("stream-reasoning", CHAT_STREAM),
    ("stream-tool-calls", CHAT_STREAM),
    ("stream-usage", CHAT_STREAM),
    ("stream-error-event", CHAT_STREAM),
    ("stream-done", CHAT_STREAM),
)

#: the API rows a run is expected to have: one never called is reported as such
API_ENDPOINTS: tuple[tuple[str, bool], ...] = (
    ("POST /v1/chat/completions", False),
    ("POST /v1/chat/completions", True),
    ("POST /v1/completions", False),
    ("POST /v1/completions", True),
    ("POST /v1/embeddings", False),
    ("GET /v1/models", False),
)

_STATUS_NAMES = {400: "status-400", 401: "status-401", 404: "status-404", 413: "status-413"}
_STREAM_FEATURES = {
    "reasoning": "stream-reasoning",
    "tool-calls": "stream-tool-calls",
    "usage": "stream-usage",
    "error-event": "stream-error-event",
    "done": "stream-done",
}
_STREAM_FAULTS = {
    "keepalive-only": "fault-keepalive-only",
    "malformed": "fault-malformed-event",
    "no-done": "fault-no-done",
}

Row = tuple[str, str, bool]  # (endpoint "METHOD /path", model or "-", streaming)


class ReportError(ValueError):
    """A journal or report file cannot be read; the message names the file and the problem."""


def endpoint_of(method: str, path: str) -> str:
    """`METHOD /template`: parametrized paths grouped (`/v1/models/{model}`,
    `/v1/responses/{id}`, `/status/*`)."""
    if path.startswith("/v1/"):
        parts = path.split("/")  # ["", "v1", resource, id, rest...]
        if len(parts) > 3 and parts[2] != "chat":
            name = "{model}" if parts[2] == "models" else "{id}"
            path = "/".join([*parts[:3], name, *parts[4:]])
    else:
        head, sep, _ = path[1:].partition("/")
        if sep:
            path = f"/{head}/*"
    return f"{method} {path}"


def applicable(row: Row) -> list[str]:
    """The catalogue's behaviours that apply to `row`, in catalogue order."""
    endpoint, _, streaming = row
    api = " /v1/" in endpoint
    chat = endpoint == "POST /v1/chat/completions"
    scopes = {ALL, STREAM if streaming else PLAIN}
    if api:
        scopes.add(API)
    if chat and streaming:
        scopes.add(CHAT_STREAM)
    return [name for name, scope in CATALOGUE if scope in scopes]


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, Mapping) else getattr(entry, key, None)


def behaviours(entry: Any) -> tuple[Row, set[str]]:
    """The row of one journal entry (a `JournalEntry` or its dict) and the behaviours it hit."""
    method = str(_get(entry, "method") or "?")
    path = str(_get(entry, "path") or "?")
    model, streaming = "-", False
    if path.startswith("/v1/"):
        body = _get(entry, "body")
        if isinstance(body, dict):
            if isinstance(body.get("model"), str):
                model = body["model"]
            streaming = body.get("stream") is True
    hit: set[str] = set()
    kinds = set(_get(entry, "fault_kinds") or ())
    status = _get(entry, "status")
    if isinstance(status, int):
        if 200 <= status < 300:
            hit.add("status-2xx")
        elif status in _STATUS_NAMES:
            hit.add(_STATUS_NAMES[status])
        elif status == 429:
            hit.add("status-429")
            if "retry-after" in kinds:
                hit.add("status-429-retry-after")
        elif 500 <= status < 600:
            hit.add("status-5xx")
    if "delay" in kinds:
        hit.add("fault-delay")
    if "reset" in kinds:
        hit.add("fault-reset")
    for kind in ("cut", "stall"):
        if kind in kinds:
            hit.add(f"fault-{kind}-mid-stream" if streaming else f"fault-{kind}")
    if streaming:
        hit.update(name for kind, name in _STREAM_FAULTS.items() if kind in kinds)
        for feature in _get(entry, "stream") or ():
            if feature in _STREAM_FEATURES:
                hit.add(_STREAM_FEATURES[feature])
    return (endpoint_of(method, path), model, streaming), hit


@dataclass
class Tally:
    """Requests and behaviour hits per row; `add` entries, `merge` tallies (xdist workers)."""

    requests: Counter[Row] = field(default_factory=Counter)
    hits: dict[Row, Counter[str]] = field(default_factory=dict)

    def add(self, entry: Any) -> None:
        row, hit = behaviours(entry)
        self.requests[row] += 1
        counter = self.hits.setdefault(row, Counter())
        counter.update(hit)

    def add_all(self, entries: Iterable[Any]) -> Tally:
        for entry in entries:
            self.add(entry)
        return self

    def merge(self, other: Tally) -> Tally:
        self.requests.update(other.requests)
        for row, counter in other.hits.items():
            self.hits.setdefault(row, Counter()).update(counter)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "hookwire-contract-tally",
            "rows": [
                {
                    "endpoint": row[0],
                    "model": row[1],
                    "stream": row[2],
                    "requests": self.requests[row],
                    "hits": dict(self.hits.get(row, {})),
                }
                for row in sorted(self.requests)
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "tally") -> Tally:
        tally = cls()
        try:
            for item in data["rows"]:
                method, _, path = str(item["endpoint"]).partition(" ")
                row = (endpoint_of(method, path), str(item["model"]), bool(item["stream"]))
                tally.requests[row] += int(item["requests"])
                hits = item.get("hits") or {}
                tally.hits.setdefault(row, Counter()).update(
                    {str(k): int(v) for k, v in hits.items()}
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportError(f"{where}: not a contract tally or report ({exc!r})") from None
        return tally


def report(tally: Tally) -> dict[str, Any]:
    """The report as JSON-able data: rows with hit counts and never-hit behaviours, API rows
    never called, and per endpoint what no row of it (any model) ever hit."""
    rows = []
    per_endpoint: dict[tuple[str, bool], tuple[set[str], set[str]]] = {}
    for row in sorted(tally.requests):
        counter = tally.hits.get(row, Counter())
        names = applicable(row)
        never = [name for name in names if not counter.get(name)]
        hit = {name: counter[name] for name in names if counter.get(name)}
        rows.append(
            {
                "endpoint": row[0],
                "model": row[1],
                "stream": row[2],
                "requests": tally.requests[row],
                "hit": hit,
                "never": never,
            }
        )
        seen, wanted = per_endpoint.setdefault((row[0], row[2]), (set(), set()))
        seen.update(hit)
        wanted.update(names)
    never_by_endpoint = []
    expected = set(API_ENDPOINTS)
    for (endpoint, streaming), (seen, wanted) in sorted(per_endpoint.items()):
        # API endpoints that exist: expected ones, or any that answered a 2xx (a path the
        # suite calls only to see a 404 or 405 is not an endpoint with a contract)
        if " /v1/" not in endpoint or (
            (endpoint, streaming) not in expected and "status-2xx" not in seen
        ):
            continue
        order = [name for name, _ in CATALOGUE if name in wanted and name not in seen]
        never_by_endpoint.append({"endpoint": endpoint, "stream": streaming, "never": order})
    called = {(r["endpoint"], r["stream"]) for r in rows}
    uncalled = [
        {"endpoint": endpoint, "stream": streaming}
        for endpoint, streaming in API_ENDPOINTS
        if (endpoint, streaming) not in called
    ]
    return {
        "kind": "hookwire-contract-report",
        "requests": sum(tally.requests.values()),
        "rows": rows,
        "never_by_endpoint": never_by_endpoint,
        "endpoints_never_called": uncalled,
    }


def _label(endpoint: str, streaming: bool) -> str:
    return f"{endpoint} (stream)" if streaming else endpoint


def render_text(data: Mapping[str, Any], max_plain_rows: int = 0) -> str:
    """The report for a terminal: API rows one by one (hit counts, never hit), the httpbin
    rows folded into one line unless `max_plain_rows` allows that many."""
    lines = [f"contract coverage of {data['requests']:,} journaled requests"]
    api = [r for r in data["rows"] if " /v1/" in r["endpoint"]]
    plain = [r for r in data["rows"] if " /v1/" not in r["endpoint"]]
    for r in api + plain[:max_plain_rows]:
        hit = " ".join(f"{k}={v:,}" for k, v in r["hit"].items()) or "-"
        lines.append(
            f"  {_label(r['endpoint'], r['stream'])}  model={r['model']}  "
            f"requests={r['requests']:,}"
        )
        lines.append(f"      hit:   {hit}")
        lines.append(f"      never: {' '.join(r['never']) or '-'}")
    rest = plain[max_plain_rows:]
    if rest:
        total = sum(r["requests"] for r in rest)
        lines.append(f"  other (httpbin) endpoints: {len(rest)}, {total:,} requests (see JSON)")
    if data["never_by_endpoint"]:
        lines.append("never exercised (by any model of the endpoint):")
        for item in data["never_by_endpoint"]:
            never = " ".join(item["never"]) or "- (all exercised)"
            lines.append(f"  {_label(item['endpoint'], item['stream'])}: {never}")
    if data["endpoints_never_called"]:
        uncalled = data["endpoints_never_called"]
        names = ", ".join(_label(e["endpoint"], e["stream"]) for e in uncalled)
        lines.append(f"API endpoints never called: {names}")
    return "\n".join(lines)


def load(path: str | Path) -> Tally:
    """A tally from a file: a journal (JSON list of entries, `/__mock__/journal`'s reply, or
    JSON lines, one entry a line), or a tally or report this module wrote."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read {where!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{where!r} is not UTF-8 text") from None
    stripped = text.strip()
    if not stripped:
        return Tally()
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        data = _json_lines(stripped, where)
    if isinstance(data, dict) and "rows" in data:
        if data.get("kind") == "hookwire-contract-report":
            return _from_report(data, where)
        return Tally.from_json(data, where)
    if isinstance(data, dict) and "seq" in data:  # a JSON-lines file of one entry
        data = [data]
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ReportError(f"{where!r}: expected a journal (a list of entries) or a tally")
    return Tally().add_all(data)


def _json_lines(text: str, where: str) -> list[Any]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ReportError(f"{where!r} line {number}: not JSON ({exc.msg})") from None
    return entries


def _from_report(data: Mapping[str, Any], where: str) -> Tally:
    rows = [{**r, "hits": r.get("hit", {})} for r in data["rows"]]
    return Tally.from_json({"rows": rows}, where)
