"""Whatever JSON arrives in a stream, only the SDK's own errors come out (issue 10, class 4).

Valid JSON of the wrong shape raises a ``ProtocolError`` (``DecodingError``) naming the event,
with the partial reply; ``data: [DONE]`` ends the stream, so nothing after it is appended.
Every transport, sync and async, against the hostile server of ``_hostile.py``.
"""

from __future__ import annotations

import pytest

from hookwire.errors import DecodingError, ProtocolError
from tests.reliability._hostile import SHAPES
from tests.reliability.test_stream_faults import face as face
from tests.reliability.test_stream_faults import run

pytestmark = pytest.mark.network


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_wrong_shape_is_a_protocol_error_naming_the_event(face, hostile_server, shape):
    out = run(face, hostile_server.url + f"/shape/{shape}/v1")
    assert isinstance(out.error, DecodingError) and isinstance(out.error, ProtocolError), repr(
        out.error
    )
    assert "stream event 2 is not a chat.completion.chunk" in str(out.error)
    assert out.error.partial.content == "Hello" == out.content


def test_nothing_after_done_is_part_of_the_reply(face, hostile_server):
    out = run(face, hostile_server.url + "/after-done/v1")
    assert out.error is None, repr(out.error)
    assert out.content == "Hello" and out.result.content == "Hello"
