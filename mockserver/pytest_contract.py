"""The pytest option ``--hookwire-contract-report[=PATH]``: contract coverage of a test run.

With the option, every mock server journal of the test process (the fixtures' servers, the
``mock`` provider's, any ``MockApp`` a test builds, in-process or live) hands each finished
request to one `hookwire.mockserver.coverage_report.Tally`. At the end the terminal summary
prints the report (which statuses, faults and stream features each endpoint and model met, and
which never) and ``PATH``, when given, receives it as JSON. Under pytest-xdist each worker
sends its tally to the controller (``workeroutput``), which merges them. Mock servers in
other processes (``hookwire mock serve`` subprocesses) are not seen: export their journal
(``GET /__mock__/journal``) and run ``hookwire mock report`` on it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from hookwire.mockserver import coverage_report, journal

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
]

OPTION = "--hookwire-contract-report"
_KEY = "hookwire_contract_tally"


class _Collector:
    """A tally fed from server threads (one lock), plus the tallies of xdist workers."""

    def __init__(self) -> None:
        self.tally = coverage_report.Tally()
        self._lock = threading.Lock()

    def __call__(self, entry: journal.JournalEntry) -> None:
        with self._lock:
            self.tally.add(entry)

    def merge(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.tally.merge(coverage_report.Tally.from_json(data, "xdist worker"))

    def snapshot(self) -> coverage_report.Tally:
        with self._lock:
            return coverage_report.Tally().merge(self.tally)


_collectors: dict[int, _Collector] = {}  # by id(config): inline pytester runs keep their own


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hookwire", "hookwire mock server")
    group.addoption(
        OPTION,
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="report which statuses, faults and stream features the run's mock traffic hit "
        "(and never hit), per endpoint and model; =PATH also writes it as JSON (spell it with "
        "'=': a bare next argument would be taken as the PATH)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(OPTION, None) is None:
        return
    collector = _collectors[id(config)] = _Collector()
    journal.start_tap(collector)


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = _collectors.pop(id(config), None)
    if collector is not None:
        journal.stop_tap(collector)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    collector = _collectors.get(id(config))
    workeroutput = getattr(config, "workeroutput", None)
    if collector is not None and workeroutput is not None:  # an xdist worker: send it home
        workeroutput[_KEY] = json.dumps(collector.snapshot().to_json())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist, on the controller: merge what a finished worker collected."""
    data = getattr(node, "workeroutput", {}).get(_KEY)
    collector = _collectors.get(id(node.config))
    if data and collector is not None:
        collector.merge(json.loads(data))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    collector = _collectors.get(id(config))
    if collector is None or getattr(config, "workerinput", None) is not None:
        return
    data = coverage_report.report(collector.snapshot())
    terminalreporter.section("hookwire contract coverage")
    terminalreporter.write_line(coverage_report.render_text(data))
    path = config.getoption(OPTION)
    if path:
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"contract coverage report written to {path}")
