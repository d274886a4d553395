"""Split a model's raw text into reasoning and content at inline ``<think>...</think>`` tags.

Local models (Qwen3, DeepSeek-R1 distills) write their reasoning inline; servers such as vLLM
split it out into a ``reasoning`` field. :class:`ReasoningSplitter` does the same on a stream,
chunk by chunk, so a tag cut in two by the tokenizer (``"<thi"`` + ``"nk>"``) is still found;
:func:`split_reasoning` is the one-shot form. Both follow the same rules, which match vLLM's
``qwen3`` reasoning parser where it has one:

* ``<think>r</think>c`` gives reasoning ``r``, content ``c``;
* ``a<think>r</think>c`` gives ``r`` and ``ac`` (vLLM drops ``a``; we keep it);
* ``<think>r`` that never closes is unfinished reasoning: ``r`` and ``""``;
* no ``<think>`` at all: ``""`` and everything;
* with ``started_in_reasoning=True`` (Thinking-2507 templates put ``<think>`` in the prompt, so
  the output holds only ``</think>``): ``r</think>c`` gives ``r`` and ``c``, and ``r`` alone
  is unfinished reasoning; a ``<think>`` the model writes anyway at the very start (after
  newlines only) is dropped, as vLLM's parser drops it;
* with ``thinking=False``: ``""`` and everything, tags included, verbatim.

Only the first reasoning block counts: after ``</think>`` every tag is ordinary content, as in
vLLM. A ``</think>`` without ``started_in_reasoning`` (and no ``<think>`` before it) is content
too: a stream cannot take back text it already emitted as content, so the caller must say when
the chat template opened the block.

Newlines: Qwen3 writes ``<think>\\nreasoning\\n</think>\\n\\nanswer``. With
``strip_newlines=True`` (the default) the reasoning loses its leading and trailing newlines and
the content after ``</think>`` loses its leading ones, so neither field starts with a stray
``\\n`` (a common complaint about vLLM's output). Other whitespace, and newlines anywhere else,
are kept: content keeps its trailing newlines, and text before ``<think>`` is kept verbatim.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["ReasoningSplitter", "Segment", "SegmentKind", "assemble_split", "split_reasoning"]

SegmentKind = Literal["reasoning", "content"]
_State = Literal["before", "reasoning", "after"]


class Segment(NamedTuple):
    """A run of text of one kind; a plain ``(kind, text)`` tuple to callers that unpack it."""

    kind: SegmentKind
    text: str


def _partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ReasoningSplitter:
    """Streaming splitter: ``feed(text)`` returns the segments it can already decide.

    Text that might be the start of a tag is held back until the next chunk (or ``flush``)
    settles it, so the concatenation of every segment of one kind is exactly what
    :func:`split_reasoning` returns for the whole text, however the text was chunked.
    """

    def __init__(
        self,
        *,
        started_in_reasoning: bool = False,
        thinking: bool = True,
        strip_newlines: bool = True,
        open_tag: str = "<think>",
        close_tag: str = "</think>",
    ) -> None:
        if not open_tag or not close_tag:
            raise ValueError("open_tag and close_tag must be non-empty")
        self.open_tag = open_tag
        self.close_tag = close_tag
        self.strip_newlines = strip_newlines
        self._state: _State
        if not thinking:
            self._state = "after"
        elif started_in_reasoning:
            self._state = "reasoning"
        else:
            self._state = "before"
        self._lstrip = strip_newlines and self._state == "reasoning"
        #: started in reasoning and nothing seen yet: a leading open tag is still to be dropped
        self._leading_open = self._state == "reasoning"
        self._buffer = ""  # undecided text: a possible partial tag
        self._held = ""  # trailing newlines of reasoning, dropped if </think> follows

    @property
    def in_reasoning(self) -> bool:
        """True while the text being fed is reasoning."""
        return self._state == "reasoning"

    @property
    def reasoning_done(self) -> bool:
        """True once ``</think>`` was seen (or thinking is off): the rest is content."""
        return self._state == "after"

    def feed(self, text: str) -> list[Segment]:
        self._buffer += text
        out: list[Segment] = []
        self._drain(out, final=False)
        return out

    def flush(self) -> list[Segment]:
        """End of output: release held text. Unclosed reasoning stays reasoning."""
        out: list[Segment] = []
        self._drain(out, final=True)
        self._held = ""  # trailing newlines of unfinished reasoning are stripped too
        return out

    # -- internals --------------------------------------------------------------------------
    def _drop_leading_open(self, final: bool) -> bool:
        """In a block the prompt opened, drop a ``<think>`` the output starts with anyway.
        False while the buffer could still become that tag (wait for more text)."""
        text = self._buffer.lstrip("\n")
        if not final and self.open_tag.startswith(text):
            return False  # "\n" or "\n<thi": maybe the tag, maybe not; the next chunk decides
        if text.startswith(self.open_tag):
            self._buffer = text[len(self.open_tag) :]  # the tag and the newlines before it
        self._leading_open = False
        return True

    def _drain(self, out: list[Segment], *, final: bool) -> None:
        if self._leading_open and not self._drop_leading_open(final):
            return
        while True:
            if self._state == "after":
                self._emit(out, "content", self._buffer)
                self._buffer = ""
                return
            tag = self.open_tag if self._state == "before" else self.close_tag
            index = self._buffer.find(tag)
            if index < 0:
                keep = 0 if final else _partial_tag_length(self._buffer, tag)
                cut = len(self._buffer) - keep
                kind: SegmentKind = "content" if self._state == "before" else "reasoning"
                self._emit(out, kind, self._buffer[:cut])
                self._buffer = self._buffer[cut:]
                return
            head, self._buffer = self._buffer[:index], self._buffer[index + len(tag) :]
            if self._state == "before":
                self._emit(out, "content", head)
                self._state = "reasoning"
            else:
                self._emit(out, "reasoning", head)
                self._held = ""
                self._state = "after"
            self._lstrip = self.strip_newlines

    def _emit(self, out: list[Segment], kind: SegmentKind, text: str) -> None:
        if self._lstrip and self._state != "before":
            text = text.lstrip("\n")
            if text:
                self._lstrip = False
        if kind == "reasoning" and self.strip_newlines:
            text = self._held + text
            body = text.rstrip("\n")
            self._held = text[len(body) :]
            text = body
        if not text:
            return
        if out and out[-1].kind == kind:
            out[-1] = Segment(kind, out[-1].text + text)
        else:
            out.append(Segment(kind, text))


def assemble_split(
    prefix: str, reasoning: str, rest: str, *, strip_newlines: bool = True
) -> tuple[str, str]:
    """``(reasoning, content)`` from an output already cut at its tags, by the newline rule above.

    ``prefix`` is the text before ``<think>``, ``reasoning`` the text between the tags, ``rest``
    the text after ``</think>`` (``""`` when the block never closed). It is the last step of
    :func:`split_reasoning`, public for callers that find the tags another way: the local
    transformers engine cuts at the ``</think>`` *token id*, which ordinary text cannot fake, and
    must still give what :class:`ReasoningSplitter` streams for the same output.
    """
    if strip_newlines:
        reasoning, rest = reasoning.strip("\n"), rest.lstrip("\n")
    return reasoning, prefix + rest


def split_reasoning(
    text: str,
    *,
    started_in_reasoning: bool = False,
    thinking: bool = True,
    strip_newlines: bool = True,
    open_tag: str = "<think>",
    close_tag: str = "</think>",
) -> tuple[str, str]:
    """``(reasoning, content)`` of a complete output, by the rules in the module docstring."""
    if not thinking:
        return "", text
    prefix = ""
    if not started_in_reasoning:
        prefix, opened, text = text.partition(open_tag)
        if not opened:
            return "", prefix
    elif text.lstrip("\n").startswith(open_tag):
        text = text.lstrip("\n")[len(open_tag) :]
    reasoning, _, rest = text.partition(close_tag)
    return assemble_split(prefix, reasoning, rest, strip_newlines=strip_newlines)
