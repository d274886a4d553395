"""User configuration: a TOML file, environment variables, and API keys kept out of sight.

Precedence, highest first: explicit arguments (the caller's business), environment variables,
the config file, built-in defaults. The file lives at
``platformdirs.user_config_dir("hookwire")/config.toml`` (``~/.config/hookwire/config.toml`` on
Linux); ``HOOKWIRE_CONFIG`` names another file::

    provider = "siliconflow"          # default provider   (env HOOKWIRE_PROVIDER)
    model = "Qwen/Qwen3-8B"           # default model      (env HOOKWIRE_MODEL)

    [providers.siliconflow]           # settings handed to that provider
    model = "Qwen/Qwen3-8B"
    base_url = "https://api.siliconflow.cn/v1"   # env SILICONFLOW_BASE_URL overrides

| what            | environment                  | file                               |
|-----------------|------------------------------|------------------------------------|
| default provider| ``HOOKWIRE_PROVIDER``        | ``provider = ...``                 |
| default model   | ``HOOKWIRE_MODEL``           | ``model = ...``                    |
| base URL        | ``<PROVIDER>_BASE_URL``      | ``[providers.<name>] base_url``    |
| API key         | ``<PROVIDER>_API_KEY``       | keyring, then the key file         |

API keys are looked up environment first, then the system keyring (when the ``keyring``
package is installed and a real backend works), then a key file next to the config file
(``keys.json``, created with mode 0600 and refused when others can read it, as ssh refuses a
readable private key). Keys never appear in a repr, a message or a log line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookwire.errors import ConfigError

log = logging.getLogger("hookwire.config")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CONFIG_ENV",
    "KEYRING_SERVICE",
    "MODEL_ENV",
    "PROVIDER_ENV",
    "Config",
    "config_path",
    "env_var_for",
    "load_config",
]

CONFIG_ENV = "HOOKWIRE_CONFIG"
PROVIDER_ENV = "HOOKWIRE_PROVIDER"
MODEL_ENV = "HOOKWIRE_MODEL"
KEYRING_SERVICE = "hookwire"
KEY_FILE_NAME = "keys.json"
_REDACTED = "[REDACTED]"
_SECRET_WORDS = ("key", "token", "secret", "password")


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the config file is (it may not exist): ``HOOKWIRE_CONFIG`` or the platform dir."""
    env = os.environ if environ is None else environ
    override = env.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # imported here: `import hookwire` must stay cheap

    return Path(platformdirs.user_config_dir("hookwire")) / "config.toml"


