"""Content-Encoding is undone the same way on every transport (see conftest.py for the matrix).

Every transport reads the body raw and feeds it through the core's ``ContentDecoder``, so the
same bytes on the wire give the same bytes, the same ``BodyTooLarge`` and the same
``DecodingError`` (type and message) on requests, httpx (sync and async) and aiohttp. The
replies come byte for byte from a raw loopback server (``tests/_raw_server.py``), framed by
Content-Length or chunked, since the point is what each client makes of exact bytes.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator

import pytest

from hookwire import errors
from hookwire.timeouts import Timeout
from tests._raw_server import RawServer, read_head

pytestmark = pytest.mark.network

brotli = pytest.importorskip("brotli")

LIMIT = 64 * 1024  # the transports' bound on every piece handed to the client

#: ~600 KiB that compress well but not absurdly: many raw reads, many decoded pieces.
PAYLOAD = b"".join(b"line %06d: the same bytes on every transport\n" % i for i in range(14_000))


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


#: name -> (Content-Encoding header lines, how the payload is encoded for them)
CODINGS: dict[str, tuple[list[str], Callable[[bytes], bytes]]] = {
    "gzip": (["gzip"], gzip.compress),
    "x-gzip": (["x-gzip"], gzip.compress),
    "gzip-two-members": (["gzip"], lambda d: gzip.compress(d[:1000]) + gzip.compress(d[1000:])),
    "deflate": (["deflate"], zlib.compress),
    "raw-deflate": (["deflate"], _raw_deflate),
    "br": (["br"], brotli.compress),
    "gzip, br": (["gzip, br"], lambda d: brotli.compress(gzip.compress(d))),
    "deflate, gzip": (["deflate, gzip"], lambda d: gzip.compress(zlib.compress(d))),
    "gzip and br lines": (["gzip", "br"], lambda d: brotli.compress(gzip.compress(d))),
    "identity, gzip": (["identity, gzip"], gzip.compress),
}


def _reply(
    body: bytes,
    encodings: list[str],
    *,
    chunked: bool = False,
    length: int | None = None,
    status: str = "200 OK",
) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/octet-stream", "Connection: close"]
    lines += [f"Content-Encoding: {value}" for value in encodings]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        step = 10_000
        body = (
            b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + step]), body[i : i + step])
                for i in range(0, len(body), step)
            )
            + b"0\r\n\r\n"
        )
    else:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Replies:
    """One raw server for the module; each test registers the exact reply for its path."""

    def __init__(self) -> None:
        self._by_path: dict[str, bytes] = {}
        self.server = RawServer(self._handle)

    def _handle(self, conn) -> None:  # type: ignore[no-untyped-def]
        head = read_head(conn)
        path = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "/"
        conn.sendall(self._by_path.get(path, _reply(b"no reply for this path", [])))

    def serve(self, path: str, reply: bytes) -> str:
        self._by_path[path] = reply
        return self.server.url + path


@pytest.fixture(scope="module")
def replies() -> Iterator[Replies]:
    served = Replies()
    yield served
    served.server.close()


# -- the same bytes decode to the same bytes ---------------------------------------------------


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("coding", list(CODINGS))
def test_each_coding_decodes_to_the_payload(make_client, replies, coding, framing):
    lines, encode = CODINGS[coding]
    url = replies.serve(
        f"/{coding.replace(' ', '')}/{framing}",
        _reply(encode(PAYLOAD), lines, chunked=framing == "chunked"),
    )
    client = make_client()
    r = client.get(url)
    assert r.content == PAYLOAD
    assert r.headers.get_list("content-encoding") == lines  # the header is left as sent
    _, chunks = client.stream("GET", url)
    assert b"".join(chunks) == PAYLOAD
    assert max(map(len, chunks)) <= LIMIT


@pytest.mark.parametrize(
    "encodings",
    [["x-custom"], ["gzip, x-custom"], ["identity"], ["zstd"]],
    ids=["unknown", "unknown-over-gzip", "identity", "zstd-not-offered"],
)
def test_an_unknown_coding_passes_through_unchanged(make_client, replies, encodings):
    # "gzip, x-custom": x-custom went on last, so the gzip beneath it cannot come off either
    body = gzip.compress(b"as sent") + bytes(range(256))
    url = replies.serve(f"/unknown/{encodings[0].replace(' ', '')}", _reply(body, encodings))
    client = make_client()
    assert client.get(url).content == body
    assert b"".join(client.stream("GET", url)[1]) == body


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "gzip, br"])
def test_an_empty_body_with_a_coding_is_empty(make_client, replies, coding):
    client = make_client()
    empty = replies.serve(f"/empty/{coding.replace(' ', '')}", _reply(b"", [coding]))
    assert client.get(empty).content == b""
    # HEAD: the headers of the compressed body, and none of it
    head = replies.serve(
        f"/head/{coding.replace(' ', '')}", _reply(b"", [coding], length=len(gzip.compress(b"x")))
    )
    r = client.request("HEAD", head)
    assert (r.status_code, r.content) == (200, b"")


# -- a bomb is the same BodyTooLarge -----------------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "gzip, br"])
def test_a_bomb_is_the_same_body_too_large(make_client, replies, coding):
    # 16 MiB of zeros against a 256 KiB limit; tests/reliability measures the memory it takes
    zeros = bytes(16 * 1024 * 1024)
    encode = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    body = brotli.compress(gzip.compress(zeros)) if coding == "gzip, br" else encode[coding](zeros)
    assert len(body) < 64 * 1024
    url = replies.serve(f"/bomb/{coding.replace(' ', '')}", _reply(body, [coding]))
    client = make_client(max_body_size=256 * 1024)
    with pytest.raises(errors.BodyTooLarge) as info:
        client.get(url)
    assert type(info.value) is errors.BodyTooLarge
    assert str(info.value) == "response body passed its size limit of 262144 bytes"
    assert info.value.limit == 256 * 1024


# -- a corrupt body is the same DecodingError, message included ------------------------------

_GZIP = gzip.compress(PAYLOAD)

#: name -> (Content-Encoding, body, the message every transport must give)
CORRUPT = {
    "not-gzip": ("gzip", b"plainly not gzip", "gzip (incorrect header check)"),
    "gzip-garbage": ("gzip", _GZIP[:10] + b"\xff" * 200, "gzip (invalid block type)"),
    "gzip-truncated": ("gzip", _GZIP[: len(_GZIP) // 2], "gzip (the compressed data ends early)"),
    "gzip-trailer-cut": ("gzip", _GZIP[:-4], "gzip (the compressed data ends early)"),
    "deflate-garbage": ("deflate", b"\xff" * 64, "deflate (invalid block type)"),
    "br-garbage": ("br", b"\xff" * 64, "br (invalid data)"),
    "br-truncated": ("br", brotli.compress(PAYLOAD)[:-3], "br (the compressed data ends early)"),
    "gzip-inside-br": (
        "gzip, br",
        brotli.compress(_GZIP[:10] + b"\xff" * 200),
        "gzip (invalid block type)",
    ),
}


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("name", list(CORRUPT))
def test_a_corrupt_body_is_the_same_decoding_error(make_client, replies, name, framing):
    coding, body, reason = CORRUPT[name]
    url = replies.serve(
        f"/corrupt/{name}/{framing}", _reply(body, [coding], chunked=framing == "chunked")
    )
    ok = replies.serve("/ok", _reply(gzip.compress(b"fine"), ["gzip"]))
    # one connection, a short pool wait: a leaked connection would fail the last request
    client = make_client(max_connections=1, timeout=Timeout(connect=5, read=5, pool=2))
    expected = f"the response body is not valid {reason}"
    for attempt in ("read", "stream"):
        with pytest.raises(errors.DecodingError) as info:
            client.get(url) if attempt == "read" else client.stream("GET", url)
        assert type(info.value) is errors.DecodingError
        assert str(info.value) == expected, attempt
        assert info.value.request is not None and info.value.request.url == url
    assert client.get(ok).content == b"fine"
