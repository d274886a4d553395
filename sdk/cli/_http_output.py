"""What ``hookwire http`` prints, chosen as httpie chooses it (``--print``, ``--pretty``).

| ``--print`` letter | part                                                          |
|--------------------|---------------------------------------------------------------|
| ``H``              | request line and every header sent (see :mod:`._wire`)        |
| ``B``              | request body                                                  |
| ``h``              | status line and response headers                              |
| ``b``              | response body                                                 |
| ``m``              | elapsed time                                                  |

Defaults as in httpie: ``hb`` on a terminal, ``b`` when stdout is redirected; ``-v`` is
``HBhb`` plus every intermediate exchange (redirects), ``-vv`` adds ``m``. ``--pretty``:
``all`` (the terminal default) = ``format`` + ``colors``; ``none`` (the redirected default)
prints bodies byte for byte. ``format`` sorts headers by name and indents JSON by 4 with
sorted keys; ``colors`` highlights with pygments. ``NO_COLOR`` turns off the default colours,
not an explicit ``--pretty``. Secrets in headers and query strings are always redacted
(:mod:`._redact`). Parts are separated by one blank line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from typing import IO, Any

from hookwire.cli import _redact
from hookwire.cli._errors import CLIError
from hookwire.cli._output import is_tty
from hookwire.cli._wire import sent_headers

LETTERS = "HBhbm"
PRETTY = ("all", "colors", "format", "none")
BINARY_NOTE = (
    "+-----------------------------------------+\n"
    "| NOTE: binary data not shown in terminal |\n"
    "+-----------------------------------------+"
)


@dataclass(frozen=True)
class Output:
    parts: str
    format: bool = False
    colors: bool = False
    all: bool = False  # also the intermediate exchanges (redirects)


def choose(
    letters: str | None, verbose: int, pretty: str | None, *, all_exchanges: bool = False,
    body_only: bool = False, headers_only: bool = False, terminal: bool | None = None,
) -> Output:
    """The output settings for the flags (see the module table for the precedence)."""
    tty = is_tty(sys.stdout) if terminal is None else terminal
    if letters is not None:
        bad = sorted(set(letters) - set(LETTERS))
        if bad or not letters:
            raise CLIError(f"--print takes letters from {LETTERS}, not {letters!r}", exit_code=2)
        parts = letters
    elif verbose:
        parts = "HBhbm" if verbose > 1 else "HBhb"
    elif headers_only or body_only:
        parts = ("h" if headers_only else "") + ("b" if body_only else "")
    else:
        parts = "hb" if tty else "b"
    if pretty is None:
        pretty = "all" if tty else "none"
        colors = pretty == "all" and not os.environ.get("NO_COLOR")
    else:
        colors = pretty in ("all", "colors")
    return Output(parts, pretty in ("all", "format"), colors, all_exchanges or verbose > 0)


def _mime(headers: Any) -> str:
    return str(headers.get("content-type") or "").split(";")[0].strip().lower()


def _charset(headers: Any) -> str:
    for param in str(headers.get("content-type") or "").split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


class Printer:
    """Writes the chosen parts of each exchange to ``stream`` (stdout by default)."""

    def __init__(self, output: Output, stream: IO[str] | None = None) -> None:
        self.output = output
        self.stream = stream if stream is not None else sys.stdout
        self.terminal = is_tty(self.stream)
        self._blocks = 0
        self._line_open = False  # the last block was raw bytes without a final newline

    # -- writing -------------------------------------------------------------------------
    def _raw(self, data: bytes) -> None:
        buffer = getattr(self.stream, "buffer", None)
        if buffer is None:  # a text-only stream: as text, nothing lost for UTF-8
            self.stream.write(data.decode("utf-8", "replace"))
            return
        self.stream.flush()
        buffer.write(data)
        buffer.flush()

    def _block(self, data: str | bytes) -> None:
        if self._blocks:
            self._raw(b"\n\n" if self._line_open else b"\n")
        if isinstance(data, str):
            if not data.endswith("\n"):
                data += "\n"
            encoding = getattr(self.stream, "encoding", None) or "utf-8"
            self._raw(data.encode(encoding, "replace"))
            self._line_open = False
        else:
            self._raw(data)
            self._line_open = not data.endswith(b"\n")
        self._blocks += 1

    def finish(self) -> None:
        if self._line_open and self.terminal:
            self._raw(b"\n")
        self.stream.flush()

    # -- colouring and formatting ----------------------------------------------------------
    def _highlight(self, text: str, mime: str) -> str:
        if not self.output.colors:
            return text
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import HttpLexer, JsonLexer, get_lexer_for_mimetype
        from pygments.util import ClassNotFound

        if mime == "http":
            lexer: Any = HttpLexer()
        elif "json" in mime:
            lexer = JsonLexer()
        else:
            try:
                lexer = get_lexer_for_mimetype(mime)
            except ClassNotFound:
                return text
        return str(highlight(text, lexer, TerminalFormatter()))

    def _head(self, first_line: str, pairs: list[tuple[str, str]]) -> None:
        shown = _redact.headers(pairs)
        if self.output.format:
            shown = sorted(shown, key=lambda pair: pair[0].lower())
        text = "\n".join([first_line, *(f"{name}: {value}" for name, value in shown)])
        self._block(self._highlight(text, "http"))

    def _body(self, content: bytes, headers: Any, *, last: bool) -> None:
        if not content:
            return
        mime = _mime(headers)
        try:
            text = content.decode(_charset(headers))
        except (LookupError, UnicodeDecodeError):
            text = None
        if text is None or "\x00" in text:
            # Bytes as they came when redirected (`> file.png` works); a note on a terminal.
            self._block(BINARY_NOTE if self.terminal or not last else content)
            return
        if not (self.output.format or self.output.colors):
            self._block(content)
            return
        if self.output.format and "json" in mime:
            with contextlib.suppress(ValueError):  # not JSON after all: shown as it came
                text = json.dumps(json.loads(text), indent=4, sort_keys=True, ensure_ascii=False)
        self._block(self._highlight(text, mime))

    # -- the parts -----------------------------------------------------------------------
    def request(self, request: Any, http_version: str) -> None:
        parts = self.output.parts
        if "H" in parts:
            # Our transports send HTTP/1.1; the response's version tells when HTTP/2 was used.
            version = http_version if http_version.startswith("HTTP/2") else "HTTP/1.1"
            line = f"{request.method} {_redact.target(str(request.url))} {version}"
            self._head(line, sent_headers(request))
        if "B" in parts:
            content = request.content
            if content is None and request.stream is not None:
                self._block("[streamed body not shown]")
            else:
                self._body(content or b"", request.headers, last=False)

    def response(self, response: Any, *, last: bool) -> None:
        parts = self.output.parts
        if "h" in parts:
            status = f"{response.http_version} {response.status_code} {response.reason_phrase}"
            self._head(status.rstrip(), list(response.headers.multi_items()))
        if "b" in parts:
            self._body(response.content, response.headers, last=last)
        if "m" in parts:
            self._block(f"Elapsed time: {response.elapsed.total_seconds():.6f}s")

    def exchanges(self, response: Any) -> None:
        """The final exchange, after the redirects before it when ``all``."""
        chain = [*response.history, response] if self.output.all else [response]
        for i, step in enumerate(chain):
            self.request(step.request, step.http_version)
            self.response(step, last=i == len(chain) - 1)
        self.finish()
