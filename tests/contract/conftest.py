"""The contract suite's fixtures: the transport matrix, and a raw server for a gzip bomb.

Every contract test takes ``make_client`` and runs once per (transport, face) pair:
``requests-sync``, ``httpx-sync``, ``httpx-async``, ``aiohttp-async``, ``pyreqwest-async``,
``native-sync`` and ``native-async`` (the last four skipped when their library is not
installed); the cases and the
:class:`~tests._transport_cases.Harness` the test bodies drive live in
``tests/_transport_cases.py``, shared with the reliability suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hookwire.errors import ConfigError
from tests._raw_server import RawServer, replying
from tests._transport_cases import case as case
from tests._transport_cases import make_client as make_client
from tests._transport_cases import server as server


@pytest.fixture(scope="module")
def gzip_bomb() -> Iterator[RawServer]:
    """Serves 32 MiB of zeros as ~32 KiB of gzip."""
    import gzip

    body = gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=9)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    server = RawServer(replying(head.encode() + body))
    yield server
    server.close()


#: Contract cases the pyreqwest transport cannot meet, each for a reason its library fixes:
#: rustls takes no ``ssl.SSLContext`` (the transport refuses one with a ConfigError naming
#: ``verify=ssl.SSLContext``: strict xfail on exactly that error), and rustls' platform
#: verifier reads ``SSL_CERT_FILE`` itself, so a bundle named there is trusted whichever
#: bundle the client chose (docs/http.md, the transport table).
_PYREQWEST_REFUSES = {
    "test_an_ssl_context_on_the_client_is_used_as_given": ConfigError,
    "test_an_ssl_context_per_request": ConfigError,
    "test_an_unverifying_ssl_context_connects_without_a_warning": ConfigError,
}
_PYREQWEST_DIFFERS = {
    "test_the_environment_ca_bundles_go_in_requests_order[pyreqwest-async-CURL_CA_BUNDLE-"
    "SSL_CERT_FILE]": "rustls' platform verifier trusts the bundle SSL_CERT_FILE names",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "[pyreqwest-async" not in item.name:
            continue
        base = item.name.split("[", 1)[0]
        if base in _PYREQWEST_REFUSES:
            item.add_marker(
                pytest.mark.xfail(
                    raises=_PYREQWEST_REFUSES[base],
                    strict=True,
                    reason="pyreqwest refuses verify=ssl.SSLContext (rustls)",
                )
            )
        elif item.name in _PYREQWEST_DIFFERS:
            item.add_marker(pytest.mark.xfail(strict=True, reason=_PYREQWEST_DIFFERS[item.name]))
