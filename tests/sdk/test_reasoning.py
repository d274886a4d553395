"""ReasoningSplitter: streamed splitting must equal the one-shot split for any chunking."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.reasoning import ReasoningSplitter, Segment, assemble_split, split_reasoning


def stream(chunks: list[str], **options: bool) -> tuple[str, str, list[Segment]]:
    splitter = ReasoningSplitter(**options)
    segments: list[Segment] = []
    for chunk in chunks:
        segments.extend(splitter.feed(chunk))
    segments.extend(splitter.flush())
    reasoning = "".join(s.text for s in segments if s.kind == "reasoning")
    content = "".join(s.text for s in segments if s.kind == "content")
    return reasoning, content, segments


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("<think>\nhmm\n</think>\n\nHello", {}, ("hmm", "Hello")),
        ("<think>a\n\nb</think>x\ny\n", {}, ("a\n\nb", "x\ny\n")),
        ("pre <think>r</think>post", {}, ("r", "pre post")),
        ("<think>\nstill thinking\n", {}, ("still thinking", "")),
        ("no tags at all", {}, ("", "no tags at all")),
        ("</think>stray", {}, ("", "</think>stray")),
        ("<think>a</think>b<think>c</think>", {}, ("a", "b<think>c</think>")),
        ("r\n</think>\n\nanswer", {"started_in_reasoning": True}, ("r", "answer")),
        ("unfinished", {"started_in_reasoning": True}, ("unfinished", "")),
        ("<think>r</think>c", {"thinking": False}, ("", "<think>r</think>c")),
        ("<think>\nr\n</think>\n\nc", {"strip_newlines": False}, ("\nr\n", "\n\nc")),
        ("<think>\n\n</think>\n\nc", {}, ("", "c")),  # Qwen3's empty thinking block
    ],
)
def test_one_shot_and_streamed_rules(
    text: str, options: dict[str, bool], expected: tuple[str, str]
) -> None:
    assert split_reasoning(text, **options) == expected
    reasoning, content, _ = stream([text], **options)
    assert (reasoning, content) == expected


def test_tags_split_across_chunks() -> None:
    chunks = ["<thi", "nk>\nstep one", "\n</th", "ink>", "\n\nThe answer"]
    reasoning, content, segments = stream(chunks)
    assert (reasoning, content) == ("step one", "The answer")
    assert [s.kind for s in segments] == ["reasoning", "content"]


def test_a_partial_tag_that_is_not_a_tag_is_released() -> None:
    splitter = ReasoningSplitter(started_in_reasoning=True)
    assert splitter.feed("a </thi") == [Segment("reasoning", "a ")]
    assert splitter.feed("s is fine") == [Segment("reasoning", "</this is fine")]
    assert splitter.flush() == []
    assert ReasoningSplitter().feed("x <thi") == [Segment("content", "x ")]


def test_held_text_is_released_by_flush() -> None:
    splitter = ReasoningSplitter()
    assert splitter.feed("<") == []
    assert splitter.flush() == [Segment("content", "<")]


def test_state_properties_follow_the_stream() -> None:
    splitter = ReasoningSplitter()
    assert not splitter.in_reasoning and not splitter.reasoning_done
    splitter.feed("<think>x")
    assert splitter.in_reasoning
    splitter.feed("</think>")
    assert splitter.reasoning_done and not splitter.in_reasoning
    assert ReasoningSplitter(thinking=False).reasoning_done


def test_segments_are_tuples_and_merged_within_a_feed() -> None:
    segments = ReasoningSplitter().feed("<think>a</think>b")
    assert segments == [("reasoning", "a"), ("content", "b")]
    kind, text = segments[0]
    assert (kind, text) == ("reasoning", "a")


def test_empty_tags_are_rejected() -> None:
    with pytest.raises(ValueError, match="tag"):
        ReasoningSplitter(open_tag="")


def test_assemble_split_applies_the_newline_rule_to_parts_cut_elsewhere() -> None:
    # The local engine cuts at token ids and hands over the three parts.
    assert assemble_split("pre\n", "\nr\n\n", "\n\nc\n") == ("r", "pre\nc\n")
    assert assemble_split("", "\nr\n", "\nc\n", strip_newlines=False) == ("\nr\n", "\nc\n")
    assert assemble_split("all content\n", "", "") == ("", "all content\n")


# -- properties -------------------------------------------------------------------------------

PIECES = st.sampled_from(
    ["<think>", "</think>", "<", "</", "<th", "think", ">", "\n", "\n\n", " ", "a", "é", "<t"]
)
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=25).map("".join)
OPTIONS = st.fixed_dictionaries(
    {
        "started_in_reasoning": st.booleans(),
        "thinking": st.booleans(),
        "strip_newlines": st.booleans(),
    }
)


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in itertools.pairwise([0, *points, len(text)])]


@settings(max_examples=500, deadline=None)
@given(text=TEXTS, cuts=st.lists(st.integers(0, 10_000), max_size=10), options=OPTIONS)
def test_any_chunking_equals_the_one_shot_split(
    text: str, cuts: list[int], options: dict[str, bool]
) -> None:
    expected = split_reasoning(text, **options)
    reasoning, content, segments = stream(chunked(text, cuts), **options)
    assert (reasoning, content) == expected
    assert all(segment.text for segment in segments)  # never an empty segment
    # character by character too: the worst case for tags cut in pieces
    assert stream(list(text), **options)[:2] == expected


@settings(max_examples=200, deadline=None)
@given(text=TEXTS)
def test_without_stripping_only_the_two_tags_are_removed(text: str) -> None:
    reasoning, content = split_reasoning(text, strip_newlines=False)
    prefix, opened, rest = text.partition("<think>")
    if not opened:
        assert (reasoning, content) == ("", text)
        return
    removed = len("<think>") + (len("</think>") if "</think>" in rest else 0)
    assert len(reasoning) + len(content) == len(text) - removed
    assert content.startswith(prefix) and reasoning == rest.split("</think>")[0]


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, strip=st.booleans())
def test_assemble_split_of_the_partition_is_split_reasoning(text: str, strip: bool) -> None:
    prefix, opened, rest = text.partition("<think>")
    reasoning, _, after = rest.partition("</think>")
    parts = (prefix, reasoning, after) if opened else (text, "", "")
    assert assemble_split(*parts, strip_newlines=strip) == split_reasoning(
        text, strip_newlines=strip
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plan</think>Hi", ("plan", "Hi")),
        ("<think>plan</think>Hi", ("plan", "Hi")),  # a tag the model writes anyway is dropped
        ("\n<think>\nplan\n</think>\n\nHi", ("plan", "Hi")),
        ("x<think>plan</think>Hi", ("x<think>plan", "Hi")),  # only at the very start
        ("<thinker>plan</think>Hi", ("<thinker>plan", "Hi")),
        ("plan, never closed", ("plan, never closed", "")),
    ],
)
def test_started_in_reasoning_drops_a_leading_open_tag_however_chunked(text, expected) -> None:
    assert split_reasoning(text, started_in_reasoning=True) == expected
    for size in range(1, len(text) + 1):
        splitter = ReasoningSplitter(started_in_reasoning=True)
        segments = [s for i in range(0, len(text), size) for s in splitter.feed(text[i : i + size])]
        segments += splitter.flush()
        got = tuple(
            "".join(t for k, t in segments if k == kind) for kind in ("reasoning", "content")
        )
        assert got == expected, size


@pytest.mark.parametrize("text", ["\n<think>", "\n\n<think>r</think>c", "\nr</think>c", "\n<thi"])
def test_leading_newlines_before_a_dropped_open_tag_match_the_one_shot_split(text) -> None:
    # found by the property test: the stream emitted the newline before it saw the tag
    options = {"started_in_reasoning": True, "strip_newlines": False}
    splitter = ReasoningSplitter(**options)
    segments = [s for ch in text for s in splitter.feed(ch)] + splitter.flush()
    got = tuple("".join(t for k, t in segments if k == kind) for kind in ("reasoning", "content"))
    assert got == split_reasoning(text, **options)
