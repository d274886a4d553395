"""``hookwire http``: an httpie-style request through any registered transport and auth scheme.

Items (:mod:`._items`) become the request (:mod:`._body`); what is printed follows httpie's
``--print``/``--pretty`` rules (:mod:`._http_output`). Transports with only an async face
(aiohttp) are driven by ``AsyncClient`` under ``asyncio.run``; the output is the same.
A missing password is asked for on the terminal; with no terminal the command fails and
says to pass it (stdin is no place for it: in httpie it is the request body).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import typer

from hookwire.cli import _http_output
from hookwire.cli._body import request_kwargs
from hookwire.cli._errors import CLIError
from hookwire.cli._help import add_command
from hookwire.cli._items import normalise_url, parse_items, split_method
from hookwire.cli._output import err
from hookwire.cli._secrets import ask_terminal, has_terminal

_STATUS_EXIT = {3: 3, 4: 4, 5: 5}  # httpie's --check-status convention
Pretty = Literal["all", "colors", "format", "none"]


def _auth(auth: str | None, auth_type: str) -> Any:
    if auth is None:
        return None
    from hookwire import make_auth

    if auth_type in ("bearer", "token"):
        return make_auth(auth_type, auth)
    user, sep, password = auth.partition(":")
    if not sep:
        if not has_terminal():
            raise CLIError(
                f"no password for {user!r} and no terminal to ask on: pass it as "
                f"--auth '{user}:PASSWORD'"
            )
        password = ask_terminal(f"http: password for {user}: ")
    return make_auth(auth_type, user, password)


def _is_async_only(name: str | None) -> bool:
    if name is None:
        return False
    from hookwire.registry import get_plugin_host

    entry = get_plugin_host().transport(name)
    return entry.sync is None and entry.async_ is not None


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
        ..., metavar="[METHOD] URL [ITEM]",
        help="Items: q==v query, H:v header, f=v field, f:=json, f=@file, f:=@file, "
        "f@file upload (--form), @file raw body.",
    ),
    auth: str | None = typer.Option(None, "--auth", "-a", help="user:pass (or a token)."),
    auth_type: str = typer.Option("basic", "--auth-type", "-A", help="basic, digest, bearer..."),
    transport: str | None = typer.Option(None, "--transport", help="requests, httpx, aiohttp..."),
    timeout: float | None = typer.Option(None, "--timeout", min=0, help="Seconds (every phase)."),
    follow: bool = typer.Option(False, "--follow/--no-follow", "-F", help="Follow redirects."),
    form: bool = typer.Option(
        False, "--form", "-f", help="Fields as a form (multipart with uploads), not JSON."
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True,
        help="Print the request as sent too, and every redirect (-vv: and timing).",
    ),
    print_: str | None = typer.Option(
        None, "--print", "-p", metavar="<HBhbm>",
        help="What to print: H request headers, B request body, h response headers, b response "
        "body, m timing (default hb on a terminal, b when redirected).",
    ),
    headers_only: bool = typer.Option(False, "--headers", help="Only the response headers."),
    body_only: bool = typer.Option(False, "--body", "-b", help="Only the response body."),
    all_exchanges: bool = typer.Option(
        False, "--all", help="Also print the redirects before the final response."
    ),
    pretty: Pretty | None = typer.Option(
        None, "--pretty",
        help="all = format + colors (terminal default), none (redirected default), colors, "
        "format (sorted headers, JSON indented).",
    ),
    check_status: bool = typer.Option(
        False, "--check-status", help="Exit 3/4/5 on a 3xx/4xx/5xx response."
    ),
) -> None:
    """Send an HTTP request, httpie-style, and print the response."""
    output = _http_output.choose(
        print_, verbose, pretty, all_exchanges=all_exchanges, body_only=body_only,
        headers_only=headers_only,
    )  # fmt: skip
    method, url, rest = split_method(args[0], args[1:])
    items = parse_items(rest)
    kwargs = request_kwargs(items, form)
    if method is None:
        method = "POST" if items.has_data else "GET"
    client_kwargs: dict[str, Any] = {"follow_redirects": follow, "auth": _auth(auth, auth_type)}
    if transport is not None:
        client_kwargs["transport"] = transport
    if timeout is not None:
        client_kwargs["timeout"] = timeout
    response = _send(method, normalise_url(url), kwargs, client_kwargs, _is_async_only(transport))
    _http_output.Printer(output).exchanges(response)
    if check_status and response.status_code >= 300:
        code = _STATUS_EXIT.get(response.status_code // 100, 1)
        err.print(f"hookwire: {response.status_code} {response.reason_phrase}", style="dim")
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    add_command(app, "http", http)
