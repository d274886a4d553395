"""One recorded session, run the same way live and on replay (also by the pytester inner test).

Plain HTTP (an httpbin JSON route and a chunked ndjson stream), a raw SSE chat stream read
chunk by chunk, and the LLM facade's chat and stream against a thinking model: the answer is a
JSON-able dict, so a replay's answer can be compared with ``==``.
"""

from __future__ import annotations

import os
from typing import Any

import hookwire

MODEL = "mock-thinking"
CHAT_PROMPT = "What is 2+2?"
STREAM_PROMPT = "Count to three"
#: The raw stream's body, sent as is by hookwire.Client and by the openai client on replay
RAW_BODY = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Stream raw chunks"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


def run_session(url: str, base_url: str) -> dict[str, Any]:
    key = os.environ["OPENAI_API_KEY"]
    with hookwire.Client(base_url=url) as http:
        echoed = http.get("/get", params={"probe": "cassette"}).json()
        with http.stream("GET", "/stream/3") as r:
            ndjson = [chunk.decode() for chunk in r.iter_raw()]
        with http.stream(
            "POST", base_url + "/chat/completions", json=RAW_BODY,
            headers={"Authorization": f"Bearer {key}"},
        ) as r:
            sse = [chunk.decode() for chunk in r.iter_raw()]
    llm = hookwire.LLM("openai", base_url=base_url, model=MODEL)  # the key from the environment
    try:
        chat = llm.chat(CHAT_PROMPT)
        deltas = [[d.content, d.reasoning] for d in llm.stream(STREAM_PROMPT)]
    finally:
        llm.close()
    return {
        "get": echoed,
        "ndjson": ndjson,
        "sse": sse,
        "chat": [chat.content, chat.reasoning],
        "deltas": deltas,
    }


def pieces(deltas: list[list[str | None]]) -> list[list[str]]:
    """Deltas as (content, reasoning) pairs with None as "", empty pairs dropped."""
    out = [[c or "", r or ""] for c, r in deltas]
    return [pair for pair in out if pair != ["", ""]]
