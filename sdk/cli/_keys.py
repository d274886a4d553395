"""``hookwire keys set|list|delete`` and ``hookwire config path|show``.

A key is read from piped stdin (``printf %s "$KEY" | hookwire keys set siliconflow``), else
from the terminal with echo off; with neither, the command fails and says how to give it. It
is never printed back.
"""

from __future__ import annotations

import json
import os

import typer

from hookwire.cli._errors import CLIError
from hookwire.cli._help import add_command, new_app
from hookwire.cli._output import notice, out
from hookwire.cli._secrets import read_secret
from hookwire.config import env_var_for, load_config

keys_app = new_app("Store API keys (keyring when available, else a 0600 file).")
config_app = new_app("Where the config file is, and what it says.")

JSON_HELP = "Machine-readable output."


def _how(provider: str) -> str:
    return (
        f'pipe it in (printf %s "$KEY" | hookwire keys set {provider}), or set '
        f"{env_var_for(provider)} instead of storing it"
    )


PROVIDER_HELP = "Provider name, e.g. siliconflow."


def keys_set(
    provider: str = typer.Argument(..., metavar="PROVIDER", help=PROVIDER_HELP),
) -> None:
    """Store the API key for PROVIDER (read from piped stdin, or asked with echo off)."""
    prompt = f"API key for {provider} (input hidden): "
    key = read_secret(prompt, stdin_first=True, how=_how(provider))
    if not key:
        raise CLIError(f"no key given for {provider}; nothing stored: {_how(provider)}")
    where = load_config().set_key(provider, key)
    out.print(f"stored the {provider} key in {where}", markup=False)
    env_var = env_var_for(provider)
    if os.environ.get(env_var):
        notice(f"note: {env_var} is set in the environment and takes precedence")


def keys_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Providers with a stored key (names and where, never the values)."""
    names = load_config().stored_key_names()
    if as_json:
        out.print_json(json.dumps(names))
        return
    if not names:
        notice("no stored keys (environment variables are not listed)")
    for name, where in names.items():
        out.print(f"{name}\t{where}", markup=False)


def keys_delete(
    provider: str = typer.Argument(..., metavar="PROVIDER", help=PROVIDER_HELP),
) -> None:
    """Forget the stored key for PROVIDER."""
    if not load_config().delete_key(provider):
        raise CLIError(f"no stored key for {provider}")
    out.print(f"deleted the {provider} key", markup=False)


def config_path_cmd() -> None:
    """Print the config file's path (it may not exist yet)."""
    out.print(str(load_config().path), markup=False)


def config_show() -> None:
    """Print the effective configuration, secrets redacted."""
    out.print_json(json.dumps(load_config().redacted(), default=str))


add_command(keys_app, "set", keys_set)
add_command(keys_app, "list", keys_list)
add_command(keys_app, "delete", keys_delete)
add_command(config_app, "path", config_path_cmd)
add_command(config_app, "show", config_show)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(config_app, name="config")
