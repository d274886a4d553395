"""Bad input gets one typed error, the same on every transport, and nothing reaches the wire
(issue 10, class 4: header names, values and methods are validated once, before any transport).
Messages never echo a header value: a key read from a file often ends in a newline.
"""

from __future__ import annotations

import pytest

from hookwire import errors

pytestmark = pytest.mark.network

SECRET = "sk-live-0123456789abcdef"

BAD_HEADERS = {
    "value-trailing-newline": ({"Authorization": f"Bearer {SECRET}\n"}, "an LF at position 31"),
    "value-crlf-injection": ({"X-Api-Key": f"{SECRET}\r\nX-Evil: 1"}, "a CR at position 24"),
    "value-nul": ({"X-Token": f"{SECRET}\x00"}, "a NUL at position 24"),
    "name-with-space": ({"X Api Key": "v"}, "not an RFC 9110 token"),
    "name-with-colon": ({"X-Api-Key:": "v"}, "not an RFC 9110 token"),
    "name-with-paren": ({"X(Key)": "v"}, "not an RFC 9110 token"),
    "name-not-ascii": ({"X-Ключ": "v"}, "not an RFC 9110 token"),
    "name-empty": ({"": "v"}, "not an RFC 9110 token"),
}


@pytest.mark.parametrize(("headers", "why"), BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_bad_header_is_refused_before_any_transport(make_client, server, headers, why):
    client = make_client()
    with pytest.raises(errors.InvalidHeader, match=why) as info:
        client.get(server.join("/anything/bad-header"), headers=headers)
    assert SECRET not in str(info.value)
    assert server.journal.count(path="/anything/bad-header") == 0


@pytest.mark.parametrize("method", ["GE T", "GET\r\n", "GET/1", "", "PÖST"])
def test_a_bad_method_is_refused_before_any_transport(make_client, server, method):
    client = make_client()
    with pytest.raises(errors.InvalidHeader, match="invalid method"):
        client.request(method, server.join("/anything/bad-method"))
    assert server.journal.count(path="/anything/bad-method") == 0


def test_non_ascii_values_and_odd_token_names_go_out_the_same_everywhere(make_client, server):
    # UTF-8 on every transport (http.client alone would send Latin-1, httpx would refuse)
    client = make_client()
    headers = {"X-Note": "café ключ", "X_Odd~Name!": "1"}
    echoed = client.get(server.join("/headers"), headers=headers).json()["headers"]
    assert echoed["X-Note"].encode("latin-1").decode("utf-8") == "café ключ"
    assert echoed["X-Odd~Name!"] == "1"  # the server title-cases names as httpbin does
