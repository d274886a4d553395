"""hookwire.config: file + environment precedence, key storage (keyring-less path), redaction."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hookwire import config as cfg
from hookwire.errors import ConfigError

SECRET = "sk-test-" + "0123456789abcdef"  # built at runtime so no key-shaped literal is committed


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A temp config location and a keyring that stores nothing (forces the key-file path)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return {"HOOKWIRE_CONFIG": str(tmp_path / "hw" / "config.toml"), "HOME": str(tmp_path)}


def write(env: dict[str, str], text: str) -> Path:
    path = Path(env["HOOKWIRE_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_is_an_empty_config(env: dict[str, str]) -> None:
    c = cfg.load_config(environ=env)
    assert c.path == Path(env["HOOKWIRE_CONFIG"])
    assert c.default_provider is None and c.default_model is None
    assert c.provider_settings("siliconflow") == {}


def test_platform_dir_is_the_default_location(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    path = cfg.config_path({})
    assert path == Path(platformdirs.user_config_dir("hookwire")) / "config.toml"


def test_file_then_environment_precedence(env: dict[str, str]) -> None:
    write(
        env,
        'provider = "siliconflow"\nmodel = "Qwen/Qwen3-8B"\n'
        '[providers.siliconflow]\nmodel = "Qwen/Qwen3-8B"\nbase_url = "https://x.example/v1"\n'
        "temperature = 0.3\n",
    )
    c = cfg.load_config(environ=env)
    assert (c.default_provider, c.default_model) == ("siliconflow", "Qwen/Qwen3-8B")
    assert c.provider_settings("siliconflow") == {
        "model": "Qwen/Qwen3-8B",
        "base_url": "https://x.example/v1",
        "temperature": 0.3,
    }
    over = cfg.load_config(
        environ={
            **env,
            "HOOKWIRE_PROVIDER": "vllm",
            "HOOKWIRE_MODEL": "m2",
            "SILICONFLOW_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    assert (over.default_provider, over.default_model) == ("vllm", "m2")
    assert over.provider_settings("siliconflow")["base_url"] == "http://127.0.0.1:9/v1"


def test_invalid_toml_names_the_file(env: dict[str, str]) -> None:
    path = write(env, "provider = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        cfg.load_config(environ=env)
    assert str(path) in str(info.value)


def test_provider_entries_must_be_tables(env: dict[str, str]) -> None:
    write(env, 'providers = { siliconflow = "nope" }\n')
    with pytest.raises(ConfigError, match=r"\[providers.<name>\]"):
        cfg.load_config(environ=env)


def test_env_var_names() -> None:
    assert cfg.env_var_for("siliconflow") == "SILICONFLOW_API_KEY"
    assert cfg.env_var_for("openai-compatible", "BASE_URL") == "OPENAI_COMPATIBLE_BASE_URL"


def test_set_key_without_keyring_writes_a_private_file(env: dict[str, str]) -> None:
    c = cfg.load_config(environ=env)
    where = c.set_key("siliconflow", SECRET)
    assert where == str(c.key_file)
    assert stat.S_IMODE(os.stat(c.key_file).st_mode) == 0o600
    assert c.get_key("siliconflow") == SECRET
    assert c.stored_key_names() == {"siliconflow": "file"}
    # a fresh load reads it back; nothing about it shows in the repr
    again = cfg.load_config(environ=env)
    assert again.get_key("siliconflow") == SECRET
    assert SECRET not in repr(again)


def test_environment_beats_stored_key(env: dict[str, str]) -> None:
    cfg.load_config(environ=env).set_key("siliconflow", SECRET)
    c = cfg.load_config(environ={**env, "SILICONFLOW_API_KEY": "from-env"})
    assert c.get_key("siliconflow") == "from-env"
    assert c.get_key("siliconflow", env_var="OTHER_VAR") == SECRET


def test_delete_key(env: dict[str, str]) -> None:
    c = cfg.load_config(environ=env)
    c.set_key("deepseek", SECRET)
    c.set_key("siliconflow", SECRET + "2")
    assert c.delete_key("deepseek") is True
    assert c.delete_key("deepseek") is False
    assert c.get_key("deepseek") is None
    assert c.get_key("siliconflow") == SECRET + "2"


def test_readable_key_file_is_refused(env: dict[str, str]) -> None:
    c = cfg.load_config(environ=env)
    c.set_key("siliconflow", SECRET)
    os.chmod(c.key_file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        c.get_key("siliconflow")
    assert SECRET not in str(info.value)


def test_bad_key_values_are_refused(env: dict[str, str]) -> None:
    c = cfg.load_config(environ=env)
    with pytest.raises(ConfigError):
        c.set_key("siliconflow", "")
    with pytest.raises(ConfigError):
        c.set_key("siliconflow", "a\nb")
    assert not c.key_file.exists()


def test_redacted_view_hides_secrets(env: dict[str, str]) -> None:
    write(env, f'[providers.deepseek]\napi_key = "{SECRET}"\nmodel = "deepseek-chat"\n')
    c = cfg.load_config(environ=env)
    view = c.redacted()
    assert view["file"]["providers"]["deepseek"] == {
        "api_key": "[REDACTED]",
        "model": "deepseek-chat",
    }
    assert SECRET not in repr(view) and SECRET not in repr(c)
    # a key in the file is honoured last, but never handed out with the settings
    assert "api_key" not in c.provider_settings("deepseek")
    assert c.get_key("deepseek") == SECRET


class _MemoryKeyring:
    """A real keyring backend (priority > 0) that keeps passwords in a dict."""

    def __init__(self) -> None:
        import keyring.backend

        class Backend(keyring.backend.KeyringBackend):
            priority = 1  # type: ignore[assignment]
            store: dict[tuple[str, str], str] = {}

            def get_password(self, service: str, username: str) -> str | None:
                return self.store.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.store[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                del self.store[(service, username)]

        self.backend = Backend()


def test_working_keyring_is_preferred(env: dict[str, str]) -> None:
    keyring = pytest.importorskip("keyring")
    previous = keyring.get_keyring()
    memory = _MemoryKeyring().backend
    keyring.set_keyring(memory)
    try:
        c = cfg.load_config(environ=env)
        assert c.set_key("siliconflow", SECRET) == "keyring"
        assert memory.store[("hookwire", "siliconflow")] == SECRET
        # the key file only remembers the name, never the value
        assert SECRET not in c.key_file.read_text()
        assert c.stored_key_names() == {"siliconflow": "keyring"}
        assert c.get_key("siliconflow") == SECRET
        assert c.delete_key("siliconflow") is True
        assert ("hookwire", "siliconflow") not in memory.store
        assert c.stored_key_names() == {}
    finally:
        keyring.set_keyring(previous)
