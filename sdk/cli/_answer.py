"""Printing one answer, streamed or whole: the answer on stdout, reasoning dimmed on stderr.

Reasoning ("thinking") goes to stderr so it is visible in a terminal yet never mixed into a
captured answer. Ctrl-C during a stream closes it (its connection is released) and keeps what
was shown. A reply the server cut at the token limit (finish_reason ``"length"``) gets a notice
on stderr, so a truncated answer is never mistaken for a whole one.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from hookwire.cli._output import err, notice, out, write

LENGTH = "length"
STOPPED = "interrupted"  # the finish reason logged for an answer stopped with Ctrl-C


@dataclass(frozen=True)
class Answer:
    """What the user saw of one reply, and what to log about it."""

    text: str
    reasoning: str | None
    finish_reason: str | None
    model: str | None
    duration_ms: int
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def completed(self) -> bool:
        return self.finish_reason != STOPPED


def _answer(
    result: Any, started: float, text: str | None = None, finish: str | None = None
) -> Answer:
    usage = getattr(result, "usage", None)
    return Answer(
        text=result.content if text is None else text,
        reasoning=result.reasoning or None,
        finish_reason=finish or result.finish_reason,
        model=result.model or None,
        duration_ms=int((time.monotonic() - started) * 1000),
        input_tokens=getattr(usage, "prompt_tokens", None),
        output_tokens=getattr(usage, "completion_tokens", None),
    )


def whole(llm: Any, prompt: Any, show_reasoning: bool, **kwargs: Any) -> Answer:
    """Wait for the whole reply, then print it."""
    started = time.monotonic()
    result = llm.chat(prompt, **kwargs)
    if show_reasoning and result.reasoning:
        err.print(result.reasoning.strip("\n"), style="dim", markup=False, highlight=False)
    out.print(result.content, markup=False, highlight=False)
    return _answer(result, started)


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
            try:
                write(delta.content)
            finally:
                # Ctrl-C most often lands while write() blocks on the terminal, after the text
                # reached it: the history keeps what the user saw, that piece included.
                self.content.append(delta.content)

    def finish(self) -> None:
        if self.in_reasoning:
            write("\n", stderr=True)
        write("\n")


def streamed(llm: Any, prompt: Any, show_reasoning: bool, **kwargs: Any) -> Answer:
    """Stream one reply; Ctrl-C closes the stream and returns what was shown (``STOPPED``)."""
    started = time.monotonic()
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
        return _answer(stream.partial, started, "".join(printer.content), STOPPED)
    finally:
        stream.close()
    printer.finish()
    return _answer(stream.partial, started, "".join(printer.content))


def warn_if_cut(answer: Answer, max_tokens: int | None) -> None:
    """The stderr notice for a reply that stopped at the token limit."""
    if answer.finish_reason != LENGTH:
        return
    limit = f"--max-tokens {max_tokens}" if max_tokens is not None else "the model's token limit"
    notice(
        f"hookwire: the answer was cut off at {limit} (finish_reason \"length\"); "
        "raise --max-tokens for a longer one"
    )
