"""One help style for every command: typer apps and commands built through :func:`new_app`.

Every group and command of the tree uses the two classes below, so they all render help the
same way (rich panels, ``-h``/``--help``). The classes fix one thing typer gets wrong: it shows
a type placeholder on flags (``--version <bool>``), though a flag takes no value; a flag's
metavar is set to the empty string so the type column stays blank for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["Command", "Group", "add_command", "new_app"]


def _blank_flag_types(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""  # rich help prints the metavar, when set, instead of the type
    return params


class Command(TyperCommand):
    """A typer command whose flags show no ``<bool>`` placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flag_types(super().get_params(ctx))


class Group(TyperGroup):
    """A typer group whose flags show no ``<bool>`` placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flag_types(super().get_params(ctx))


def new_app(help: str, **settings: Any) -> typer.Typer:
    """A sub-application (``hookwire mock``, ``hookwire logs``...) in the house style."""
    settings.setdefault("no_args_is_help", True)
    return typer.Typer(
        help=help,
        cls=Group,
        add_completion=False,
        pretty_exceptions_enable=False,
        **settings,
    )


def add_command(
    app: typer.Typer, name: str, function: Callable[..., Any], **settings: Any
) -> None:
    """Register ``function`` as command ``name`` of ``app`` in the house style."""
    app.command(name, cls=Command, **settings)(function)
