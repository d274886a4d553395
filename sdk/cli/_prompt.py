"""Where ``hookwire chat`` gets its prompt: the argument, piped stdin, or both (llm's rule).

| stdin            | PROMPT     | the prompt sent                                   |
|------------------|------------|---------------------------------------------------|
| a terminal       | given      | PROMPT                                            |
| a terminal       | none       | none: an interactive session                      |
| piped, with text | none       | the piped text                                    |
| piped, with text | given      | piped text + " " + PROMPT (stdin first, as llm)   |
| piped, empty     | given/none | PROMPT / none (an error: nothing to send)         |
| anything         | ``-``      | all of stdin, read to the end even on a terminal  |

Piped text that is only whitespace counts as empty, so ``hookwire chat "x" < /dev/null`` and a
stray newline do not change the prompt.
"""

from __future__ import annotations

import sys

from hookwire.cli._errors import CLIError
from hookwire.cli._output import is_tty

STDIN = "-"


def join_prompt(stdin_text: str, prompt: str | None) -> str | None:
    """Combine piped text and the argument as llm does (pure; see the module table)."""
    if not stdin_text.strip():
        return prompt
    return stdin_text if prompt is None else f"{stdin_text} {prompt}"


def read_stdin() -> str:
    """All of stdin as text; a typed error when it is not text in the stream's encoding."""
    stream = sys.stdin
    if stream is None:  # started with stdin closed
        return ""
    try:
        return stream.read()
    except UnicodeDecodeError as exc:
        encoding = getattr(stream, "encoding", None) or "the locale's encoding"
        raise CLIError(
            f"stdin is not {encoding} text (byte {exc.start}): pipe text, or set "
            "PYTHONIOENCODING to its encoding"
        ) from None


def stdin_is_terminal() -> bool:
    return is_tty(sys.stdin)


def prompt_from_args(prompt: str | None) -> str | None:
    """The prompt to send, or None for an interactive session (stdin then is a terminal)."""
    if prompt == STDIN:
        text = read_stdin()
        return text if text.strip() else None
    if stdin_is_terminal():
        return prompt
    return join_prompt(read_stdin(), prompt)
