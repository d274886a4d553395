"""The CLI's pure pieces, with no process: prompt joining, redaction, output choice."""

from __future__ import annotations

import typing

import pytest

from hookwire.cli import _redact
from hookwire.cli._errors import CLIError
from hookwire.cli._http_output import choose
from hookwire.cli._prompt import join_prompt


@pytest.mark.parametrize(
    ("stdin", "prompt", "sent"),
    [
        ("notes\n", "summarise", "notes\n summarise"),  # llm: stdin + " " + argument
        ("notes", None, "notes"),
        ("", "hi", "hi"),
        (" \n", "hi", "hi"),
        ("", None, None),
    ],
)
def test_join_prompt(stdin: str, prompt: str | None, sent: str | None) -> None:
    assert join_prompt(stdin, prompt) == sent


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Bearer abc", "Bearer [REDACTED]"),
        ("authorization", "opaque", "[REDACTED]"),
        ("Proxy-Authorization", "Basic abc", "Basic [REDACTED]"),
        ("Cookie", "a=1; b=2", "a=[REDACTED]; b=[REDACTED]"),
        ("Set-Cookie", "s=1; Path=/; HttpOnly", "s=[REDACTED]; Path=/; HttpOnly"),
        ("X-Api-Key", "k", "[REDACTED]"),
        ("api-key", "k", "[REDACTED]"),
        ("X-Goog-Api-Key", "k", "[REDACTED]"),
        ("X-Auth-Token", "t", "[REDACTED]"),
        ("X-Client-Secret", "s", "[REDACTED]"),
        ("Accept", "*/*", "*/*"),
        ("Access-Control-Allow-Credentials", "true", "true"),
        ("Keep-Alive", "timeout=5", "timeout=5"),
    ],
)
def test_header_redaction(name: str, value: str, shown: str) -> None:
    assert _redact.header_value(name, value) == shown


def test_query_and_url_redaction() -> None:
    assert _redact.target("http://h/p?api_key=1&q=2&token=3&sig=4") == (
        "/p?api_key=[REDACTED]&q=2&token=[REDACTED]&sig=[REDACTED]"
    )
    assert _redact.target("http://h") == "/"
    assert _redact.public_url("https://u:p@h:8443/v1?key=1#f") == "https://h:8443/v1"
    assert _redact.public_url("http://[::1]:8000/v1") == "http://[::1]:8000/v1"


def test_output_defaults_follow_httpie() -> None:
    assert choose(None, 0, None, terminal=True).parts == "hb"
    assert choose(None, 0, None, terminal=False).parts == "b"
    verbose = choose(None, 1, None, terminal=False)
    assert verbose.parts == "HBhb" and verbose.all and not verbose.format
    assert choose(None, 2, None, terminal=False).parts == "HBhbm"
    assert choose("Hh", 1, None, terminal=False).parts == "Hh"  # --print wins over -v
    pretty = choose(None, 0, "format", terminal=False)
    assert pretty.format and not pretty.colors
    with pytest.raises(CLIError, match="--print takes letters from HBhbm"):
        choose("hx", 0, None, terminal=False)


def test_the_dialect_choice_is_the_mock_servers() -> None:
    from hookwire.cli._serve import Dialect
    from hookwire.mockserver.config import DIALECTS

    assert typing.get_args(Dialect) == DIALECTS
