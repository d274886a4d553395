"""The local stream's stop-string stage: every way of chunking the text gives the same cut.

Reasoning is split by ``hookwire.reasoning`` (tested in ``tests/sdk/test_reasoning.py``, and against
the engine's token-id split in ``test_local_engine.py``).
"""

from __future__ import annotations

import pytest

from hookwire.plugins.providers._local_text import StopCutter, cut_at_stop


def splits(text):
    """The text whole, char by char, and cut in two at every position."""
    yield [text]
    yield list(text)
    for i in range(1, len(text)):
        yield [text[:i], text[i:]]


def run_cutter(chunks, stops):
    cutter = StopCutter(stops)
    out = "".join(cutter.feed(c) for c in chunks) + cutter.flush()
    return out, cutter.matched


@pytest.mark.parametrize(
    ("text", "stops", "expected", "matched"),
    [
        ("hello STOP world", ["STOP"], "hello ", "STOP"),
        ("hello world", ["STOP"], "hello world", None),
        ("a\nb", ["\n", "b"], "a", "\n"),
        ("abcd", ["cd", "bc"], "a", "bc"),
        ("你好世界", ["世"], "你好", "世"),
        ("ST", ["STOP"], "ST", None),
        ("text", None, "text", None),
    ],
)
def test_cutter_matches_one_shot_cut_for_every_chunking(text, stops, expected, matched):
    assert cut_at_stop(text, stops) == (expected, matched)
    for chunks in splits(text):
        assert run_cutter(chunks, stops) == (expected, matched), chunks


def test_cutter_emits_nothing_after_a_match():
    cutter = StopCutter(["##"])
    assert cutter.feed("a#") == "a"
    assert cutter.feed("#b") == ""
    assert cutter.feed("more") == ""
    assert cutter.flush() == ""
