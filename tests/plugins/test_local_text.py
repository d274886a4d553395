"""The local stream's pure text stages: every way of chunking the text gives the same split."""

from __future__ import annotations

import pytest

from plugins.providers._local_text import StopCutter, ThinkSplitter, cut_at_stop


def run_splitter(chunks, *, reasoning_open):
    splitter = ThinkSplitter(reasoning_open=reasoning_open)
    deltas = []
    for chunk in chunks:
        deltas.extend(splitter.feed(chunk))
    deltas.extend(splitter.flush())
    assert all(text for _, text in deltas), "empty deltas must not be emitted"
    reasoning = "".join(t for k, t in deltas if k == "reasoning")
    content = "".join(t for k, t in deltas if k == "content")
    return reasoning, content


def splits(text):
    """The text whole, char by char, and cut in two at every position."""
    yield [text]
    yield list(text)
    for i in range(1, len(text)):
        yield [text[:i], text[i:]]


CASES = [
    # (text, reasoning_open, expected reasoning, expected content)
    ("hmm</think>你好", True, "hmm", "你好"),
    (
        "\nlet me think\n\n</think>\n\nThe answer\n\nis 4\n",
        True,
        "let me think",
        "The answer\n\nis 4",
    ),
    ("still thinking\n", True, "still thinking", ""),
    ("a</thin", True, "a</thin", ""),
    ("plain answer", False, "", "plain answer"),
    ("<think>\nr\n</think>\n\nc", False, "r", "c"),
    ("\n<think>r</think>c", False, "r", "c"),
    ("<think>never closed", False, "never closed", ""),
    ("<thi", False, "", "<thi"),
    ("x</think>y", False, "", "x</think>y"),
    ("r</think>c</think>d", True, "r", "c</think>d"),
    ("\n\n", True, "", ""),
]


@pytest.mark.parametrize(("text", "reasoning_open", "reasoning", "content"), CASES)
def test_splitter_gives_one_answer_for_every_chunking(text, reasoning_open, reasoning, content):
    for chunks in splits(text):
        assert run_splitter(chunks, reasoning_open=reasoning_open) == (reasoning, content), chunks


def test_splitter_holds_back_a_partial_close_tag_then_releases_it():
    splitter = ThinkSplitter(reasoning_open=True)
    assert splitter.feed("abc</th") == [("reasoning", "abc")]
    assert splitter.feed("ought") == [("reasoning", "</thought")]


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
