"""Pure text stages of a local stream: split reasoning from content, cut at stop strings.

Both are feed-and-flush decoders (the shape of httpx's ``LineDecoder``): ``feed(text)`` returns what
can be emitted now, ``flush()`` what is left at the end. They do no I/O and know nothing about
torch, so they are unit-tested on every way a delta can be split.

They reproduce, chunk by chunk, what the engine computes from token ids for a non-streamed call:

- reasoning ends at the first ``</think>``; a completion that opens with ``<think>`` (Qwen3's
  hybrid models) starts in reasoning even when the prompt did not;
- the conventional newlines around each part are stripped (``"\\n</think>\\n\\n"``), so a
  stream's joined deltas equal the non-streamed ``reasoning`` and ``content``;
- content is cut just before the first stop string; nothing after it is ever emitted.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["Delta", "DeltaKind", "ReasoningSplit", "StopCutter", "ThinkSplitter"]

DeltaKind = Literal["reasoning", "content"]
Delta = tuple[DeltaKind, str]

THINK_START = "<think>"
THINK_END = "</think>"


class ReasoningSplit(Protocol):
    """What the stream needs from a splitter; any feed/flush object with this shape will do."""

    def feed(self, text: str) -> list[Delta]: ...

    def flush(self) -> list[Delta]: ...


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``marker``."""
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Split streamed text into reasoning and content deltas at ``</think>``.

    ``reasoning_open=True`` when the prompt ended inside ``<think>`` (the Thinking-2507 layout):
    everything up to ``</think>`` is reasoning, and with no ``</think>`` at all, all of it is
    unfinished reasoning. Otherwise a leading ``<think>`` opens reasoning, and anything else is
    content from the first character.
    """

    def __init__(self, *, reasoning_open: bool) -> None:
        self._mode: Literal["detect", "reasoning", "content"] = (
            "reasoning" if reasoning_open else "detect"
        )
        self._buf = ""
        self._started = {"reasoning": False, "content": False}

    def feed(self, text: str) -> list[Delta]:
        self._buf += text
        out: list[Delta] = []
        while True:
            if self._mode == "detect" and not self._detect():
                return out
            if self._mode == "reasoning":
                index = self._buf.find(THINK_END)
                if index < 0:
                    keep = _partial_suffix(self._buf, THINK_END)
                    self._emit(out, "reasoning", self._release(keep))
                    return out
                self._emit(out, "reasoning", self._buf[:index].rstrip("\n"))
                self._buf = self._buf[index + len(THINK_END) :]
                self._mode = "content"
            if self._mode == "content":
                self._emit(out, "content", self._release(0))
                return out

    def flush(self) -> list[Delta]:
        out: list[Delta] = []
        kind: DeltaKind = "reasoning" if self._mode == "reasoning" else "content"
        self._emit(out, kind, self._buf.rstrip("\n"))
        self._buf = ""
        return out

    def _detect(self) -> bool:
        """Decide between reasoning and content; False while the text could still be ``<think>``."""
        head = self._buf.lstrip("\n")
        if THINK_START.startswith(head):
            return False
        if head.startswith(THINK_START):
            self._buf = head[len(THINK_START) :]
            self._mode = "reasoning"
        else:
            self._mode = "content"
        return True

    def _release(self, keep: int) -> str:
        """Take what can be emitted, holding ``keep`` marker characters and trailing newlines."""
        body, tail = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep :]
        ready = body.rstrip("\n")
        self._buf = body[len(ready) :] + tail
        return ready

    def _emit(self, out: list[Delta], kind: DeltaKind, text: str) -> None:
        if not self._started[kind]:
            text = text.lstrip("\n")
            self._started[kind] = bool(text)
        if text:
            out.append((kind, text))


class StopCutter:
    """Pass content through until a stop string; hold back what might be the start of one."""

    def __init__(self, stops: list[str] | tuple[str, ...] | None) -> None:
        self._stops = tuple(s for s in (stops or ()) if s)
        self._buf = ""
        self.matched: str | None = None

    def feed(self, text: str) -> str:
        if self.matched is not None:
            return ""
        if not self._stops:
            return text
        self._buf += text
        hits = [(self._buf.find(s), s) for s in self._stops if s in self._buf]
        if hits:
            index, self.matched = min(hits)
            ready, self._buf = self._buf[:index], ""
            return ready
        keep = max(_partial_suffix(self._buf, s) for s in self._stops)
        ready, self._buf = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep :]
        return ready

    def flush(self) -> str:
        ready, self._buf = ("" if self.matched is not None else self._buf), ""
        return ready


def cut_at_stop(text: str, stops: list[str] | tuple[str, ...] | None) -> tuple[str, str | None]:
    """``text`` up to the earliest stop string, and the stop that matched (or None)."""
    hits = [(text.find(s), s) for s in (stops or ()) if s and s in text]
    if not hits:
        return text, None
    index, stop = min(hits)
    return text[:index], stop
