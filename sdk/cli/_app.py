"""The typer application: the command tree and the global options."""

from __future__ import annotations

from typing import Any

import typer

import hookwire
from hookwire.cli import _batch, _chat, _http, _keys, _logs, _misc, _serve
from hookwire.cli._help import Group

HELP = """hookwire: HTTP and LLM calls through pluggable auth, transports and providers.

Run `hookwire chat "你好"` to talk to the bundled mock model (no key, no network needed)."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hookwire {hookwire.__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="hookwire",
        help=HELP,
        cls=Group,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """Global options (``--debug`` is accepted anywhere and shows tracebacks)."""

    _chat.register(app)
    _logs.register(app)
    _http.register(app)
    _misc.register(app)
    _serve.register(app)
    _keys.register(app)
    _batch.register(app)
    return app


def build_command() -> Any:
    """The click command behind the typer app (``main`` drives it directly)."""
    return typer.main.get_command(build_app())
