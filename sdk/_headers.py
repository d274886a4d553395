"""Case-insensitive, order-keeping, multi-valued HTTP headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TypeVar, Union, overload

from hookwire.errors import InvalidHeader

HeaderInput = Union[
    "Headers", Mapping[str, str], Iterable[tuple[str, str]], None
]

#: Header names whose values are credentials: redacted in reprs, logs and errors, and (but for
#: set-cookie, a response header) dropped when a redirect leaves the origin. Beyond the
#: standard three, the key headers of the common APIs (Azure, Google, GitLab, AWS, ...).
SENSITIVE_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "cookie", "set-cookie",
        "api-key", "x-api-key", "x-goog-api-key", "x-api-token", "api-token", "x-auth-token",
        "x-access-token", "private-token", "x-amz-security-token", "ocp-apim-subscription-key",
        "x-functions-key", "x-subscription-token",
    }
)
REDACTED = "[REDACTED]"
#: RFC 9110 section 5.6.2: a header name and a method are a ``token``.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What no value may hold: CR, LF or NUL would split the request or inject a header. Other
#: non-ASCII text is allowed and goes out as UTF-8 on every transport (``wire_value``).
_BAD_LINE = re.compile(r"[\r\n\x00]")
_NAMES = {"\r": "a CR", "\n": "an LF", "\x00": "a NUL"}
_T = TypeVar("_T")


def check_header_text(kind: str, text: str) -> None:
    """Reject CR, LF and NUL in ``text`` (a header value, the URL).

    The message says what and where, never the text itself: a value may be a key (a key read
    from a file often ends in a newline), a URL may carry one in its query.
    """
    bad = _BAD_LINE.search(text)
    if bad is not None:
        what = _NAMES[bad.group()]
        raise InvalidHeader(f"{kind} contains {what} at position {bad.start()}")


def wire_value(value: str) -> str | bytes:
    """A header value as a transport should hand it to its library: ASCII as it is, anything
    else as UTF-8 bytes. http.client would send Latin-1 (and fail past U+00FF), httpx ASCII
    only, aiohttp UTF-8: one rule gives the same bytes on the wire everywhere.
    """
    return value if value.isascii() else value.encode("utf-8")


def check_token(kind: str, text: str) -> None:
    """Reject a header name or method that is not an RFC 9110 token (shown: names are public)."""
    if not _TOKEN.fullmatch(text):
        raise InvalidHeader(f"invalid {kind} {text[:64]!r}: not an RFC 9110 token")


class Headers(MutableMapping[str, str]):
    """HTTP headers: lookups ignore case, iteration keeps the original order and spelling.

    ``headers[name]`` joins repeated values with ", " (as RFC 9110 allows for list headers);
    ``get_list(name)`` returns them apart. Setting a name replaces every earlier value.
    """

    __slots__ = ("_checked", "_items")

    def __init__(self, headers: HeaderInput = None) -> None:
        self._items: list[tuple[str, str]] = []
        #: False only for ``from_wire`` headers: copying those (into a request) checks them.
        self._checked = True
        if headers is None:
            return
        if isinstance(headers, Headers) and headers._checked:
            self._items = list(headers._items)
            return
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            self.add(name, value)

    @classmethod
    def from_wire(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Response headers that a backend's HTTP parser already split, taken as they are.

        The checks in :meth:`add` guard what we *send* (a CR or LF there would split the
        request); a parser has already cut received headers at CR LF, so checking them again
        cost ~0.5 us a header on every response for nothing. Anything copied from here into a
        request is still checked: copying unchecked headers (``Headers(h)``, ``h.copy()``, a
        ``Request(headers=h)``) validates every pair.
        """
        headers = cls()
        headers._items = list(pairs)
        headers._checked = False
        return headers

    def add(self, name: str, value: str) -> None:
        """Append a value, keeping earlier ones (for Set-Cookie and friends)."""
        name, value = str(name), str(value)
        check_token("header name", name)
        check_header_text(f"the value of header {name!r}", value)
        self._items.append((name, value))

    def get_list(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self._items if k.lower() == key]

    def __getitem__(self, name: str) -> str:
        values = self.get_list(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        key = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != key]
        self.add(name, value)

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        kept = [(k, v) for k, v in self._items if k.lower() != key]
        if len(kept) == len(self._items):
            raise KeyError(name)
        self._items = kept

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        """``headers[name]`` or ``default``, without the KeyError round trip of Mapping.get."""
        key = name.lower()
        values = [v for k, v in self._items if k.lower() == key]
        return ", ".join(values) if values else default

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        # A plain loop, not any(<genexpr>): half the cost (0.46 -> 0.22 us), and this runs
        # several times per exchange (Set-Cookie, Location, Accept-Encoding, Cookie...).
        for k, _ in self._items:  # noqa: SIM110 (any() over a generator costs twice as much)
            if k.lower() == key:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self) -> int:
        return len({k.lower() for k, _ in self._items})

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, repeats included, in order."""
        return list(self._items)

    def copy(self) -> Headers:
        return Headers(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            other_headers = Headers(other)
            return sorted((k.lower(), v) for k, v in self._items) == sorted(
                (k.lower(), v) for k, v in other_headers._items
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def redacted(self) -> list[tuple[str, str]]:
        """The pairs with secret values replaced, for logs and reprs."""
        return [(k, REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in self._items]

    def __repr__(self) -> str:
        return f"Headers({self.redacted()!r})"
