"""``hookwire chat``: one prompt (argument and/or piped stdin) or an interactive session.

It follows llm's conventions: piped stdin is the prompt, joined before an argument
(:mod:`hookwire.cli._prompt`); ``-`` reads stdin explicitly; every exchange is logged to the
local history unless ``-n/--no-log`` (:mod:`hookwire.cli._history`), and ``-c``/``--cid``
continue a logged conversation with its provider, model and server unless flags say otherwise.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import typer

from hookwire.cli import _answer, _llm
from hookwire.cli._errors import CLIError
from hookwire.cli._help import add_command
from hookwire.cli._history import Conversation, History
from hookwire.cli._prompt import prompt_from_args, stdin_is_terminal
from hookwire.cli._recorder import Recorder, earlier_messages, find_conversation, last_system
from hookwire.cli._session import Session

NO_PROMPT = (
    "no prompt: pass PROMPT, pipe text into stdin (or PROMPT `-` to read it), or run "
    "`hookwire chat` on a terminal for an interactive session"
)


def _options(**flags: Any) -> dict[str, Any]:
    return {k: v for k, v in flags.items() if v is not None}


def _logging(store: History, no_log: bool, log: bool) -> bool:
    """Whether to log: ``--no-log`` > ``--log`` > ``hookwire logs on|off`` (on by default)."""
    if no_log and log:
        raise CLIError("--no-log and --log cannot be used together", exit_code=2)
    return not no_log and (log or store.logging_on)


def _target(
    conversation: Conversation | None, provider: str | None, model: str | None,
    base_url: str | None,
) -> tuple[str | None, str | None, str | None]:
    """Flags win; a continued conversation fills in what they leave out (same provider only)."""
    if conversation is None or (provider is not None and provider != conversation.provider):
        return provider, model, base_url
    return (
        conversation.provider,
        model or conversation.model,
        base_url or conversation.base_url,
    )


@dataclass(frozen=True)
class _Plan:
    """What to send: the new prompt (None: a session), after which messages, with what system."""

    text: str | None
    system: str | None
    messages: list[dict[str, str]]
    conversation: Conversation | None


def _plan(
    store: History, prompt: str | None, system: str | None, continue_last: bool, cid: str | None
) -> _Plan:
    conversation = None
    if continue_last or cid is not None:
        conversation = find_conversation(store, continue_last, cid)
    text = prompt_from_args(prompt)
    if text is None and not stdin_is_terminal():
        raise CLIError(NO_PROMPT, exit_code=2)
    if conversation is None:
        return _Plan(text, system, [], None)
    if system is None:
        system = last_system(store, conversation)
    return _Plan(text, system, earlier_messages(store, conversation), conversation)


def _run(
    llm: Any, recorder: Recorder, plan: _Plan, stream: bool, show_reasoning: bool,
    options: dict[str, Any],
) -> None:
    if plan.text is None:
        Session(
            llm, recorder, system=plan.system, show_reasoning=show_reasoning, options=options,
            messages=plan.messages,
        ).run()
        return
    prompt: Any = plan.text
    if plan.messages:
        prompt = [*plan.messages, {"role": "user", "content": plan.text}]
    run = _answer.streamed if stream else _answer.whole
    answer = run(llm, prompt, show_reasoning, system=plan.system, **options)
    _answer.warn_if_cut(answer, options.get("max_tokens"))
    recorder.record(plan.text, plan.system, answer)
    if not answer.completed:
        raise typer.Exit(130)


def chat(
    prompt: str | None = typer.Argument(
        None, metavar="PROMPT",
        help="The prompt; `-` reads it from stdin. Piped stdin goes before it. Omit it on a "
        "terminal for an interactive session.",
    ),
    system: str | None = typer.Option(None, "--system", "-s", help="System prompt."),
    continue_last: bool = typer.Option(
        False, "--continue", "-c", help="Continue the most recent conversation."
    ),
    cid: str | None = typer.Option(
        None, "--cid", metavar="<id>", help="Continue conversation ID."
    ),
    no_log: bool = typer.Option(False, "--no-log", "-n", help="Do not log this chat."),
    log: bool = typer.Option(False, "--log", help="Log it even when `hookwire logs off`."),
    stream: bool = typer.Option(
        False, "--stream/--no-stream", help="Print tokens as they come (sessions always do)."
    ),
    thinking: bool | None = typer.Option(
        None, "--thinking/--no-thinking", help="Ask for reasoning (default: the model's)."
    ),
    provider: str | None = typer.Option(None, "--provider", "-p", help="Provider name."),
    model: str | None = typer.Option(None, "--model", "-m", help="Model name."),
    base_url: str | None = typer.Option(None, "--base-url", help="Server base URL (…/v1)."),
    temperature: float | None = typer.Option(
        None, "--temperature", "-t", help="Sampling temperature."
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1, help="Longest answer, in tokens."
    ),
) -> None:
    """Chat with a model: one prompt, or an interactive session with history."""
    options = _options(temperature=temperature, max_tokens=max_tokens, thinking=thinking)
    with History() as store:
        logging = _logging(store, no_log, log)
        plan = _plan(store, prompt, system, continue_last, cid)
        provider, model, base_url = _target(plan.conversation, provider, model, base_url)
        llm = _llm.build_llm(provider, model, base_url)
        recorder = Recorder(store if logging else None, llm, options, plan.conversation, base_url)
        try:
            with _llm.hinting(llm):
                _run(llm, recorder, plan, stream, thinking is not False, options)
        finally:
            with contextlib.suppress(Exception):
                llm.close()


def register(app: typer.Typer) -> None:
    add_command(app, "chat", chat)
