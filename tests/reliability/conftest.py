"""The reliability suite's matrix and its figures.

Every HTTP fault case runs once per (transport, face): ``requests-sync``, ``httpx-sync``,
``httpx-async`` and ``aiohttp-async``, through the ``Harness`` of ``tests/_transport_cases.py``
(shared with the contract suite: one test body drives an ``hookwire.Client`` or an
``hookwire.AsyncClient`` on a private loop). Passed cases are counted per transport, and the
counts that tests add through ``_report`` are printed at the end and written to
``$HOOKWIRE_RELIABILITY_REPORT`` when it is set (see docs/reliability.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests._transport_cases import case as case
from tests._transport_cases import make_client as make_client
from tests._transport_cases import server as server
from tests.reliability import _report


@pytest.fixture
def session_id() -> str:
    """A fresh ``X-Mock-Session`` value: fault ``calls=`` counters start at 1 for it."""
    return uuid.uuid4().hex


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _report.add("cases_passed", _report.transport_of(report.nodeid))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _report.COUNTS:
        return
    import json

    terminalreporter.write_sep("-", "hookwire reliability figures")
    terminalreporter.write_line(json.dumps(_report.summary(), sort_keys=True))
    path = _report.write()
    if path is not None:
        terminalreporter.write_line(f"written to {path}")


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[Any]:
    """A live server (127.0.0.1, free port) running ``_hostile.app``."""
    from hookwire.mockserver.server import LiveServer
    from tests.reliability import _hostile

    server = LiveServer(app=_hostile.app).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
