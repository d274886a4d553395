"""Mutual TLS on every transport: ``verify`` as a CA bundle path plus a client ``cert``.

The server is the mock app under uvicorn on 127.0.0.1, demanding a client certificate
(``ssl_cert_reqs=CERT_REQUIRED``) issued by a throw-away ``trustme`` CA that also issued the
server certificate. A client with that CA as ``verify`` and a client cert from it gets through,
whether the cert is given as ``(cert, key)`` or as one PEM file holding both; a client with no
cert, or with a cert from another CA, is refused with the same typed error on every transport.

Which error: in TLS 1.3 the client's handshake is over before the server checks the client's
certificate, so the refusal arrives on the first read. uvicorn closes without sending the TLS
alert, so all a client can know is "closed without a response": `errors.ReadError`, everywhere.
A server that sends the alert (as OpenSSL servers do) gets `errors.TLSError` naming the alert,
everywhere; `AlertingTLSServer` proves that half.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookwire import errors
from hookwire.mockserver.app import create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.runner import ThreadedServer
from tests._raw_server import RawServer

trustme = pytest.importorskip("trustme")


@dataclass(frozen=True)
class Pki:
    """Paths of the files a mutual-TLS client needs (and a foreign one it must not get by with)."""

    ca_bundle: str
    client_cert: str
    client_key: str
    client_combined: str
    foreign_cert: str
    foreign_key: str


class MutualTLSServer(ThreadedServer):
    """The mock app over https, refusing any client without a certificate from ``ca_certs``."""

    port_envvar = secure_port_envvar = None  # never the httpbin fixtures' pinned port


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("mtls")
    ca, foreign_ca = trustme.CA(), trustme.CA()
    client = ca.issue_cert("client.hookwire.test")
    foreign = foreign_ca.issue_cert("client.hookwire.test")

    def write(blob: object, name: str) -> str:
        path = root / name
        blob.write_to_path(str(path))  # type: ignore[attr-defined]
        return str(path)

    ca_bundle = write(ca.cert_pem, "ca.pem")
    write(ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem, "server.pem")
    return Pki(
        ca_bundle=ca_bundle,
        client_cert=write(client.cert_chain_pems[0], "client.crt"),
        client_key=write(client.private_key_pem, "client.key"),
        client_combined=write(client.private_key_and_cert_chain_pem, "client.pem"),
        foreign_cert=write(foreign.cert_chain_pems[0], "foreign.crt"),
        foreign_key=write(foreign.private_key_pem, "foreign.key"),
    )


@pytest.fixture(scope="module")
def mtls_server(pki: Pki) -> Iterator[MutualTLSServer]:
    server_pem = str(Path(pki.ca_bundle).with_name("server.pem"))
    server = MutualTLSServer(
        create_app(MockConfig()),
        ssl_certfile=server_pem,
        ssl_ca_certs=pki.ca_bundle,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    with server:
        yield server


class AlertingTLSServer:
    """A loopback TLS endpoint that refuses client certificates the way OpenSSL servers do.

    uvicorn (asyncio and uvloop alike) drops a failed handshake without flushing the TLS alert,
    so its clients only see the connection close; nginx and any blocking OpenSSL server send the
    alert first (``certificate required``, ``unknown ca``). This one does the handshake with a
    blocking socket, lets the alert go out, then drains what the client sent before closing, so
    the close is an orderly FIN and the client reads the alert rather than a reset.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self.handshake_errors: list[ssl.SSLError] = []
        self._refused = threading.Condition()
        self._server = RawServer(self._refuse, tls_context=context)
        self.url = self._server.url

    def _refuse(self, tls: socket.socket) -> None:
        assert isinstance(tls, ssl.SSLSocket)  # the handshake has not run yet
        try:
            tls.do_handshake()
        except ssl.SSLError as exc:
            with self._refused:
                self.handshake_errors.append(exc)
                self._refused.notify_all()
        tls.shutdown(socket.SHUT_WR)  # plain TCP from here on; RawServer swallows OSError
        while tls.recv(65536):
            pass

    def refusals_after(self, count: int) -> list[ssl.SSLError]:
        """The handshake errors past the first ``count``, waiting (2 s at most) for one.

        The alert leaves before ``do_handshake`` raises here, so the client may have it first.
        """
        with self._refused:
            self._refused.wait_for(lambda: len(self.handshake_errors) > count, timeout=2)
            return self.handshake_errors[count:]

    def close(self) -> None:
        self._server.close()


