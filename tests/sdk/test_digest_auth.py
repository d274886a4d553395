"""DigestAuth driven by hand: fabricated 401s go in through ``send``, no network at all."""

from __future__ import annotations

import hashlib
import io
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from hookwire._models import Request, Response
from hookwire.auth import AuthFlow, DigestAuth
from hookwire.errors import AuthenticationError, DigestChallengeError, UnreplayableBodyError

URL = "http://api.example:8080/dir/index.html?q=1"


def challenge(nonce: str = "n1", *, extra: str = "", qop: str = "auth", alg: str = "MD5") -> str:
    return f'Digest realm="r@x", nonce="{nonce}", qop="{qop}", algorithm={alg}, opaque="op"{extra}'


def status(code: int, request: Request, www: str | None = None) -> Response:
    headers = {"WWW-Authenticate": www} if www else None
    return Response(code, headers=headers, content=b"", request=request)


def params(request: Request) -> dict[str, str]:
    value = request.headers["Authorization"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "Digest"
    return urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))


def expected_md5(p: dict[str, str], password: str, method: str, body: bytes = b"") -> str:
    """RFC 7616 section 3.4.1 written out with hashlib, from the fields the client sent."""

    def h(text: bytes) -> str:
        return hashlib.md5(text).hexdigest()

    ha1 = h(f"{p['username']}:{p['realm']}:{password}".encode())
    a2 = f"{method}:{p['uri']}"
    if p["qop"] == "auth-int":
        a2 += ":" + h(body)
    return h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{h(a2.encode())}".encode())


def send(flow: AuthFlow, response: Response) -> Request | None:
    """Deliver a response to the flow; the next request, or None when the flow is done."""
    try:
        return flow.send(response)
    except StopIteration:
        return None


def transmit(request: Request) -> bytes:
    """What a transport does with the body: consume it (marks one-shot streams as used)."""
    return b"".join(request.iter_body())


# -- the basic exchange -----------------------------------------------------------------------


def test_first_request_goes_bare_then_answers_the_challenge() -> None:
    auth = DigestAuth("Mufasa", "Circle of Life")
    request = Request("GET", URL)
    flow = auth.auth_flow(request)
    first = next(flow)
    assert "Authorization" not in first.headers
    second = send(flow, status(401, first, challenge()))
    assert second is not None
    p = params(second)
    assert p["username"] == "Mufasa" and p["realm"] == "r@x" and p["nonce"] == "n1"
    assert p["uri"] == "/dir/index.html?q=1" and p["nc"] == "00000001" and p["opaque"] == "op"
    assert p["response"] == expected_md5(p, "Circle of Life", "GET")
    assert send(flow, status(200, second)) is None


def test_a_second_non_stale_401_is_returned_and_the_client_raises() -> None:
    auth = DigestAuth("u", "wrong")
    flow = auth.auth_flow(Request("GET", URL))
    answered = send(flow, status(401, next(flow), challenge()))
    assert answered is not None
    assert send(flow, status(401, answered, challenge("n2"))) is None  # no third try


def test_non_digest_401_is_left_alone() -> None:
    flow = DigestAuth("u", "p").auth_flow(Request("GET", URL))
    assert send(flow, status(401, next(flow), 'Basic realm="x"')) is None
    flow = DigestAuth("u", "p").auth_flow(Request("GET", URL))
    assert send(flow, status(401, next(flow))) is None


def test_unanswerable_challenge_raises_with_context() -> None:
    flow = DigestAuth("u", "p").auth_flow(Request("GET", URL))
    first = next(flow)
    response = status(401, first, challenge(alg="SHA3-256"))
    with pytest.raises(DigestChallengeError, match="SHA3-256") as info:
        flow.send(response)
    assert info.value.response is response and info.value.request is first


# -- nonce counting and preemptive answers ----------------------------------------------------


def authenticate_once(auth: DigestAuth, url: str = URL) -> Request:
    flow = auth.auth_flow(Request("GET", url))
    answered = send(flow, status(401, next(flow), challenge()))
    assert answered is not None
    assert send(flow, status(200, answered)) is None
    return answered


