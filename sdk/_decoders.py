"""Incremental text decoders shared by sync and async response iteration."""

from __future__ import annotations


class LineDecoder:
    """Split text fed in arbitrary pieces into lines (``\\n``, ``\\r\\n`` or ``\\r``).

    A ``\\r`` at the end of one piece is held back until the next shows whether a ``\\n``
    follows, so a CRLF split across chunks yields one line break, not two.
    """

    __slots__ = ("_buffer", "_trailing_cr")

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._trailing_cr = False

    def feed(self, text: str) -> list[str]:
        if self._trailing_cr:
            text = "\r" + text
            self._trailing_cr = False
        if text.endswith("\r"):
            self._trailing_cr = True
            text = text[:-1]
        if not text:
            return []
        lines = text.splitlines(keepends=True)
        ended = lines[-1].endswith(("\n", "\r"))
        tail = "" if ended else lines.pop()
        out: list[str] = []
        for line in lines:
            if self._buffer:
                line = "".join(self._buffer) + line
                self._buffer = []
            out.append(line.rstrip("\r\n"))
        if tail:
            self._buffer.append(tail)
        return out

    def flush(self) -> list[str]:
        pending = "".join(self._buffer)
        self._buffer = []
        if self._trailing_cr:
            self._trailing_cr = False
            return [pending]
        return [pending] if pending else []
