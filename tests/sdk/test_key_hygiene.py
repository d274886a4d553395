"""Keys from the environment, the config and the key store are used without their surrounding
whitespace, and a key file others can read is refused on the chat path too (issue 10, class 2).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hookwire
from hookwire import config
from hookwire.errors import ConfigError

KEY = "sk-hygiene-0123456789"


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config dir of our own, no keyring, no provider keys in the environment."""
    cfg = tmp_path / "config.toml"
    cfg.write_text("")
    monkeypatch.setenv("HOOKWIRE_CONFIG", str(cfg))
    monkeypatch.setattr(config, "_keyring", lambda: None)
    for name in list(os.environ):
        if name.endswith("_API_KEY"):
            monkeypatch.delenv(name)
    return tmp_path


def _sent_authorization(mock_server, **kwargs) -> str:
    with hookwire.LLM("openai", base_url=mock_server.openai_base_url, model="m", **kwargs) as llm:
        client = llm.provider.client  # the provider's own client, auth included
        echoed = client.get(mock_server.url + "/headers").json()["headers"]
    return echoed["Authorization"]


def test_a_key_from_the_environment_loses_its_trailing_newline(isolated, mock_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", f"  {KEY}\n")
    assert _sent_authorization(mock_server) == f"Bearer {KEY}"


def test_a_key_from_the_key_file_loses_its_whitespace(isolated, mock_server):
    loaded = config.load_config()
    loaded.set_key("openai", KEY)
    path = Path(loaded.key_file)
    path.write_text(path.read_text().replace(KEY, f"{KEY}  "))  # as a hand edit would leave it
    assert config.load_config().get_key("openai") == KEY
    assert _sent_authorization(mock_server) == f"Bearer {KEY}"


def test_a_key_file_others_can_read_is_refused_on_the_chat_path(isolated, mock_server):
    loaded = config.load_config()
    loaded.set_key("openai", KEY)
    os.chmod(loaded.key_file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        hookwire.LLM("openai", base_url=mock_server.openai_base_url, model="m")
    assert KEY not in str(info.value)
