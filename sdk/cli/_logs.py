"""``hookwire logs``: list and search the chat history, as ``llm logs`` does.

``hookwire logs`` shows the latest 3 exchanges (``-n 0``: all), oldest first, as Markdown;
``-q`` searches, ``-m`` filters by model, ``-c`` shows the latest conversation and ``--cid``
one by id, ``-r`` prints only the last answer, ``--json`` the entries as a JSON list.
``hookwire logs path|status|on|off`` say where the file is and turn logging on or off.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from hookwire.cli._help import add_command, new_app
from hookwire.cli._history import PATH_ENV, Entry, History
from hookwire.cli._output import notice, out

logs_app = new_app(
    "List and search the local chat history (`hookwire logs -q word`).",
    no_args_is_help=False,
    invoke_without_command=True,
)


def _markdown(entry: Entry) -> str:
    lines = [
        f"# {entry.datetime_utc}    conversation: {entry.conversation_id}    id: {entry.id}",
        "",
        f"Model: **{entry.model or '?'}** (provider {entry.provider or '?'})",
        "",
    ]
    if entry.system:
        lines += ["## System", "", entry.system, ""]
    lines += ["## Prompt", "", entry.prompt, "", "## Response", "", entry.response, ""]
    if entry.finish_reason not in (None, "stop"):
        lines += [f"(finish_reason: {entry.finish_reason})", ""]
    return "\n".join(lines)


def _pick(history: History, current: bool, cid: str | None) -> str | None:
    if cid is not None:
        return cid
    if not current:
        return None
    latest = history.latest()
    return latest.id if latest is not None else ""  # "": matches nothing


@logs_app.callback()
def logs(
    ctx: typer.Context,
    count: int = typer.Option(3, "--count", "-n", min=0, help="How many (0: all)."),
    query: str | None = typer.Option(
        None, "--query", "-q", help="Only exchanges holding every word of this text."
    ),
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's."),
    current: bool = typer.Option(
        False, "--current", "-c", help="Only the most recent conversation."
    ),
    cid: str | None = typer.Option(
        None, "--cid", metavar="<id>", help="Only conversation ID."
    ),
    response: bool = typer.Option(False, "--response", "-r", help="Only the last answer."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List and search logged chats (the latest 3 unless -n says otherwise)."""
    if ctx.invoked_subcommand is not None:
        return
    with History() as history:
        chosen = _pick(history, current, cid)
        limit = 1 if response else count
        entries = history.entries(query=query, model=model, conversation_id=chosen, limit=limit)
    if response:
        if entries:
            out.print(entries[-1].response, markup=False, highlight=False)
        return
    if as_json:
        out.print_json(json.dumps([e.to_json() for e in entries], ensure_ascii=False))
        return
    if not entries:
        notice("no logged chats match" if (query or model or chosen) else "no chats logged yet")
    for entry in entries:
        out.print(_markdown(entry), markup=False, highlight=False)


def logs_path() -> None:
    """Print the history file's path (it may not exist yet)."""
    out.print(str(History().path), markup=False)


def logs_status() -> None:
    """Whether logging is on, where the file is and how much it holds."""
    with History() as history:
        conversations, responses = history.counts()
        lines: list[Any] = [
            f"Logging is {'on' if history.logging_on else 'off'} for all chats",
            f"Found log database at {history.path}",
            f"Number of conversations logged:\t{conversations}",
            f"Number of responses logged:\t{responses}",
        ]
    if not responses:
        lines.append(f"(set {PATH_ENV} to keep the history elsewhere)")
    for line in lines:
        out.print(line, markup=False)


def logs_on() -> None:
    """Log every chat (the default)."""
    History().set_logging(True)
    out.print("Logging is on", markup=False)


def logs_off() -> None:
    """Log nothing until `hookwire logs on` (`--log` still logs one chat)."""
    History().set_logging(False)
    out.print("Logging is off", markup=False)


add_command(logs_app, "path", logs_path)
add_command(logs_app, "status", logs_status)
add_command(logs_app, "on", logs_on)
add_command(logs_app, "off", logs_off)


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")
