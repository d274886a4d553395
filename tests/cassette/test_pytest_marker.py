"""The pytest marker: records with --hookwire-record-mode, replays by default, stores cassettes
next to the test, and fails a test whose request was never recorded."""

from __future__ import annotations

import json

import pytest

from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer

pytest_plugins = ["pytester"]
ARGS = (
    "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:benchmark", "-p", "no:xdist",
    "--strict-markers",
)

INNER = """
import hookwire
import pytest

URL = {url!r}

@pytest.mark.hookwire_cassette
def test_get():
    with hookwire.Client() as http:
        assert http.get(URL + "/get", params={{"n": "1"}}).json()["args"] == {{"n": "1"}}

class TestGroup:
    @pytest.mark.hookwire_cassette(mode="once")
    @pytest.mark.parametrize("n", ["2"])
    def test_param(self, n, hookwire_cassette):
        with hookwire.Client() as http:
            http.get(URL + "/get", params={{"n": n}})
        assert hookwire_cassette.path.name == "TestGroup.test_param-2-.json"
"""


def test_record_then_replay_with_the_server_gone(pytester: pytest.Pytester) -> None:
    server = LiveServer(MockConfig()).start()
    try:
        pytester.makepyfile(test_calls=INNER.format(url=server.url))
        result = pytester.runpytest(*ARGS)  # default none: fails; the marker's once records
        result.assert_outcomes(failed=1, passed=1)
        result.stdout.fnmatch_lines(["*CassetteError*the file does not exist*"])
        pytester.runpytest(*ARGS, "--hookwire-record-mode=once").assert_outcomes(passed=2)
    finally:
        server.stop()
    folder = pytester.path / "cassettes" / "test_calls"
    assert sorted(p.name for p in folder.iterdir()) == [
        "TestGroup.test_param-2-.json", "test_get.json",
    ]
    doc = json.loads((folder / "test_get.json").read_text())
    assert doc["interactions"][0]["request"]["uri"].endswith("/get?n=1")
    pytester.runpytest(*ARGS).assert_outcomes(passed=2)  # replayed: the server is stopped


def test_rewrite_and_bad_modes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_modes="""
        import pytest

        @pytest.mark.hookwire_cassette("kept.json")
        def test_mode(hookwire_cassette):
            assert hookwire_cassette.mode == "new_episodes"
            assert not hookwire_cassette.path.exists()

        @pytest.mark.hookwire_cassette(mode="sometimes")
        def test_bad():
            pass
        """
    )
    (pytester.path / "kept.json").write_text("{}")
    rewrite = pytester.runpytest(
        *ARGS, "--hookwire-record-mode=rewrite", "test_modes.py::test_mode"
    )
    rewrite.assert_outcomes(passed=1)
    bad = pytester.runpytest(*ARGS, "test_modes.py::test_bad")
    bad.assert_outcomes(errors=1)
    bad.stdout.fnmatch_lines(["*record mode must be one of*"])
    assert pytester.runpytest(*ARGS, "--hookwire-record-mode=later").ret == 4  # usage error
