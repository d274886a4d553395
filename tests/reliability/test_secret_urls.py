"""Secret-looking query parameters never show: not in errors, reprs or DEBUG logs
(issue 10, class 2), on every transport. One rule (``redact_url``) serves every view.
"""

from __future__ import annotations

import logging
import socket

import pytest

from hookwire import errors
from hookwire._urls import SECRET_PARAMS, redact_url

pytestmark = pytest.mark.network

SECRET = "sk-url-secret-4242"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("param", ["api_key", "key", "token", "access_token", "sig", "Signature"])
def test_a_secret_query_value_is_hidden_in_errors_reprs_and_logs(
    make_client, server, caplog, param
):
    client = make_client()
    url = server.join(f"/status/404?{param}={SECRET}&page=2")
    with caplog.at_level(logging.DEBUG, logger="hookwire"):
        response = client.get(url)
        with pytest.raises(errors.HTTPStatusError) as status:
            response.raise_for_status()
        with pytest.raises(errors.ConnectError) as refused:
            client.get(f"http://127.0.0.1:{_closed_port()}/x?{param}={SECRET}")
    shown = [str(status.value), str(refused.value), repr(response.request), caplog.text]
    assert all(SECRET not in text for text in shown), shown
    assert "page=2" in str(status.value) and f"{param}=[REDACTED]" in str(status.value)
    assert response.request.url.endswith(f"{param}={SECRET}&page=2")  # what is sent is intact


def test_the_rule_keeps_ordinary_parameters_and_names() -> None:
    assert redact_url("https://h/p?q=cats&monkey=1&keys=2") == "https://h/p?q=cats&monkey=1&keys=2"
    for name in sorted(SECRET_PARAMS):
        assert redact_url(f"https://h/p?{name}=v1&x=1") == f"https://h/p?{name}=[REDACTED]&x=1"
    fake = "https://u:pw@h/p?token=t#frag"  # pragma: allowlist secret
    assert redact_url(fake) == "https://[REDACTED]@h/p?token=[REDACTED]#frag"
