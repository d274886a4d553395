"""Behaviour kept by the per-request fast paths (benchmarks/bench_http.py measures their speed)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from hookwire._models import Response
from hookwire._urls import proxy_from_env

URL = "http://api.example:8000/v1"


def _reference(url: str) -> str | None:
    """The original rule: lower-case every variable, read them afresh."""
    return proxy_from_env(url, dict(os.environ))


def test_proxy_from_env_sees_every_environment_change(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_from_env(URL) is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy-a:3128")
    assert proxy_from_env(URL) == "http://proxy-a:3128"
    monkeypatch.setenv("NO_PROXY", "api.example")
    assert proxy_from_env(URL) is None
    monkeypatch.setenv("NO_PROXY", "other.example")
    assert proxy_from_env(URL) == "http://proxy-a:3128"
    monkeypatch.setenv("HTTP_PROXY", "http://proxy-b:3128")
    assert proxy_from_env(URL) == "http://proxy-b:3128" == _reference(URL)
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("all_proxy", "http://proxy-c:1080")
    assert proxy_from_env(URL) == "http://proxy-c:1080" == _reference(URL)


def test_proxy_from_env_clash_resolves_like_the_plain_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://upper:1")
    monkeypatch.setenv("http_proxy", "http://lower:2")
    assert proxy_from_env(URL) == _reference(URL)
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("HTTP_PROXY", "http://upper-again:3")  # re-added: now last in order
    assert proxy_from_env(URL) == _reference(URL)


class _SyncBody:
    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"ab"

    def close(self) -> None:
        self.closed = True


class _AsyncBody:
    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"cd"

    async def aclose(self) -> None:
        self.closed = True


class _IterOnly:  # has __iter__ but no close(): not a SyncByteStream
    def __iter__(self) -> Iterator[bytes]:
        yield b"x"


@pytest.mark.parametrize("repeat", range(2))  # the second pass hits the per-class memo
def test_stream_kind_checks_stay_exact(repeat: int) -> None:
    body = _SyncBody()
    assert Response(200, stream=body).read() == b"ab" and body.closed
    with pytest.raises(RuntimeError, match="async body"):
        Response(200, stream=_AsyncBody()).read()
    with pytest.raises(RuntimeError, match="async body"):
        Response(200, stream=_IterOnly()).read()  # type: ignore[arg-type]


@pytest.mark.parametrize("repeat", range(2))
async def test_async_stream_kind_checks_stay_exact(repeat: int) -> None:
    body = _AsyncBody()
    assert await Response(200, stream=body).aread() == b"cd" and body.closed
    with pytest.raises(RuntimeError, match="sync body"):
        await Response(200, stream=_SyncBody()).aread()