def test_later_requests_answer_preemptively_with_nc_incremented() -> None:
    auth = DigestAuth("u", "p")
    first = params(authenticate_once(auth))
    cnonces = {first["cnonce"]}
    for expected_nc in range(2, 7):
        flow = auth.auth_flow(Request("GET", "http://API.example:8080/other"))
        request = next(flow)
        p = params(request)  # sent at once, no 401 round trip
        assert p["nc"] == f"{expected_nc:08x}" and p["nonce"] == "n1" and p["opaque"] == "op"
        assert p["response"] == expected_md5(p, "p", "GET")
        cnonces.add(p["cnonce"])
        assert send(flow, status(200, request)) is None
    assert len(cnonces) == 6  # a fresh cnonce every time


def test_no_preemptive_answer_for_another_origin_or_outside_the_domain() -> None:
    auth = DigestAuth("u", "p")
    authenticate_once(auth)
    assert (
        "Authorization"
        not in next(auth.auth_flow(Request("GET", "http://api.example:9/x"))).headers
    )
    assert (
        "Authorization"
        not in next(auth.auth_flow(Request("GET", "https://api.example:8080/"))).headers
    )

    scoped = DigestAuth("u", "p")
    flow = scoped.auth_flow(Request("GET", "http://h/api/a"))
    answered = send(flow, status(401, next(flow), challenge(extra=', domain="/api"')))
    assert answered is not None
    assert "Authorization" in next(scoped.auth_flow(Request("GET", "http://h/api/b"))).headers
    assert "Authorization" not in next(scoped.auth_flow(Request("GET", "http://h/public"))).headers


def test_nonce_counting_is_thread_safe() -> None:
    auth = DigestAuth("u", "p")
    authenticate_once(auth)
    seen: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            nc = params(next(auth.auth_flow(Request("GET", URL))))["nc"]
            with lock:
                seen.append(nc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(nc, 16) for nc in seen) == list(range(2, 402))  # no repeats, no gaps


# -- stale nonces -----------------------------------------------------------------------------


def test_stale_is_retried_once_with_the_new_nonce() -> None:
    auth = DigestAuth("u", "p")
    flow = auth.auth_flow(Request("GET", URL))
    answered = send(flow, status(401, next(flow), challenge("n1")))
    assert answered is not None and params(answered)["nonce"] == "n1"
    retried = send(flow, status(401, answered, challenge("n2", extra=", stale=true")))
    assert retried is not None
    p = params(retried)
    assert p["nonce"] == "n2" and p["nc"] == "00000001"  # a new nonce counts from 1
    assert p["response"] == expected_md5(p, "p", "GET")
    assert send(flow, status(401, retried, challenge("n3", extra=", stale=true"))) is None


def test_stale_after_a_preemptive_answer_is_the_one_retry() -> None:
    auth = DigestAuth("u", "p")
    authenticate_once(auth)
    flow = auth.auth_flow(Request("GET", URL))
    preemptive = next(flow)
    assert params(preemptive)["nonce"] == "n1"
    retried = send(flow, status(401, preemptive, challenge("n2", extra=", stale=TRUE")))
    assert retried is not None and params(retried)["nonce"] == "n2"
    assert send(flow, status(401, retried, challenge("n3", extra=", stale=true"))) is None


def test_a_rejected_preemptive_answer_gets_one_fresh_try() -> None:
    auth = DigestAuth("u", "p")
    authenticate_once(auth)
    flow = auth.auth_flow(Request("GET", URL))
    preemptive = next(flow)
    fresh = send(flow, status(401, preemptive, challenge("n9")))  # server forgot n1
    assert fresh is not None and params(fresh)["nonce"] == "n9"
    assert send(flow, status(401, fresh, challenge("n10"))) is None


# -- bodies -----------------------------------------------------------------------------------


def test_bytes_and_seekable_files_are_replayed_byte_identical() -> None:
    for make in (lambda: {"content": b"payload"}, lambda: {"stream": io.BytesIO(b"xxpayload")}):
        kwargs = make()
        if "stream" in kwargs:
            kwargs["stream"].seek(2)  # replay from where the file started, not from 0
        request = Request("PUT", URL, **kwargs)
        flow = DigestAuth("u", "p").auth_flow(request)
        first = next(flow)
        assert transmit(first) == b"payload"
        second = send(flow, status(401, first, challenge()))
        assert second is not None
        second.rewind()  # what the client does before sending again
        assert transmit(second) == b"payload"


