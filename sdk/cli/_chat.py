"""``hookwire chat``: one-shot or interactive chat, streamed or not, reasoning shown apart.

The answer goes to stdout; reasoning ("thinking") goes to stderr, dimmed, so it is visible in a
terminal yet never mixed into a captured answer. In the interactive session Ctrl-C closes the
stream of the current answer (the connection is released) and returns to the prompt.
"""

from __future__ import annotations

import contextlib
from typing import Any

import typer

from hookwire.cli import _llm
from hookwire.cli._output import err, notice, out, write

PROMPT = "> "
HELP_TEXT = "/reset clears the history, /system <text> sets the system prompt, /exit quits"


def _chat_kwargs(**flags: Any) -> dict[str, Any]:
    return {k: v for k, v in flags.items() if v is not None}


def _print_result(result: Any, show_reasoning: bool) -> None:
    if show_reasoning and result.reasoning:
        err.print(result.reasoning.strip("\n"), style="dim", markup=False, highlight=False)
    out.print(result.content, markup=False, highlight=False)


class _StreamPrinter:
    """Prints deltas as they arrive: reasoning dimmed on stderr, the answer on stdout."""

    def __init__(self, show_reasoning: bool) -> None:
        self.show_reasoning = show_reasoning
        self.in_reasoning = False
        self.content: list[str] = []

    def feed(self, delta: Any) -> None:
        if delta.reasoning and self.show_reasoning:
            self.in_reasoning = True
            write(delta.reasoning, stderr=True, style="dim")
        if delta.content:
            if self.in_reasoning:
                write("\n", stderr=True)
                self.in_reasoning = False
            self.content.append(delta.content)
            write(delta.content)

    def finish(self) -> None:
        if self.in_reasoning:
            write("\n", stderr=True)
        write("\n")


def stream_answer(llm: Any, prompt: Any, show_reasoning: bool, **kwargs: Any) -> tuple[str, bool]:
    """Stream one answer; returns (text, completed). Ctrl-C closes the stream, returns False."""
    printer = _StreamPrinter(show_reasoning)
    stream = llm.stream(prompt, **kwargs)
    try:
        for delta in stream:
            printer.feed(delta)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            stream.close()
        printer.finish()
        notice("[answer stopped]")
        return "".join(printer.content), False
    finally:
        stream.close()
    printer.finish()
    return "".join(printer.content), True


def interactive(llm: Any, system: str | None, show_reasoning: bool, kwargs: dict[str, Any]) -> None:
    """A session that keeps history; ``/reset``, ``/system``, ``/exit``; Ctrl-C stops an answer."""
    history: list[dict[str, str]] = []
    notice(f"hookwire chat: {HELP_TEXT}; Ctrl-C stops an answer, Ctrl-D quits")
    while True:
        try:
            line = input(PROMPT)
        except EOFError:
            write("\n")
            return
        except KeyboardInterrupt:
            write("\n")
            continue
        text = line.strip()
        if not text:
            continue
        if text.startswith("/"):
            command, _, arg = text.partition(" ")
            if command in ("/exit", "/quit"):
                return
            if command == "/reset":
                history.clear()
                notice("[history cleared]")
            elif command == "/system":
                system = arg.strip() or None
                notice(f"[system prompt {'set' if system else 'cleared'}]")
            elif command == "/help":
                notice(HELP_TEXT)
            else:
                notice(f"unknown command {command}; {HELP_TEXT}")
            continue
        turn = [*history, {"role": "user", "content": text}]
        answer, _completed = stream_answer(llm, turn, show_reasoning, system=system, **kwargs)
        # A stopped answer stays in the history as far as it was shown: the next question may
        # refer to it, and it is what the user saw.
        history.append({"role": "user", "content": text})
        if answer:
            history.append({"role": "assistant", "content": answer})


def chat(
    prompt: str | None = typer.Argument(None, help="The prompt; omit it for a session."),
    stream: bool = typer.Option(False, "--stream/--no-stream", help="Print tokens as they come."),
    system: str | None = typer.Option(None, "--system", "-s", help="System prompt."),
    thinking: bool | None = typer.Option(
        None, "--thinking/--no-thinking", help="Ask for reasoning (default: the model's)."
    ),
    provider: str | None = typer.Option(None, "--provider", "-p", help="Provider name."),
    model: str | None = typer.Option(None, "--model", "-m", help="Model name."),
    base_url: str | None = typer.Option(None, "--base-url", help="Server base URL."),
    temperature: float | None = typer.Option(None, "--temperature", "-t"),
    max_tokens: int | None = typer.Option(None, "--max-tokens"),
) -> None:
    """Chat with a model: one prompt, or an interactive session with history."""
    kwargs = _chat_kwargs(temperature=temperature, max_tokens=max_tokens, thinking=thinking)
    show_reasoning = thinking is not False
    llm = _llm.build_llm(provider, model, base_url)
    try:
        if prompt is None:
            interactive(llm, system, show_reasoning, kwargs)
        elif stream:
            _text, completed = stream_answer(llm, prompt, show_reasoning, system=system, **kwargs)
            if not completed:
                raise typer.Exit(130)
        else:
            _print_result(llm.chat(prompt, system=system, **kwargs), show_reasoning)
    finally:
        with contextlib.suppress(Exception):
            llm.close()


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
