"""The requests tutorial, rewritten with hookwire's ``hookwire.Client``.

Every call of the seed tutorial's requests section ("Requests库的使用": GET and the status
code, ``if response:``, ``raise_for_status()``, the body as bytes/text/JSON, headers, params and
custom headers, the seven methods and ``request()``, form and JSON bodies, the prepared request,
Basic and Digest auth, a token auth class, timeouts, sessions, retries and async) is one small
function below. Each prints what it shows and returns what it observed, so a test can check the
SDK really did it.

The tutorial talks to api.github.com and httpbin.org; here everything goes to an httpbin-
compatible server, by default hookwire's bundled mock server::

    python -m hookwire.mockserver --port 8080 &           # or any httpbin
    python examples/http_tutorial.py http://127.0.0.1:8080
    HTTPBIN_URL=http://127.0.0.1:8080 python examples/http_tutorial.py --transport httpx

The retry demo uses the mock server's scripted faults (``X-Mock-Fault``); a plain httpbin
ignores the header, so there the first attempt simply succeeds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

import hookwire

Observed = dict[str, Any]


# -- 1. GET and the response ----------------------------------------------------------------
def get_and_status(client: hookwire.Client) -> Observed:
    """``requests.get(url)``, ``response.status_code`` and ``if response:`` (ok below 400)."""
    response = client.get("/get")
    print(f"GET /get -> {response.status_code}")
    if response:
        print("Success!")
    else:
        raise RuntimeError(f"Non-success status code: {response.status_code}")
    missing = client.get("/status/404")
    print(f"GET /status/404 -> {missing.status_code}, bool(response) = {bool(missing)}")
    return {"status": response.status_code, "truthy": bool(response), "falsy_404": bool(missing)}


def raise_for_status_loop(client: hookwire.Client) -> Observed:
    """``raise_for_status()`` over a good and a bad URL: only the bad one raises."""
    outcomes: dict[str, str] = {}
    for url in ["/get", "/status/404"]:
        try:
            response = client.get(url)
            response.raise_for_status()
        except hookwire.HTTPStatusError as http_err:
            print(f"HTTP error occurred: {http_err}")
            outcomes[url] = f"HTTPStatusError {http_err.response.status_code}"
        except hookwire.SDKError as err:
            print(f"Other error occurred: {err}")
            outcomes[url] = f"other {type(err).__name__}"
        else:
            print("Success!")
            outcomes[url] = "success"
    return {"raise_for_status": outcomes}


def response_content(client: hookwire.Client) -> Observed:
    """The payload as bytes (``.content``), str (``.text``, encoding settable) and ``.json()``."""
    response = client.get("/encoding/utf8")
    raw = response.content
    guessed = response.encoding  # from the Content-Type charset
    response.encoding = "latin-1"  # a wrong guess garbles the non-ASCII text...
    garbled = response.text
    response.encoding = "utf-8"  # ...so set it, then decode
    text = response.text
    print(f".content: {len(raw)} bytes; .encoding from headers: {guessed}; .text: {text[:40]!r}")
    as_json = client.get("/json").json()
    print(f".json(): a {type(as_json).__name__} with keys {sorted(as_json)}")
    return {
        "content_is_bytes": isinstance(raw, bytes),
        "text_matches_content": text == raw.decode("utf-8"),
        "latin1_text_differs": garbled != text,
        "header_encoding": guessed,
        "json_type": type(as_json).__name__,
    }


def response_headers(client: hookwire.Client) -> Observed:
    """``response.headers`` is a case-insensitive mapping."""
    response = client.get("/json")
    print(f"headers: {dict(response.headers)}")
    print(f'headers["content-type"] = {response.headers["content-type"]!r}')
    return {
        "content_type": response.headers["content-type"],
        "content_type_any_case": response.headers["CONTENT-TYPE"],
    }


# -- 2. Customising a GET ---------------------------------------------------------------------
def params_and_headers(client: hookwire.Client) -> Observed:
    """Query ``params`` (the GitHub search example) and a custom ``Accept`` header."""
    response = client.get(
        "/get",
        params={"q": '"real python"'},
        headers={"Accept": "application/vnd.github.text-match+json"},
    )
    echoed = response.json()
    print(f"sent to {response.request.url}")
    print(f"server saw args={echoed['args']} Accept={echoed['headers']['Accept']!r}")
    return {
        "params_url": response.request.url,
        "params_echo": echoed["args"],
        "accept_echo": echoed["headers"]["Accept"],
    }


# -- 3. The other methods -----------------------------------------------------------------------
def other_methods(client: hookwire.Client) -> Observed:
    """GET POST PUT DELETE HEAD PATCH OPTIONS, and the generic ``request("GET", ...)``."""
    responses = {
        "GET": client.get("/get"),
        "POST": client.post("/post", data={"key": "value"}),
        "PUT": client.put("/put", data={"key": "value"}),
        "DELETE": client.delete("/delete"),
        "HEAD": client.head("/get"),
        "PATCH": client.patch("/patch", data={"key": "value"}),
        "OPTIONS": client.options("/get"),
        "request(GET)": client.request("GET", "/get"),
    }
    for name, response in responses.items():
        print(f"{name:<13} -> {response!r}")
    return {
        "methods": {name: r.status_code for name, r in responses.items()},
        "sent_methods": {name: r.request.method for name, r in responses.items()},
        "head_body": responses["HEAD"].content,
        "options_allow": responses["OPTIONS"].headers.get("allow"),
        "put_form_echo": responses["PUT"].json()["form"],
    }


# -- 4. Sending data --------------------------------------------------------------------------
def form_bodies(client: hookwire.Client) -> Observed:
    """Form data as a dict or as a list of tuples: both become x-www-form-urlencoded."""
    as_dict = client.post("/post", data={"key": "value"})
    as_pairs = client.post("/post", data=[("key", "value"), ("key", "other")])
    print(f"dict form -> {as_dict.json()['form']}; pairs form -> {as_pairs.json()['form']}")
    return {
        "form_dict": as_dict.json()["form"],
        "form_pairs": as_pairs.json()["form"],
        "form_body": as_pairs.request.body,
        "form_content_type": as_dict.request.headers["Content-Type"],
    }


def json_body(client: hookwire.Client) -> Observed:
    """``json=``: the SDK serialises it and sets Content-Type; httpbin echoes both."""
    response = client.post("/post", json={"key": "value"})
    json_response = response.json()
    print(json_response["data"])
    print(json_response["headers"]["Content-Type"])
    return {
        "json_data_echo": json_response["data"],
        "json_content_type_echo": json_response["headers"]["Content-Type"],
        "json_echo": json_response["json"],
    }


# -- 5. The prepared request ---------------------------------------------------------------------
def prepared_request(client: hookwire.Client) -> Observed:
    """``response.request`` is what was sent: headers, URL and body bytes."""
    response = client.post("/post", json={"key": "value"})
    print(response.request.headers["Content-Type"])
    print(response.request.url)
    print(response.request.body)
    return {
        "prepared_content_type": response.request.headers["Content-Type"],
        "prepared_url": response.request.url,
        "prepared_body": response.request.body,
        "server_saw_body": response.json()["data"],
    }


# -- 6. Authentication --------------------------------------------------------------------------
def basic_auth(client: hookwire.Client) -> Observed:
    """``auth=("user", "passwd")`` is HTTP Basic; the header is computed by the SDK."""
    response = client.get("/basic-auth/user/passwd", auth=("user", "passwd"))
    print(response.status_code)
    print(response.request.headers["Authorization"])
    wrong = client.get("/basic-auth/user/passwd", auth=("user", "wrong"))
    print(f"wrong password -> {wrong.status_code}")
    return {
        "basic_status": response.status_code,
        "basic_header": response.request.headers["Authorization"],
        "basic_body": response.json(),
        "basic_wrong_status": wrong.status_code,
    }


def digest_auth(client: hookwire.Client) -> Observed:
    """``hookwire.DigestAuth`` (requests' ``HTTPDigestAuth``): answers the server's 401
    challenge."""
    auth = hookwire.DigestAuth("user", "passwd")
    response = client.get("/digest-auth/auth/user/passwd", auth=auth)
    print(f"digest -> {response.status_code} {response.json()}")
    digest = hookwire.DigestAuth("user", "passwd")
    sha = client.get("/digest-auth/auth/user/passwd/SHA-256", auth=digest)
    print(f"digest SHA-256 -> {sha.status_code}")
    try:
        client.get("/digest-auth/auth/user/passwd", auth=hookwire.DigestAuth("user", "nope"))
    except hookwire.AuthenticationError as exc:
        refused = type(exc).__name__
        print(f"wrong digest password -> {refused}: {exc}")
    else:
        refused = "accepted"
    return {
        "digest_status": response.status_code,
        "digest_body": response.json(),
        "digest_header_scheme": response.request.headers["Authorization"].split()[0],
        "digest_sha256_status": sha.status_code,
        "digest_wrong": refused,
    }


class TokenAuth(hookwire.Auth):
    """The tutorial's custom ``TokenAuth``: an ``hookwire.Auth`` subclass that adds a header.

    (``hookwire.BearerAuth(token)`` does the same and can refresh a token; this shows how to write
    your own scheme, which then works on every transport, sync and async.)
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(
        self, request: hookwire.Request
    ) -> Generator[hookwire.Request, hookwire.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "<TokenAuth token=[REDACTED]>"


# -- 7. Timeouts ------------------------------------------------------------------------------
def timeouts(client: hookwire.Client) -> Observed:
    """``timeout=1`` and ``timeout=(connect, read)``; a slow server raises TimeoutException."""
    fast = client.get("/get", timeout=1)
    tuple_form = client.get("/get", timeout=(3.05, 5))
    print(f"timeout=1 -> {fast.status_code}; timeout=(3.05, 5) -> {tuple_form.status_code}")
    try:
        client.get("/delay/2", timeout=(3.05, 0.5))
    except hookwire.TimeoutException as exc:
        print(f"The request timed out ({type(exc).__name__}: {exc})")
        raised = type(exc).__name__
    else:
        raised = None
    return {
        "timeout_ok": [fast.status_code, tuple_form.status_code],
        "timeout_sent": [
            [fast.request.extensions["timeout"].connect, fast.request.extensions["timeout"].read],
            [
                tuple_form.request.extensions["timeout"].connect,
                tuple_form.request.extensions["timeout"].read,
            ],
        ],
        "timeout_raised": raised,
    }


# -- 8. Sessions --------------------------------------------------------------------------------
def _client_ports(server_port: int) -> set[int] | None:
    """Local ports of this process's open connections to the server (psutil, if installed)."""
    try:
        import psutil
    except ImportError:
        return None
    return {
        c.laddr.port
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == server_port and c.status == psutil.CONN_ESTABLISHED
    }


def session(base_url: str, transport: str) -> Observed:
    """``requests.Session``: one client keeps auth, headers and connections across calls."""
    token = "tutorial-token"  # stands in for <YOUR_GITHUB_PA_TOKEN>
    port = urlsplit(base_url).port or 80
    before = _client_ports(port)
    with hookwire.Client(base_url=base_url, auth=TokenAuth(token), transport=transport) as client:
        response1 = client.get("/bearer")
        response2 = client.get("/bearer")
        after = _client_ports(port)
    print(f"session: {response1.status_code} {response2.status_code} {response1.json()}")
    opened = None if before is None or after is None else len(after - before)
    print(f"connections opened by the session for two requests: {opened}")
    return {
        "session_statuses": [response1.status_code, response2.status_code],
        "session_token_echo": [response1.json()["token"], response2.json()["token"]],
        "session_connections": opened,
    }


# -- 9. Retries ----------------------------------------------------------------------------------
def retries(base_url: str, transport: str) -> Observed:
    """``retry=hookwire.RetryPolicy(...)`` where requests needs an HTTPAdapter: 503, 503, then 200.

    The mock server scripts the failures: calls 1-2 of this ``X-Mock-Session`` get a 503 with
    ``Retry-After: 0``, so the policy waits 0 s (the server's word) and tries again.
    """
    session_id = f"tutorial-{uuid.uuid4().hex}"
    policy = hookwire.RetryPolicy(attempts=4, statuses=frozenset({503}), backoff_base=0.05)
    with hookwire.Client(base_url=base_url, transport=transport, retry=policy) as client:
        response = client.get(
            "/get",
            headers={
                "X-Mock-Fault": "calls=1-2;status=503;retry-after=0",
                "X-Mock-Session": session_id,
            },
        )
    print(f"retried: {response.status_code} after {response.attempts} attempts")
    return {
        "retry_status": response.status_code,
        "retry_attempts": response.attempts,
        "retry_session": session_id,
    }


# -- 10. Async ---------------------------------------------------------------------------------
async def async_requests(base_url: str, transport: str) -> Observed:
    """What requests cannot do: ``hookwire.AsyncClient`` on aiohttp or httpx, same API, awaited."""
    async with hookwire.AsyncClient(base_url=base_url, transport=transport) as client:
        responses = await asyncio.gather(*(client.get("/get", params={"n": i}) for i in range(5)))
        posted = await client.post("/post", json={"key": "value"})
        basic = await client.get("/basic-auth/user/passwd", auth=("user", "passwd"))
        digest = await client.get(
            "/digest-auth/auth/user/passwd", auth=hookwire.DigestAuth("user", "passwd")
        )
    print(f"async ({transport}): {[r.status_code for r in responses]}, POST {posted.status_code}")
    return {
        "async_statuses": [r.status_code for r in responses],
        "async_args": [r.json()["args"]["n"] for r in responses],
        "async_json_echo": posted.json()["json"],
        "async_basic_status": basic.status_code,
        "async_digest_status": digest.status_code,
    }


# -- driver ---------------------------------------------------------------------------------------
def main(
    base_url: str, *, transport: str = "requests", async_transport: str | None = "aiohttp"
) -> Observed:
    """Run every section against ``base_url``; return what was observed, section by section."""
    observed: Observed = {"transport": transport, "async_transport": async_transport}
    with hookwire.Client(base_url=base_url, transport=transport) as client:
        for section in (
            get_and_status,
            raise_for_status_loop,
            response_content,
            response_headers,
            params_and_headers,
            other_methods,
            form_bodies,
            json_body,
            prepared_request,
            basic_auth,
            digest_auth,
            timeouts,
        ):
            print(f"\n## {section.__name__}")
            observed.update(section(client))
    for shell in (session, retries):
        print(f"\n## {shell.__name__}")
        observed.update(shell(base_url, transport))
    if async_transport is not None:
        print("\n## async_requests")
        observed.update(asyncio.run(async_requests(base_url, async_transport)))
    return observed


def _cli() -> None:
    parser = argparse.ArgumentParser(description="The requests tutorial, on hookwire.")
    parser.add_argument("base_url", nargs="?", default=os.environ.get("HTTPBIN_URL"))
    parser.add_argument("--transport", default="requests", help="sync transport: requests|httpx")
    parser.add_argument("--async-transport", default="aiohttp", help="aiohttp|httpx|none")
    args = parser.parse_args()
    if not args.base_url:
        parser.error("give the server's URL as an argument or in HTTPBIN_URL")
    async_transport = None if args.async_transport == "none" else args.async_transport
    main(args.base_url.rstrip("/"), transport=args.transport, async_transport=async_transport)


if __name__ == "__main__":
    _cli()
