"""The hot-path shortcuts send exactly what the general code would have sent.

`/get` is rendered by template, chat completions by template, JSON replies skip starlette's
header assembly, and `GET`/`HEAD` of the echo views skip Request/Response altogether. Each is
compared here, byte for byte, with the general path it replaces.
"""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver.app import create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.httpbin import FAST, STATIC
from hookwire.mockserver.httpbin._json import pretty, render_echo
from hookwire.mockserver.openai.chat import render_completion
from hookwire.mockserver.openai.dialects import DIALECTS
from hookwire.mockserver.openai.reply import Reply, ToolCall
from hookwire.mockserver.replies import JSONReply
from hookwire.mockserver.sse import dumps

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
string_map = st.dictionaries(text, text, max_size=4)
query_values = st.one_of(text, st.lists(text, min_size=2, max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(text, query_values, max_size=3), string_map, text, text)
def test_get_template_is_pretty(args, headers, origin, url):
    expected = pretty({"args": args, "headers": headers, "origin": origin, "url": url})
    assert render_echo(args, headers, origin, url) == expected


def _expected_completion(field, base, replies, prompt_tokens):
    """The chat.completion object as a dict: the shape the template must reproduce."""
    choices = []
    for i, r in enumerate(replies):
        message = {"role": "assistant", "content": r.content, "refusal": None}
        if r.reasoning is not None:
            message[field] = r.reasoning
        if r.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in r.tool_calls
            ]
        choices.append(
            {"index": i, "message": message, "logprobs": None, "finish_reason": r.finish_reason}
        )
    completion = sum(r.completion_tokens for r in replies)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "completion_tokens_details": {"reasoning_tokens": sum(r.reasoning_tokens for r in replies)},
    }
    return {**base, "object": "chat.completion", "choices": choices, "usage": usage}


replies = st.builds(
    Reply,
    st.none() | text,
    st.none() | text,
    st.lists(st.builds(ToolCall, text, text, text), max_size=2),
    st.sampled_from(["stop", "length", "tool_calls", "content_filter"]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(DIALECTS)),
    st.lists(replies, min_size=1, max_size=3),
    text,
    st.integers(0, 10**6),
)
def test_chat_template_is_dumps(dialect, items, model, prompt_tokens):
    config = MockConfig(dialect=dialect)
    ctx = RequestContext(config, DIALECTS[dialect], frozenset(), None, None)  # type: ignore[arg-type]
    base = {
        "id": "chatcmpl-x",
        "created": 1_700_000_000,
        "model": model,
        "system_fingerprint": "fp",
    }
    field = DIALECTS[dialect].reasoning_field
    expected = dumps(_expected_completion(field, base, items, prompt_tokens))
    assert render_completion(ctx, base, items, prompt_tokens) == expected


def test_json_reply_sends_what_starlette_would():
    for status, headers in [(200, None), (404, None), (204, None), (503, {"Retry-After": "1"})]:
        ours = JSONReply(b'{"a":1}', status, headers)
        theirs = Response(b'{"a":1}', status, headers=headers, media_type="application/json")
        assert (ours.status_code, ours.raw_headers, ours.body) == (
            theirs.status_code,
            theirs.raw_headers,
            theirs.body,
        )


def _scope(method, path, query=b"", headers=()):
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1:9"), *headers],
        "client": ("127.0.0.1", 5),
        "server": ("127.0.0.1", 9),
    }


def _through_endpoint(scope):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    async def run():
        response = await STATIC[scope["path"]](Request(scope, receive))
        await response(scope, receive, send)

    asyncio.run(run())
    return sent[0]["status"], sent[0]["headers"], sent[1]["body"]


def test_fast_views_match_their_endpoints():
    assert set(FAST) <= set(STATIC) and "/get" in FAST
    cases = [
        (b"", ()),
        (b"a=1&a=2&b=%20x&show_env=1", ((b"x-forwarded-for", b"1.2.3.4"),)),
        (b"", ((b"origin", b"http://o"), (b"user-agent", b"ua"), (b"x_odd", b"\xe9"))),
    ]
    for path in sorted(set(FAST) - {"/uuid"}):
        for query, headers in cases:
            scope = _scope("GET", path, query, headers)
            assert FAST[path](scope) == _through_endpoint(scope), (path, query)
    status, _, body = FAST["/uuid"](_scope("GET", "/uuid"))
    assert status == 200 and len(json.loads(body)["uuid"]) == 36


def test_app_uses_fast_views_for_get_and_head_only():
    app = create_app()
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    for method, status in [("GET", 200), ("HEAD", 200), ("OPTIONS", 200), ("POST", 405)]:
        sent.clear()
        asyncio.run(app(_scope(method, "/get"), receive, send))
        assert sent[0]["status"] == status
        assert app.journal.entries()[-1].status == status
    allow = dict(sent[0]["headers"])[b"allow"]
    assert allow == b"GET, HEAD, OPTIONS"
