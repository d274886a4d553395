"""The interactive ``hookwire chat`` session: history kept between turns, commands, Ctrl-C.

It runs only when stdin is a terminal. The banner (who you talk to, the commands) goes to
stderr when that is a terminal; the ``> `` prompt goes to the terminal too (stderr, as Python's
own ``input()`` does on a terminal, else stdout when only that is one), never into a file or
pipe, so ``hookwire chat > transcript.txt`` captures the answers alone.

Commands: ``/reset`` (new conversation), ``/system <text>`` (``/system`` alone clears it),
``/help``, ``/exit`` or ``/quit`` (and ``exit``/``quit`` as in llm), Ctrl-D to quit. Ctrl-C
stops the current answer and returns to the prompt; the part that was shown stays in the
history. A failed turn prints its ``error:`` line and the session goes on.
"""

from __future__ import annotations

import sys
from typing import Any

from hookwire.cli import _answer
from hookwire.cli._errors import describe
from hookwire.cli._llm import MOCK, base_url_of, unreachable
from hookwire.cli._output import error_line, is_tty, notice, write
from hookwire.cli._recorder import Recorder
from hookwire.errors import SDKError

PROMPT = "> "
HELP_TEXT = (
    "/reset starts over, /system <text> sets the system prompt, /exit or Ctrl-D quits; "
    "Ctrl-C stops an answer"
)
EXIT_WORDS = frozenset({"/exit", "/quit", "exit", "quit"})


def banner(llm: Any, earlier_turns: int) -> str:
    model = llm.model or "the server's default model"
    where = None if llm.name == MOCK else base_url_of(llm)  # the mock's port is no news
    lines = [f"Chatting with {model} (provider {llm.name}{f' at {where}' if where else ''})"]
    if earlier_turns:
        lines.append(f"Continuing a conversation of {earlier_turns} earlier turn(s)")
    lines.append(HELP_TEXT)
    return "\n".join(lines)


def _to_terminal(text: str) -> None:
    """Prompt text for the person at the terminal; nothing when nobody is there."""
    if is_tty(sys.stderr):
        sys.stderr.write(text)
        sys.stderr.flush()
    elif is_tty(sys.stdout):
        write(text)


class Session:
    """One interactive conversation (see the module docstring)."""

    def __init__(
        self,
        llm: Any,
        recorder: Recorder,
        *,
        system: str | None,
        show_reasoning: bool,
        options: dict[str, Any],
        messages: list[dict[str, str]] | None = None,
    ) -> None:
        self.llm = llm
        self.recorder = recorder
        self.system = system
        self.show_reasoning = show_reasoning
        self.options = options
        self.history: list[dict[str, str]] = list(messages or [])

    def run(self) -> None:
        if is_tty(sys.stderr):
            turns = sum(m["role"] == "user" for m in self.history)
            notice(banner(self.llm, turns))
        while True:
            _to_terminal(PROMPT)
            try:
                line = input()
            except EOFError:
                _to_terminal("\n")
                return
            except KeyboardInterrupt:
                _to_terminal("\n")
                continue
            text = line.strip()
            if text in EXIT_WORDS:
                return
            if text.startswith("/"):
                self.command(text)
            elif text:
                self.turn(text)

    def command(self, text: str) -> None:
        command, _, arg = text.partition(" ")
        if command == "/reset":
            self.history.clear()
            self.recorder.new_conversation()
            notice("[history cleared]")
        elif command == "/system":
            self.system = arg.strip() or None
            notice(f"[system prompt {'set' if self.system else 'cleared'}]")
        elif command == "/help":
            notice(HELP_TEXT)
        else:
            notice(f"unknown command {command}; {HELP_TEXT}")

    def turn(self, text: str) -> None:
        messages = [*self.history, {"role": "user", "content": text}]
        try:
            answer = _answer.streamed(
                self.llm, messages, self.show_reasoning, system=self.system, **self.options
            )
        except SDKError as exc:
            error_line(describe(unreachable(exc, self.llm) or exc))
            return
        _answer.warn_if_cut(answer, self.options.get("max_tokens"))
        # A stopped answer stays in the history as far as it was shown: the next question may
        # refer to it, and it is what the user saw.
        self.history.append({"role": "user", "content": text})
        if answer.text:
            self.history.append({"role": "assistant", "content": answer.text})
        self.recorder.record(text, self.system, answer)
