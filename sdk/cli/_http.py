"""``hookwire http``: an httpie-style request through any registered transport and auth scheme.

Transports with only an async face (aiohttp) are driven by ``AsyncClient`` under
``asyncio.run``; the output is the same either way: status line, headers, a pretty body.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Any

import typer
from rich.syntax import Syntax

from hookwire.cli._errors import CLIError
from hookwire.cli._items import Items, normalise_url, parse_items, split_method
from hookwire.cli._output import err, out

_STATUS_EXIT = {3: 3, 4: 4, 5: 5}  # httpie's --check-status convention


def _auth(auth: str | None, auth_type: str) -> Any:
    if auth is None:
        return None
    from hookwire import make_auth

    if auth_type in ("bearer", "token"):
        return make_auth(auth_type, auth)
    user, sep, password = auth.partition(":")
    if not sep:
        password = getpass.getpass(f"password for {user}: ")
    return make_auth(auth_type, user, password)


def _is_async_only(name: str | None) -> bool:
    if name is None:
        return False
    from hookwire.registry import get_plugin_host

    entry = get_plugin_host().transport(name)
    return entry.sync is None and entry.async_ is not None


def _request_kwargs(items: Items, form: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if items.params:
        kwargs["params"] = items.params
    if items.headers:
        kwargs["headers"] = items.headers
    if items.fields:
        if form:
            if items.raw_json:
                raise CLIError("raw JSON fields (name:=json) cannot go in a --form body")
            kwargs["data"] = items.fields
        else:
            kwargs["json"] = items.fields
    return kwargs


def _print_request(request: Any) -> None:
    out.print(f"{request.method} {request.url}", style="bold", markup=False)
    for name, value in request.headers.redacted():
        out.print(f"{name}: {value}", markup=False)
    body = request.body
    out.print()
    if body:
        out.print(body.decode("utf-8", "replace"), markup=False)
        out.print()


def _print_body(response: Any) -> None:
    content: bytes = response.content
    if not content:
        return
    ctype = response.headers.get("content-type") or ""
    if "json" in ctype:
        try:
            pretty = json.dumps(response.json(), indent=2, ensure_ascii=False)
        except ValueError:
            pretty = None
        if pretty is not None:
            out.print(Syntax(pretty, "json", theme="ansi_dark", background_color="default"))
            return
    try:
        text = content.decode(response.encoding)
    except (LookupError, UnicodeDecodeError):
        out.print(f"[binary body: {len(content)} bytes]", markup=False, style="dim")
        return
    if "\x00" in text:
        out.print(f"[binary body: {len(content)} bytes]", markup=False, style="dim")
        return
    out.print(text, markup=False)


def _print_response(response: Any, verbose: bool, body_only: bool) -> None:
    if verbose:
        for earlier in response.history:
            _print_request(earlier.request)
        _print_request(response.request)
    if not body_only:
        reason = response.reason_phrase or ""
        out.print(
            f"{response.http_version} {response.status_code} {reason}".rstrip(),
            style="bold",
            markup=False,
        )
        for name, value in response.headers.multi_items():
            out.print(f"{name}: {value}", markup=False)
        out.print()
    _print_body(response)


def _send(
    method: str,
    url: str,
    kwargs: dict[str, Any],
    client_kwargs: dict[str, Any],
    use_async: bool,
) -> Any:
    import hookwire

    if use_async:

        async def run() -> Any:
            async with hookwire.AsyncClient(**client_kwargs) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(run())
    with hookwire.Client(**client_kwargs) as client:
        return client.request(method, url, **kwargs)


def http(
    args: list[str] = typer.Argument(
        ..., metavar="[METHOD] URL [ITEM]...", help="Items: a==b query, H:v header, f=v, f:=json"
    ),
    auth: str | None = typer.Option(None, "--auth", "-a", help="user:pass (or a token)."),
    auth_type: str = typer.Option("basic", "--auth-type", "-A", help="basic, digest, bearer..."),
    transport: str | None = typer.Option(None, "--transport", help="requests, httpx, aiohttp..."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds (every phase)."),
    follow: bool = typer.Option(False, "--follow/--no-follow", "-F", help="Follow redirects."),
    form: bool = typer.Option(False, "--form", "-f", help="Send fields as a form, not JSON."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the request too."),
    body_only: bool = typer.Option(False, "--body", "-b", help="Print only the body."),
    check_status: bool = typer.Option(
        False, "--check-status", help="Exit 3/4/5 on a 3xx/4xx/5xx response."
    ),
) -> None:
    """Send an HTTP request, httpie-style, and print the response."""
    method, url, rest = split_method(args[0], args[1:])
    items = parse_items(rest)
    kwargs = _request_kwargs(items, form)
    if method is None:
        method = "POST" if items.fields else "GET"
    client_kwargs: dict[str, Any] = {"follow_redirects": follow, "auth": _auth(auth, auth_type)}
    if transport is not None:
        client_kwargs["transport"] = transport
    if timeout is not None:
        client_kwargs["timeout"] = timeout
    use_async = _is_async_only(transport)
    response = _send(method, normalise_url(url), kwargs, client_kwargs, use_async)
    _print_response(response, verbose, body_only)
    if check_status and response.status_code >= 300:
        code = _STATUS_EXIT.get(response.status_code // 100, 1)
        err.print(f"hookwire: {response.status_code} {response.reason_phrase}", style="dim")
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("http", context_settings={"ignore_unknown_options": False})(http)