def env_var_for(provider: str, what: str = "API_KEY") -> str:
    """The variable for a provider: ``siliconflow`` -> ``SILICONFLOW_API_KEY``."""
    stem = "".join(c if c.isalnum() else "_" for c in provider.upper())
    return f"{stem}_{what}"


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact(value: Any) -> Any:
    """A copy of a settings tree with every secret-looking value replaced by ``[REDACTED]``."""
    if isinstance(value, dict):
        return {k: _REDACTED if _is_secret(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# -- the keyring, when one really works -------------------------------------------------------


def _keyring() -> Any | None:
    """The ``keyring`` module when a real backend is active, else ``None``.

    keyring falls back to its ``fail`` backend (raises on every call) or a ``null`` one (stores
    nothing) when no system store exists, as on a headless server; both count as "no keyring"
    here, so keys then go to the key file instead of vanishing.
    """
    try:
        import keyring
        from keyring.backends import fail, null
    except Exception:  # not installed, or broken: the key file serves instead
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:  # a chainer with nothing inside
        return None
    return keyring


# -- the key file ------------------------------------------------------------------------------


def _check_private(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - POSIX modes do not apply
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"key file {path} can be read by other users (mode {mode:o}); "
            f"run `chmod 600 {path}` or delete it and set the keys again"
        )


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (a temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=path.parent)  # mkstemp opens with 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class Config:
    """The merged configuration. Build it with :func:`load_config`; it never holds a key."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    # -- defaults ---------------------------------------------------------------------------
    @property
    def default_provider(self) -> str | None:
        value = self.environ.get(PROVIDER_ENV) or self.data.get("provider")
        return str(value) if value else None

    @property
    def default_model(self) -> str | None:
        value = self.environ.get(MODEL_ENV) or self.data.get("model")
        return str(value) if value else None

    def provider_settings(self, name: str) -> dict[str, Any]:
        """Settings for provider ``name``: ``[providers.<name>]`` with env overrides applied.

        ``api_key`` is never included (use :meth:`get_key`), so the dict is safe to log.
        """
        table = self.data.get("providers", {}).get(name, {})
        settings = {k: v for k, v in dict(table).items() if k != "api_key"}
        base_url = self.environ.get(env_var_for(name, "BASE_URL"))
        if base_url:
            settings["base_url"] = base_url
        return settings

    def prices(self) -> Any:
        """The ``[prices.<provider>.<model>]`` tables as a ``hookwire.llm.cost.PriceTable``."""
        from hookwire.llm.cost import PriceTable

        return PriceTable(self.data.get("prices") or {})

    # -- keys -------------------------------------------------------------------------------
    @property
    def key_file(self) -> Path:
        return self.path.parent / KEY_FILE_NAME

    def get_key(self, provider: str, env_var: str | None = None) -> str | None:
        """The API key for ``provider``: environment, then keyring, then the key file.

        Surrounding whitespace is stripped: a key read from a file (``$(cat key)``, a file
        saved with a final newline) would otherwise be sent with it, or refused in a message.
        """
        key = self._get_key(provider, env_var)
        return key.strip() or None if key else None

    def _get_key(self, provider: str, env_var: str | None) -> str | None:
        value = self.environ.get(env_var or env_var_for(provider))
        if value and value.strip():
            return value
        ring = _keyring()
        if ring is not None:
            try:
                stored = ring.get_password(KEYRING_SERVICE, provider)
            except Exception:  # a locked or broken store: fall through to the file
                stored = None
            if stored:
                return str(stored)
        stored = self._read_key_file().get(provider)
        if stored:
            return str(stored)
        legacy = self.data.get("providers", {}).get(provider, {}).get("api_key")
        return str(legacy) if legacy else None

    def set_key(self, provider: str, key: str) -> str:
        """Store ``key``; returns where it went (``"keyring"`` or the key file's path)."""
        if not provider or not key or "\n" in key or "\r" in key:
            raise ConfigError("a key needs a provider name and a one-line, non-empty value")
        ring = _keyring()
        if ring is not None:
            try:
                ring.set_password(KEYRING_SERVICE, provider, key)
            except Exception as exc:  # the store refused: use the file rather than lose the key
                log.warning("keyring refused the key for %s (%s); using the key file",
                            provider, type(exc).__name__)
            else:
                self._forget_file_key(provider)
                self._remember_keyring_name(provider, add=True)
                return "keyring"
        keys = self._read_key_file()
        keys[provider] = key
        self._write_key_file(keys)
        return str(self.key_file)

    def delete_key(self, provider: str) -> bool:
        """Remove a stored key from the keyring and the key file; ``False`` if none was stored."""
        removed = False
        ring = _keyring()
        if ring is not None:
            try:
                if ring.get_password(KEYRING_SERVICE, provider) is not None:
                    ring.delete_password(KEYRING_SERVICE, provider)
                    removed = True
            except Exception as exc:
                log.warning("keyring could not delete %s (%s)", provider, type(exc).__name__)
        self._remember_keyring_name(provider, add=False)
        return self._forget_file_key(provider) or removed

    def stored_key_names(self) -> dict[str, str]:
        """Providers with a stored key and where it is stored; never the values."""
        names = {name: "file" for name in self._read_key_file()}
        for name in self._read_index():
            names.setdefault(name, "keyring")
        return dict(sorted(names.items()))

    # -- key file internals -----------------------------------------------------------------
    def _load_key_doc(self) -> dict[str, Any]:
        path = self.key_file
        if not path.exists():
            return {}
        _check_private(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            raise ConfigError(
                f"key file {path} is not valid JSON; delete it and set keys again"
            ) from None
        if not isinstance(doc, dict):
            raise ConfigError(f"key file {path} must hold a JSON object")
        return doc

    def _read_key_file(self) -> dict[str, str]:
        keys = self._load_key_doc().get("keys", {})
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    def _read_index(self) -> list[str]:
        names = self._load_key_doc().get("keyring", [])
        return [str(n) for n in names] if isinstance(names, list) else []

    def _write_doc(self, keys: dict[str, str], index: list[str]) -> None:
        doc: dict[str, Any] = {"keys": keys, "keyring": sorted(set(index))}
        _write_private(self.key_file, json.dumps(doc, indent=2) + "\n")

    def _write_key_file(self, keys: dict[str, str]) -> None:
        self._write_doc(keys, self._read_index())

    def _forget_file_key(self, provider: str) -> bool:
        keys = self._read_key_file()
        if provider not in keys:
            return False
        del keys[provider]
        self._write_key_file(keys)
        return True

    def _remember_keyring_name(self, provider: str, *, add: bool) -> None:
        # keyring cannot list its entries, so the names (never the values) are kept here.
        index = self._read_index()
        if add == (provider in index):
            return
        index = [*index, provider] if add else [n for n in index if n != provider]
        self._write_doc(self._read_key_file(), index)

    # -- display ----------------------------------------------------------------------------
    def redacted(self) -> dict[str, Any]:
        """The file's settings with secrets replaced, plus the effective defaults."""
        return {
            "path": str(self.path),
            "exists": self.path.exists(),
            "default_provider": self.default_provider,
            "default_model": self.default_model,
            "file": redact(self.data),
        }

    def __repr__(self) -> str:
        providers = sorted(self.data.get("providers", {}))
        return (
            f"Config(path={str(self.path)!r}, default_provider={self.default_provider!r}, "
            f"default_model={self.default_model!r}, providers={providers!r})"
        )


def load_config(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read the config file (absent is fine: an empty config) and the environment."""
    env = dict(os.environ if environ is None else environ)
    file = Path(path) if path is not None else config_path(env)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
        providers = data.get("providers", {})
        if not isinstance(providers, dict) or not all(
            isinstance(v, dict) for v in providers.values()
        ):
            raise ConfigError(f"config file {file}: [providers.<name>] entries must be tables")
    return Config(path=file, data=data, environ=env)
