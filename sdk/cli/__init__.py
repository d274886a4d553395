"""The ``hookwire`` command line: chat, http, mock, plugins, models, vllm, keys and config.

``main(argv=None) -> int`` is the console script. It runs the typer app without click's
"standalone" handling so that every failure ends the same way: one ``error: ...`` line on
stderr and a non-zero status, or the full traceback with ``--debug`` (accepted anywhere on
the command line, or ``HOOKWIRE_DEBUG=1``). Usage errors (an unknown option, a bad value)
follow the same rule, with status 2 as click and argparse use, and name the ``--help`` to read.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

__all__ = ["main"]


def _quiet_logging(debug: bool) -> None:
    """Library warnings (a plugin that failed to load) stay out of normal output: commands
    report what matters themselves (``hookwire plugins`` lists failures). ``--debug`` shows all.
    """
    import logging

    logger = logging.getLogger("hookwire")
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    else:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _click_kind(exc: BaseException) -> str | None:
    """``"help"``, ``"usage"`` or ``None``: typer vendors click, so its exceptions are told
    apart by class name rather than imported."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "NoArgsIsHelpError" in names:
        return "help"
    return "usage" if "ClickException" in names else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hookwire`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        import rich  # noqa: F401  (the CLI's output; both come with the cli extra)
        import typer
    except ImportError as exc:
        print(
            f"error: the hookwire command line needs the cli extra ({exc.name} is not "
            "installed): pip install 'hookwire[cli]'",
            file=sys.stderr,
        )
        return 1

    from hookwire.cli._app import build_command
    from hookwire.cli._errors import CLIError, describe, usage_message
    from hookwire.cli._output import error_line

    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("HOOKWIRE_DEBUG", "") not in ("", "0")
    options = args[: args.index("--")] if "--" in args else args
    if "--debug" in options:
        args.remove("--debug")
        debug = True
    _quiet_logging(debug)
    command = build_command()
    try:
        result = command.main(args=args, prog_name="hookwire", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        error_line("interrupted")
        return 130
    except Exception as exc:
        kind = _click_kind(exc)
        if kind == "help":  # a bare group (`hookwire mock`): its help, as click shows it
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if kind == "usage":  # the one-line `error: ...` every other failure prints
            error_line(usage_message(exc))
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if debug:
            traceback.print_exc()
        error_line(describe(exc))
        return exc.exit_code if isinstance(exc, CLIError) else 1
    return result if isinstance(result, int) else 0
