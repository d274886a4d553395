"""Reading a password or an API key: from the terminal with echo off, or from piped stdin.

getpass talks to the controlling terminal (``/dev/tty``), so it works even when stdin is piped.
Without a terminal it would fall back to stdin with a warning and, on an empty stdin, end as
"interrupted"; instead, each command says which source is natural for it:

- ``hookwire keys set`` reads piped stdin first (``printf %s "$KEY" | hookwire keys set x``);
- ``hookwire http --auth user`` cannot (stdin is no password there), so with no terminal it
  fails with status 1 and says to pass ``--auth user:password``.
"""

from __future__ import annotations

import getpass
import os
import sys

from hookwire.cli._errors import CLIError
from hookwire.cli._output import is_tty


def has_terminal() -> bool:
    """Whether a controlling terminal exists to ask on (what getpass would open)."""
    if os.name != "posix":  # pragma: no cover - getpass uses the console there
        return is_tty(sys.stdin)
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def ask_terminal(prompt: str) -> str:
    """Ask with echo off; Ctrl-D answers nothing (Ctrl-C still interrupts the command)."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        return ""


def read_secret(prompt: str, *, stdin_first: bool, how: str) -> str:
    """The secret, stripped: piped stdin (when ``stdin_first``), else the terminal.

    ``how`` finishes the error when neither source is there (e.g. "set X_API_KEY").
    """
    if stdin_first and sys.stdin is not None and not is_tty(sys.stdin):
        return sys.stdin.readline().strip()
    if has_terminal():
        return ask_terminal(prompt).strip()
    raise CLIError(f"no terminal to ask for the secret on: {how}")
