"""pytest: ``@pytest.mark.hookwire_cassette`` and the ``hookwire_cassette`` fixture.

Loaded by hookwire's ``pytest11`` entry point (``hookwire.mockserver.pytest_entry``), with or
without the ``mock`` extra: it needs only pytest and the standard library, and never imports
the SDK::

    @pytest.mark.hookwire_cassette                   # cassettes/<module>/<test>.json by default
    def test_chat():
        assert hookwire.LLM("openai", base_url=URL).chat("hi").content

    @pytest.mark.hookwire_cassette("shared.json", mode="new_episodes", ignore_fields=["seed"])
    def test_other(hookwire_cassette):               # the fixture yields the Cassette
        ...
        assert hookwire_cassette.play_count == 1

While the test runs the cassette is *active*: every hookwire ``Client``, ``AsyncClient`` and
``LLM`` created without a ``transport=`` of its own goes through it (the cassette transport
plugin answers ``hookwire_default_transport`` with ``cassette`` while one is active). A client
given an explicit transport does not, nor one on a private ``PluginHost`` without that plugin.

``--hookwire-record-mode=MODE`` sets the mode: ``none`` (the default: replay only, so CI never
reaches the network), ``once``, ``new_episodes``, ``all``, or ``rewrite`` (delete the file,
then record as ``new_episodes``).

The command-line mode, when given, wins over a marker's ``mode=`` (pytest-recording lets the
marker win, which makes re-recording one test a code change). ``--hookwire-record-mode`` and
not ``--record-mode``: the latter is pytest-recording's, and pytest refuses a second option of
the same name when both plugins are installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hookwire.mockserver.cassette._cassette import RECORD_MODES, Cassette, use

MARKER = "hookwire_cassette"
OPTION = "--hookwire-record-mode"
_UNSAFE = re.compile(r"[<>?%*:|\"'/\\\[\]\s]")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hookwire-cassette", "hookwire cassettes")
    group.addoption(
        OPTION,
        dest="hookwire_record_mode",
        choices=(*RECORD_MODES, "rewrite"),
        default=None,
        help="record mode of @pytest.mark.hookwire_cassette tests (default: none, replay only)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path=None, *, mode=None, match_on=..., ignore_fields=..., scrubber=None, "
        "allow_playback_repeats=False, record_timing=False): record and replay this test's "
        "hookwire traffic through a cassette (docs/cassettes.md)",
    )


def default_path(node: Any) -> Path:
    """``<test dir>/cassettes/<module>/<Class.test[param]>.json``, unsafe characters as ``-``."""
    module = Path(str(node.path))
    name = node.name if node.cls is None else f"{node.cls.__name__}.{node.name}"
    return module.parent / "cassettes" / module.stem / f"{_UNSAFE.sub('-', name)}.json"


def _cassette_for(request: pytest.FixtureRequest) -> Cassette:
    marker = request.node.get_closest_marker(MARKER)
    args: tuple[Any, ...] = marker.args if marker else ()
    kwargs = dict(marker.kwargs) if marker else {}
    if len(args) > 1:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one path, not {len(args)}")
    path = Path(args[0]) if args else default_path(request.node)
    if not path.is_absolute():
        path = Path(str(request.node.path)).parent / path
    cli_mode = request.config.getoption("hookwire_record_mode")
    mode = cli_mode or kwargs.pop("mode", None) or "none"
    kwargs.pop("mode", None)
    if mode == "rewrite":
        path.unlink(missing_ok=True)
        mode = "new_episodes"
    try:
        return Cassette(path, mode=mode, **kwargs)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {exc}") from None


@pytest.fixture
def hookwire_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """The test's cassette, active for the test (see the module docstring)."""
    with use(_cassette_for(request)) as cassette:
        yield cassette


@pytest.fixture(autouse=True)
def _hookwire_cassette_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("hookwire_cassette")
