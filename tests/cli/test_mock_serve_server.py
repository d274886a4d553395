"""`hookwire mock serve --server granian` reaches the mock's own launcher (and is checked)."""

from __future__ import annotations

import pytest

from hookwire.cli import main
from hookwire.cli._serve import _mock_argv


def _fields(**more: object) -> dict[str, object]:
    base: dict[str, object] = {
        "host": "127.0.0.1", "port": 0, "dialect": "openai", "workers": 1, "ttft": 0.0,
        "inter_token_delay": 0.0, "max_body": 1, "api_key": None, "scenario": None,
        "models": (), "only_models": False,
    }
    return {**base, **more}


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_the_server_choice_goes_to_the_launcher(server: str) -> None:
    argv = _mock_argv(_fields(server=server))
    assert argv[argv.index("--server") + 1] == server


def test_an_unknown_server_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "serve", "--server", "gunicorn", "--port", "0"]) == 2
    assert "gunicorn" in capsys.readouterr().err