@pytest.fixture(scope="module")
def alerting_server(pki: Pki) -> Iterator[AlertingTLSServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(Path(pki.ca_bundle).with_name("server.pem")))
    context.load_verify_locations(pki.ca_bundle)
    context.verify_mode = ssl.CERT_REQUIRED
    server = AlertingTLSServer(context)
    yield server
    server.close()


#: What uvicorn's silent refusal surfaces as; one class for every transport.
REFUSED = errors.ReadError


def test_client_cert_and_key_pair_gets_through(make_client, mtls_server, pki):
    client = make_client(verify=pki.ca_bundle, cert=(pki.client_cert, pki.client_key))
    response = client.get(mtls_server.join("/get"), params={"who": "pair"})
    assert response.status_code == 200
    assert response.json()["args"] == {"who": "pair"}


def test_client_cert_as_one_pem_file_gets_through(make_client, mtls_server, pki):
    client = make_client(verify=pki.ca_bundle, cert=pki.client_combined)
    response = client.get(mtls_server.join("/get"), params={"who": "combined"})
    assert response.status_code == 200
    assert response.json()["args"] == {"who": "combined"}


def test_no_client_cert_is_refused_with_a_typed_tls_error(make_client, mtls_server, pki):
    mtls_server.reset()
    client = make_client(verify=pki.ca_bundle)
    with pytest.raises(errors.TransportError) as info:
        client.get(mtls_server.join("/get"))
    assert type(info.value) is REFUSED, repr(info.value)
    assert info.value.__cause__ is not None
    assert mtls_server.url in str(info.value)
    assert not mtls_server.journal.entries(path="/get")  # nothing reached the app


def test_client_cert_from_another_ca_is_refused_the_same_way(make_client, mtls_server, pki):
    mtls_server.reset()
    client = make_client(verify=pki.ca_bundle, cert=(pki.foreign_cert, pki.foreign_key))
    with pytest.raises(errors.TransportError) as info:
        client.get(mtls_server.join("/get"))
    assert type(info.value) is REFUSED, repr(info.value)
    assert info.value.__cause__ is not None
    assert not mtls_server.journal.entries(path="/get")


@pytest.mark.parametrize("with_cert", ["none", "foreign"])
def test_a_refusal_alert_is_a_tls_error_on_every_transport(
    make_client, alerting_server, pki, with_cert
):
    cert = None if with_cert == "none" else (pki.foreign_cert, pki.foreign_key)
    client = make_client(verify=pki.ca_bundle, cert=cert)
    before = len(alerting_server.handshake_errors)
    with pytest.raises(errors.TransportError) as info:
        client.get(alerting_server.url + "/get")
    assert type(info.value) is errors.TLSError, repr(info.value)
    reason = "CERTIFICATE_REQUIRED" if with_cert == "none" else "UNKNOWN_CA"
    assert reason in str(info.value)  # the alert the server sent, named in the message
    [refusal] = alerting_server.refusals_after(before)  # the server did refuse, once
    assert isinstance(refusal, ssl.SSLError)


def test_a_reset_after_a_want_read_is_not_a_tls_failure():
    """anyio (httpx async) raises the peer's reset inside ``except SSLWantReadError``; that
    flow-control signal in the context chain must not turn the reset into a TLSError (it did,
    on some runs of the uvicorn refusal above)."""
    from hookwire.plugins.transports import _common

    try:
        try:
            raise ssl.SSLWantReadError(2, "The operation did not complete (read)")
        except ssl.SSLWantReadError:
            try:
                raise ConnectionResetError(104, "Connection reset by peer")
            except ConnectionResetError as reset:
                raise RuntimeError("broken stream") from reset  # as anyio's BrokenResourceError
    except RuntimeError as exc:
        wrapped = exc
    assert not _common.is_tls_failure(wrapped)
    assert _common.root_reason(wrapped) == "ConnectionResetError: Connection reset by peer"
