"""Cut a local model's content at the caller's stop strings: streamed, and in one shot.

``StopCutter`` is a feed-and-flush decoder (the shape of httpx's ``LineDecoder``): ``feed(text)``
returns what can be emitted now, holding back what might be the start of a stop string, and
``flush()`` what is left at the end. ``cut_at_stop`` is the one-shot form the engine applies to a
non-streamed result, so a stream's joined content equals it however the text was chunked.
Content is cut just before the first stop string; nothing after it is ever emitted.

Reasoning is split from content before this stage, by the SDK's one splitter
(``hookwire.reasoning``); stop strings apply to content only.
"""

from __future__ import annotations

__all__ = ["StopCutter", "cut_at_stop"]


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``marker``."""
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


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