def test_a_one_shot_body_is_refused_instead_of_sent_empty() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"once"

    flow = DigestAuth("u", "p").auth_flow(Request("POST", URL, stream=chunks()))
    first = next(flow)
    assert transmit(first) == b"once"
    with pytest.raises(UnreplayableBodyError, match="one-shot"):
        flow.send(status(401, first, challenge()))


def test_auth_int_hashes_the_body() -> None:
    helpers = pytest.importorskip("httpbin.helpers")
    for body in ({"content": b'{"a": 1}'}, {"stream": io.BytesIO(b'{"a": 1}')}):
        request = Request("POST", URL, **body)
        flow = DigestAuth("u", "p").auth_flow(request)
        first = next(flow)
        transmit(first)
        answered = send(flow, status(401, first, challenge(qop="auth-int")))
        assert answered is not None
        p = params(answered)
        assert p["qop"] == "auth-int"
        assert p["response"] == expected_md5(p, "p", "POST", b'{"a": 1}')
        server_view = {"method": "POST", "uri": p["uri"], "body": b'{"a": 1}'}
        assert p["response"] == helpers.response(p, "p", server_view)
        assert transmit(answered) == b'{"a": 1}'


def test_secrets_stay_out_of_repr() -> None:
    assert "hunter2" not in repr(DigestAuth("u", "hunter2"))


# -- through the real client, with an in-memory server written independently ------------------


class DigestServer:
    """A sync transport that checks Digest answers with httpbin's own server-side code."""

    def __init__(self, password: str, *, stale_after: int | None = None) -> None:
        self.helpers = pytest.importorskip("httpbin.helpers")
        self.password = password
        self.stale_after = stale_after
        self.nonce = 0
        self.seen: list[str | None] = []  # the Authorization of each request, as it arrived

    def handle_request(self, request: Request) -> Response:
        body = request.read()
        value = request.headers.get("Authorization")
        self.seen.append(value)
        if value:
            p = urllib.request.parse_keqv_list(urllib.request.parse_http_list(value[7:]))
            view = {"method": request.method, "uri": p["uri"], "body": body}
            good = p["response"] == self.helpers.response(p, self.password, view)
            if good and self.stale_after is not None and len(self.seen) > self.stale_after:
                self.nonce += 1
                self.stale_after = None
                return self.challenge(request, stale=True)
            if good and p["nonce"] == f"nonce{self.nonce}":
                return Response(200, content=b"ok:" + body, request=request)
        self.nonce += 1
        return self.challenge(request)

    def challenge(self, request: Request, *, stale: bool = False) -> Response:
        extra = ", stale=true" if stale else ""
        www = f'Digest realm="mem", nonce="nonce{self.nonce}", qop="auth-int"{extra}'
        return Response(401, headers={"WWW-Authenticate": www}, content=b"", request=request)

    def close(self) -> None:
        pass


def test_through_the_client_with_stale_and_a_file_body() -> None:
    from hookwire import Client

    server = DigestServer("s3cret", stale_after=2)
    with Client(transport=server, auth=DigestAuth("alice", "s3cret")) as client:  # type: ignore[arg-type]
        response = client.post("http://mem/upload", content=b"data")
        assert response.status_code == 200 and response.content == b"ok:data"
        response = client.post("http://mem/upload", data=io.BytesIO(b"file-data"))
        assert response.status_code == 200 and response.content == b"ok:file-data"
    # bare, answered, then: preemptive -> stale -> answered with the new nonce
    assert [value is not None for value in server.seen] == [False, True, True, True]
    assert 'nonce="nonce1"' in str(server.seen[2]) and 'nonce="nonce2"' in str(server.seen[3])


def test_through_the_client_wrong_password_is_an_authentication_error() -> None:
    from hookwire import Client

    server = DigestServer("right")
    client = Client(transport=server, auth=DigestAuth("alice", "wrong"))  # type: ignore[arg-type]
    with client, pytest.raises(AuthenticationError):
        client.get("http://mem/")
    assert len(server.seen) == 2
