"""Turning an exception into the one line a failed command prints."""

from __future__ import annotations

from hookwire.errors import MissingAPIKeyError, SDKError


class CLIError(Exception):
    """A failure the CLI itself detected; its message is already the whole story."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def missing_key_hint(provider: str, env_var: str | None) -> str:
    var = env_var or provider.upper().replace("-", "_") + "_API_KEY"
    return f"no API key for {provider}: set {var} or run `hookwire keys set {provider}`"


def describe(exc: BaseException) -> str:
    """A single line naming what went wrong, with the fix when there is an obvious one."""
    if isinstance(exc, MissingAPIKeyError):
        provider = getattr(exc, "provider", None)
        if provider:
            return missing_key_hint(str(provider), getattr(exc, "env_var", None))
        return str(exc)
    if isinstance(exc, (SDKError, CLIError)):
        text = str(exc) or type(exc).__name__
    elif isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        text = f"{exc.strerror}{where}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return " ".join(text.split())  # one line, whatever the message held
