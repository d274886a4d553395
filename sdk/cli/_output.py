"""Terminal output: one console for results (stdout), one for notices and errors (stderr).

Results go to stdout and everything else (notices, reasoning, progress, errors) to stderr, so
``hookwire chat "..." > answer.txt`` captures only the answer. rich drops colour by itself when
the stream is not a terminal, and honours ``NO_COLOR``.
"""

from __future__ import annotations

import sys

from rich.console import Console

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def notice(text: str) -> None:
    """One dim line on stderr: something the user should know but did not ask for."""
    err.print(text, style="dim", markup=False)


def error_line(text: str) -> None:
    """The one line a failure prints: ``error: ...``."""
    err.print(f"error: {text}", style="bold red", markup=False)


def write(text: str, *, stderr: bool = False, style: str | None = None) -> None:
    """Write a streamed fragment as it arrives (no newline, no markup, flushed)."""
    console = err if stderr else out
    console.print(text, end="", style=style, markup=False, highlight=False)
    (sys.stderr if stderr else sys.stdout).flush()


def is_tty(stream: object) -> bool:
    """Whether ``stream`` is an open terminal (a closed or missing stream is not)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # closed, or a descriptor that went away
        return False
