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


def _lower_first(text: str) -> str:
    # "No such option" -> "no such option", as our own messages read; "URL ..." stays.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def usage_message(exc: BaseException) -> str:
    """The one line for a click usage error: its message, then where the help is."""
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    # typer's value checks speak pydantic ("Value error, 'x' is not one of ..."): drop that.
    text = " ".join(str(text).split()).replace("Value error, ", "").rstrip(".")
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    hint = f" (see '{path} --help')" if path else ""
    return _lower_first(text) + hint
