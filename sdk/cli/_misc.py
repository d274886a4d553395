"""``hookwire plugins``, ``models``, ``mock serve`` and ``vllm serve``."""

from __future__ import annotations

import importlib
import json
from typing import Any

import typer
from rich.table import Table

from hookwire.cli import _llm
from hookwire.cli._errors import CLIError
from hookwire.cli._output import out

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def plugins(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List loaded plugins, their versions and what each registers; and those that failed."""
    from hookwire.registry import PluginHost

    host = PluginHost()
    infos = host.plugins()
    failures = [(getattr(e, "plugin", None) or "?", str(e)) for e in host.errors]
    if as_json:
        doc = {
            "plugins": [
                {
                    "name": i.name,
                    "distribution": i.distribution,
                    "version": i.version,
                    "registers": list(i.registers),
                }
                for i in infos
            ],
            "failed": [{"name": n, "error": msg} for n, msg in failures],
        }
        out.print_json(json.dumps(doc))
        return
    table = Table(title="hookwire plugins", title_justify="left")
    table.add_column("plugin", no_wrap=True)
    table.add_column("distribution", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("registers")
    for info in infos:
        table.add_row(
            info.name, info.distribution or "-", info.version or "-", ", ".join(info.registers)
        )
    out.print(table)
    for name, message in failures:
        out.print(f"failed: {name}: {message}", style="red", markup=False)


def models(
    provider: str | None = typer.Option(None, "--provider", "-p", help="Provider name."),
    base_url: str | None = typer.Option(None, "--base-url", help="Server base URL."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the models a provider serves."""
    llm = _llm.build_llm(provider, None, base_url)
    try:
        names = list(llm.models())
    finally:
        llm.close()
    if as_json:
        out.print_json(json.dumps(names))
    else:
        for name in names:
            out.print(name, markup=False)


mock_app = typer.Typer(help="The bundled OpenAI/vLLM + httpbin mock server.", no_args_is_help=True)


@mock_app.command("serve", context_settings={**PASS_THROUGH, "help_option_names": []})
def mock_serve(ctx: typer.Context) -> None:
    """Run the mock server (every `python -m hookwire.mockserver` flag works; try --help)."""
    from hookwire.mockserver.cli import main as mock_main

    code = mock_main(list(ctx.args))
    if code:
        raise typer.Exit(code)


vllm_app = typer.Typer(help="Launch a local vLLM server.", no_args_is_help=True)


def _launcher() -> Any:
    try:
        return importlib.import_module("hookwire.plugins.providers.vllm_launcher")
    except ModuleNotFoundError as exc:
        launcher = "hookwire.plugins.providers.vllm_launcher"
        if exc.name not in (launcher, "hookwire.plugins", "hookwire.plugins.providers"):
            raise
        raise CLIError(
            f"the vLLM launcher is not installed ({launcher} is missing)"
        ) from None


@vllm_app.command("serve", context_settings={**PASS_THROUGH, "help_option_names": []})
def vllm_serve(ctx: typer.Context) -> None:
    """Start `vllm serve MODEL [ARGS]` and wait until it answers (flags pass through)."""
    launcher = _launcher()
    entry = getattr(launcher, "main", None)
    if entry is None:
        raise CLIError("the vLLM launcher has no command-line entry point (main(argv))")
    code = entry(list(ctx.args))
    if code:
        raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
    app.command("models")(models)
    app.add_typer(mock_app, name="mock")
    app.add_typer(vllm_app, name="vllm")
