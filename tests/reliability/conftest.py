"""The reliability suite's matrix and its figures.

Every HTTP fault case runs once per (transport, face): ``requests-sync``, ``httpx-sync``,
``httpx-async`` and ``aiohttp-async``, through the contract suite's :class:`Harness` (one test
body drives an ``sdk.Client`` or an ``sdk.AsyncClient`` on a private loop). Passed cases are
counted per transport, and the counts that tests add through ``_report`` are printed at the end
and written to ``$HOOKWIRE_RELIABILITY_REPORT`` when it is set (see docs/reliability.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.contract.conftest import CASES, Case, Harness
from tests.reliability import _report


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_client(case: Case) -> Iterator[Callable[..., Harness]]:
    """``make_client(**Client kwargs) -> Harness`` on the case's transport; closed afterwards."""
    made: list[Harness] = []

    def factory(**kwargs: Any) -> Harness:
        harness = Harness(case, **kwargs)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()


@pytest.fixture
def server(mock_server: Any) -> Any:
    """The shared live mock server with an empty journal."""
    mock_server.reset()
    return mock_server


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
    from mockserver.server import LiveServer
    from tests.reliability import _hostile

    server = LiveServer(app=_hostile.app).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
