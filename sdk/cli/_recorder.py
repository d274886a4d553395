"""Logging a chat into the history, and picking up an earlier conversation (``-c``/``--cid``).

A conversation row is written with its first exchange, so a session that only says ``/exit``
leaves nothing behind. A history that cannot be written never costs the user the answer: it
prints one notice and the chat goes on unlogged.
"""

from __future__ import annotations

from typing import Any

from hookwire.cli._answer import Answer
from hookwire.cli._errors import CLIError
from hookwire.cli._history import Conversation, History, Record
from hookwire.cli._output import notice
from hookwire.cli._redact import public_url


def find_conversation(history: History, continue_last: bool, cid: str | None) -> Conversation:
    """The conversation ``-c`` (the latest) or ``--cid ID`` names; a typed error if none."""
    if cid is not None:
        found = history.conversation(cid)
        if found is None:
            raise CLIError(f"no conversation found with id={cid} (`hookwire logs` lists them)")
        return found
    found = history.latest() if continue_last else None
    if found is None:
        raise CLIError(f"no conversation to continue: the history at {history.path} is empty")
    return found


def earlier_messages(history: History, conversation: Conversation) -> list[dict[str, str]]:
    """The conversation so far as chat messages (user, assistant, user, ...)."""
    messages: list[dict[str, str]] = []
    for entry in history.entries(conversation_id=conversation.id):
        messages.append({"role": "user", "content": entry.prompt})
        if entry.response:
            messages.append({"role": "assistant", "content": entry.response})
    return messages


def last_system(history: History, conversation: Conversation) -> str | None:
    entries = history.entries(conversation_id=conversation.id, limit=1)
    return entries[-1].system if entries else None


class Recorder:
    """Writes each exchange of one command into one conversation (``history=None``: not at all)."""

    def __init__(
        self,
        history: History | None,
        llm: Any,
        options: dict[str, Any],
        conversation: Conversation | None = None,
        base_url: str | None = None,
    ) -> None:
        self.history = history
        self.llm = llm
        self.options = options
        # Only a --base-url the user gave is kept for -c: one from the config or environment
        # comes back by itself, and the bundled mock's is a port that is gone next time.
        self.base_url = public_url(base_url)
        self.conversation_id = conversation.id if conversation is not None else None

    def new_conversation(self) -> None:
        """The next exchange starts a new conversation (after ``/reset``)."""
        self.conversation_id = None

    def record(self, prompt: str, system: str | None, answer: Answer) -> None:
        if self.history is None:
            return
        provider = str(self.llm.name)
        try:
            if self.conversation_id is None:
                self.conversation_id = self.history.start(provider, self.llm.model, self.base_url)
            self.history.record(
                self.conversation_id,
                Record(
                    prompt=prompt, response=answer.text, provider=provider,
                    model=answer.model or self.llm.model, system=system,
                    reasoning=answer.reasoning, finish_reason=answer.finish_reason,
                    options=self.options, duration_ms=answer.duration_ms,
                    input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
                ),
            )  # fmt: skip
        except CLIError as exc:
            notice(f"hookwire: not logged: {exc}")
            self.history = None  # one notice, not one per turn
