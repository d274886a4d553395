"""Reasoning is split whatever the server does (issue 10, class 6): asked to think, a
Thinking-2507 model behind a server with no reasoning parser sends ``plan</think>answer`` in
``content``; the text before the first ``</think>`` is reasoning, in chat and in stream alike,
on every transport.
"""

from __future__ import annotations

import pytest

from tests.reliability.test_stream_faults import face as face
from tests.reliability.test_stream_faults import run

pytestmark = pytest.mark.network


@pytest.mark.parametrize("chat", [True, False], ids=["chat", "stream"])
def test_a_close_tag_alone_ends_the_reasoning_the_template_opened(face, hostile_server, chat):
    out = run(face, hostile_server.url + "/think-2507/v1", chat=chat, thinking=True)
    assert out.error is None, repr(out.error)
    assert (out.result.reasoning, out.result.content) == ("plan a reply", "Hi there")
    if not chat:
        assert "".join(d.reasoning for d in out.deltas) == "plan a reply"
        assert out.content == "Hi there"


def test_without_thinking_requested_the_text_is_left_as_sent(face, hostile_server):
    # thinking=None: no claim that the template opened a block, so nothing is taken from content
    out = run(face, hostile_server.url + "/think-2507/v1", chat=True)
    assert (out.result.reasoning or "", out.result.content) == ("", "plan a reply</think>Hi there")
