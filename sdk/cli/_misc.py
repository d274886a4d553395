"""``hookwire plugins`` and ``hookwire models``."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hookwire.cli import _llm
from hookwire.cli._help import add_command
from hookwire.cli._output import out


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
        with _llm.hinting(llm):
            names = list(llm.models())
    finally:
        llm.close()
    if as_json:
        out.print_json(json.dumps(names))
    else:
        for name in names:
            out.print(name, markup=False)


def register(app: typer.Typer) -> None:
    add_command(app, "plugins", plugins)
    add_command(app, "models", models)
