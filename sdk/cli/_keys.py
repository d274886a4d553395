"""``hookwire keys set|list|delete`` and ``hookwire config path|show``.

A key is read with the terminal's echo off (getpass), or from stdin when stdin is not a
terminal (``printf %s "$KEY" | hookwire keys set siliconflow``); it is never printed back.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

import typer

from hookwire.cli._errors import CLIError
from hookwire.cli._output import notice, out
from hookwire.config import env_var_for, load_config

keys_app = typer.Typer(help="Store API keys (keyring when available, else a 0600 file).",
                       no_args_is_help=True)
config_app = typer.Typer(help="Where the config file is, and what it says.", no_args_is_help=True)


def _read_secret(provider: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"API key for {provider} (input hidden): ")
    return sys.stdin.readline().strip()


@keys_app.command("set")
def keys_set(provider: str = typer.Argument(..., help="Provider name, e.g. siliconflow.")) -> None:
    """Store the API key for PROVIDER (prompted with echo off, or read from stdin)."""
    key = _read_secret(provider).strip()
    if not key:
        raise CLIError(f"no key given for {provider}; nothing stored")
    where = load_config().set_key(provider, key)
    out.print(f"stored the {provider} key in {where}", markup=False)
    env_var = env_var_for(provider)
    if os.environ.get(env_var):
        notice(f"note: {env_var} is set in the environment and takes precedence")


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Providers with a stored key (names and where, never the values)."""
    names = load_config().stored_key_names()
    if as_json:
        out.print_json(json.dumps(names))
        return
    if not names:
        notice("no stored keys (environment variables are not listed)")
    for name, where in names.items():
        out.print(f"{name}\t{where}", markup=False)


@keys_app.command("delete")
def keys_delete(provider: str = typer.Argument(...)) -> None:
    """Forget the stored key for PROVIDER."""
    if not load_config().delete_key(provider):
        raise CLIError(f"no stored key for {provider}")
    out.print(f"deleted the {provider} key", markup=False)


@config_app.command("path")
def config_path_cmd() -> None:
    """Print the config file's path (it may not exist yet)."""
    out.print(str(load_config().path), markup=False)


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration, secrets redacted."""
    out.print_json(json.dumps(load_config().redacted(), default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(config_app, name="config")
