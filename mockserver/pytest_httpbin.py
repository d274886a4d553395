"""Drop-in replacements for pytest-httpbin's fixtures, served by the hookwire mock server.

Same names and object API as pytest-httpbin, so a suite written for it runs unchanged once
pytest-httpbin is uninstalled (the fixtures arrive through hookwire's pytest plugin):

===============================  =========  ==================================================
fixture                          scope      gives
===============================  =========  ==================================================
``httpbin``                      session    plain-HTTP server object
``httpbin_secure``               session    HTTPS server (certificate from a throw-away CA)
``httpbin_both``                 session    parametrized: the test runs once per server above
``httpbin_ca_bundle``            function   sets ``REQUESTS_CA_BUNDLE`` to the CA file
``class_based_httpbin``          class      sets ``self.httpbin`` on the test class
``class_based_httpbin_secure``   class      sets ``self.httpbin_secure`` on the test class
===============================  =========  ==================================================

Server objects have ``url``, ``host``, ``port``, ``protocol``, ``join(path)``, ``+ "/path"`` and
``app``. ``use_class_based_httpbin`` / ``use_class_based_httpbin_secure`` are the class markers
and ``where()`` returns the CA bundle path (pytest-httpbin's ``certs.where()``).

The servers are `hookwire.mockserver.runner.ThreadedServer` (uvicorn in a thread, the same runner
as the
``mock_server`` fixtures) serving the full mock server app, openai dialect.
``HOOKWIRE_MOCK_SERVER=granian`` serves them with granian instead (``hookwire[granian]``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookwire.mockserver.runner import ServerStartError, ThreadedServer

__all__ = [
    "ServerStartError",
    "ThreadedServer",
    "class_based_httpbin",
    "class_based_httpbin_secure",
    "httpbin",
    "httpbin_both",
    "httpbin_ca_bundle",
    "httpbin_secure",
    "server_name",
    "tls_files",
    "use_class_based_httpbin",
    "use_class_based_httpbin_secure",
    "where",
]

use_class_based_httpbin = pytest.mark.usefixtures("class_based_httpbin")
use_class_based_httpbin_secure = pytest.mark.usefixtures("class_based_httpbin_secure")

_tls_lock = threading.Lock()
_tls: tuple[str, str, str] | None = None


def tls_files() -> tuple[str, str, str]:
    """``(ca_bundle, server_cert_chain, server_key)`` PEM paths, made once per process.

    The CA is generated with ``trustme`` (nothing is shipped or trusted system-wide) and its
    certificate covers ``127.0.0.1``, ``::1`` and ``localhost``. The files live in a temporary
    directory removed at interpreter exit.
    """
    global _tls
    with _tls_lock:
        if _tls is None:
            import trustme

            directory = Path(tempfile.mkdtemp(prefix="hookwire-httpbin-tls-"))
            atexit.register(shutil.rmtree, directory, True)
            authority = trustme.CA()
            cert = authority.issue_cert("127.0.0.1", "::1", "localhost")
            ca_path = directory / "ca.pem"
            chain_path = directory / "server-chain.pem"
            key_path = directory / "server-key.pem"
            authority.cert_pem.write_to_path(str(ca_path))
            cert.private_key_pem.write_to_path(str(key_path))
            with chain_path.open("wb") as chain:
                for blob in cert.cert_chain_pems:
                    chain.write(blob.bytes())
            _tls = (str(ca_path), str(chain_path), str(key_path))
        return _tls


def server_name() -> str:
    """The server of the drop-ins: ``HOOKWIRE_MOCK_SERVER`` (uvicorn or granian), else uvicorn."""
    return os.environ.get("HOOKWIRE_MOCK_SERVER", "").strip() or "uvicorn"


def where() -> str:
    """Path of the CA bundle that verifies ``httpbin_secure`` (pytest-httpbin's ``certs.where``)."""
    return tls_files()[0]


@pytest.fixture(scope="session")
def httpbin() -> Iterator[ThreadedServer]:
    """A plain-HTTP mock httpbin on a free loopback port, shared by the whole session."""
    with ThreadedServer(server=server_name()) as server:
        yield server


@pytest.fixture(scope="session")
def httpbin_secure() -> Iterator[ThreadedServer]:
    """An HTTPS mock httpbin; verify with ``where()`` or the ``httpbin_ca_bundle`` fixture."""
    _, chain, key = tls_files()
    with ThreadedServer(ssl_certfile=chain, ssl_keyfile=key, server=server_name()) as server:
        yield server


@pytest.fixture(scope="session", params=["http", "https"])
def httpbin_both(
    request: pytest.FixtureRequest, httpbin: ThreadedServer, httpbin_secure: ThreadedServer
) -> ThreadedServer:
    """Each test using it runs twice: against ``httpbin`` and against ``httpbin_secure``."""
    return httpbin if request.param == "http" else httpbin_secure


@pytest.fixture(scope="class")
def class_based_httpbin(request: pytest.FixtureRequest, httpbin: ThreadedServer) -> None:
    """Expose ``httpbin`` as ``self.httpbin`` on (unittest-style) test classes."""
    request.cls.httpbin = httpbin


@pytest.fixture(scope="class")
def class_based_httpbin_secure(
    request: pytest.FixtureRequest, httpbin_secure: ThreadedServer
) -> None:
    """Expose ``httpbin_secure`` as ``self.httpbin_secure`` on test classes."""
    request.cls.httpbin_secure = httpbin_secure


@pytest.fixture
def httpbin_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``REQUESTS_CA_BUNDLE`` at the mock CA for one test, so plain ``requests.get``
    verifies ``httpbin_secure``. Returns the bundle path."""
    path = where()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", path)
    return path
