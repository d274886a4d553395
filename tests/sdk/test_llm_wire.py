"""The OpenAI wire format as pure functions: bodies, completions, chunks, errors (no server)."""

from __future__ import annotations

import json
import pickle

import pytest

from hookwire.errors import (
    APIAuthenticationError,
    BadRequestError,
    DecodingError,
    InternalServerError,
    InvalidRequest,
    NotFoundError,
    ProtocolError,
    RateLimitError,
    StreamErrorEvent,
)
from hookwire.llm import ChatDelta, ChatRequest, Message
from hookwire.llm._openai_wire import ChunkParser, build_body, error_from_body, parse_completion
from hookwire.llm._request import build_request
from hookwire.llm._stream import Accumulator


def sse(*payloads: object, done: bool = True) -> bytes:
    out = b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads)
    return out + (b"data: [DONE]\n\n" if done else b"")


def chunk(delta: dict, finish: str | None = None, index: int = 0) -> dict:
    return {"id": "c1", "model": "m", "choices": [
        {"index": index, "delta": delta, "finish_reason": finish}]}


def feed_all(parser: ChunkParser, data: bytes, size: int) -> list[ChatDelta]:
    out: list[ChatDelta] = []
    for i in range(0, len(data), size):
        out += parser.feed(data[i : i + size])
    return out + parser.flush()


def joined(deltas: list[ChatDelta], field: str) -> str:
    return "".join(getattr(d, field) for d in deltas)


# -- request bodies --------------------------------------------------------------------------

def test_body_carries_every_argument_and_system_first() -> None:
    req = build_request(
        "hi", system="be brief", history=[{"role": "user", "content": "a"},
                                          {"role": "assistant", "content": "b"}],
        temperature=0.5, top_p=0.9, max_tokens=7, stop=["x"], seed=3,
        tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="f",
        response_format="json", extra_body={"top_k": 5, "temperature": 0.1},
    )
    body = build_body(req, "m", {"enable_thinking": False})
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "be brief"
    assert body["messages"][-1] == {"role": "user", "content": "hi"}
    assert body["top_p"] == 0.9 and body["max_tokens"] == 7 and body["seed"] == 3
    assert body["stop"] == ["x"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert body["response_format"] == {"type": "json_object"}
    assert body["enable_thinking"] is False and body["top_k"] == 5
    assert body["temperature"] == 0.1  # extra_body wins, as in the openai client
    assert "stream" not in body


def test_stream_body_asks_for_usage() -> None:
    body = build_body(build_request("hi", stream=True), "m")
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_unset_arguments_are_not_sent() -> None:
    assert set(build_body(build_request("hi"), "m")) == {"model", "messages"}


def test_tool_messages_round_trip_to_wire() -> None:
    msg = Message.of({"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
    assert msg.to_wire()["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}
    tool = Message.of({"role": "tool", "tool_call_id": "call_1", "content": "42"})
    assert tool.to_wire() == {"role": "tool", "content": "42", "tool_call_id": "call_1"}


# -- completions -----------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_completion_reads_either_reasoning_field(field: str) -> None:
    data = {"model": "m", "choices": [{"message": {"content": "A", field: "R"},
                                       "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5,
                      "completion_tokens_details": {"reasoning_tokens": 1}}}
    result = parse_completion(data, provider="p")
    assert (result.content, result.reasoning, result.finish_reason) == ("A", "R", "stop")
    assert result.usage is not None and result.usage.reasoning_tokens == 1
    assert result.raw is data and str(result) == "A"


def test_completion_splits_inline_think_and_handles_template_opened_block() -> None:
    msg = {"content": "<think>\nhmm\n</think>\n\nAnswer"}
    result = parse_completion({"choices": [{"message": msg}]}, provider="p")
    assert (result.reasoning, result.content) == ("hmm", "Answer")
    opened = {"choices": [{"message": {"content": "hmm</think>Answer"}}]}
    result = parse_completion(opened, provider="p", started_in_reasoning=True)
    assert (result.reasoning, result.content) == ("hmm", "Answer")
    off = parse_completion({"choices": [{"message": msg}]}, provider="p", inline=False)
    assert off.reasoning is None and off.content == msg["content"]


def test_completion_tool_calls_parse() -> None:
    msg = {"content": None, "tool_calls": [{"id": "c", "type": "function", "function": {
        "name": "get", "arguments": '{"city": "Paris"}'}}]}
    result = parse_completion({"choices": [{"message": msg, "finish_reason": "tool_calls"}]},
                              provider="p")
    assert result.content == "" and result.tool_calls[0].json() == {"city": "Paris"}


def test_completion_without_choices_is_a_decoding_error() -> None:
    with pytest.raises(DecodingError, match="choices"):
        parse_completion({"object": "chat.completion"}, provider="p")


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "cls"), [
    (400, BadRequestError), (401, APIAuthenticationError), (404, NotFoundError),
    (429, RateLimitError), (503, InternalServerError)])
def test_error_bodies_map_to_typed_errors(status: int, cls: type) -> None:
    body = {"error": {"message": "nope", "type": "t", "param": "model", "code": "c"}}
    err = error_from_body(status, json.dumps(body).encode(), retry_after=2.0)
    assert type(err) is cls
    assert (err.code, err.type, err.param) == ("c", "t", "model")
    assert "nope" in str(err)
    if cls is RateLimitError:
        assert err.retry_after == 2.0
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls and again.code == "c"


def test_vllm_int_code_and_plain_text_errors() -> None:
    err = error_from_body(400, b'{"error": {"message": "bad", "type": "BadRequestError", '
                                b'"param": null, "code": 400}}')
    assert err.code == 400 and err.type == "BadRequestError"
    text = error_from_body(502, b"<html>bad gateway</html>")
    assert isinstance(text, InternalServerError) and "bad gateway" in str(text)


def test_error_message_never_echoes_the_key() -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-SECRET-123"}}'
    err = error_from_body(401, body, secrets=("sk-SECRET-123",))
    assert "sk-SECRET-123" not in str(err) and "[REDACTED]" in str(err)


# -- stream chunks ---------------------------------------------------------------------------

THINKING = sse(
    chunk({"role": "assistant", "content": ""}),
    chunk({"reasoning_content": "Let me"}), chunk({"reasoning_content": " think"}),
    chunk({"content": "Hello"}), chunk({"content": " world"}),
    chunk({}, "stop"),
    {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 4,
                                          "total_tokens": 5}},
)


@pytest.mark.parametrize("size", [1, 3, 17, 4096])
def test_chunks_keep_content_and_reasoning_apart_at_any_split(size: int) -> None:
    parser = ChunkParser()
    deltas = feed_all(parser, THINKING, size)
    assert joined(deltas, "content") == "Hello world"
    assert joined(deltas, "reasoning") == "Let me think"
    assert all(not (d.content and d.reasoning) for d in deltas)
    assert [d.finish_reason for d in deltas if d.finish_reason] == ["stop"]
    usage = [d.usage for d in deltas if d.usage]
    assert len(usage) == 1 and usage[0].total_tokens == 5
    assert parser.done and parser.events == 8


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_inline_think_tags_split_across_chunks(size: int) -> None:
    pieces = ["<thi", "nk>\nI reason", "</th", "ink>\n\nThe answer"]
    data = sse(*[chunk({"content": p}) for p in pieces], chunk({}, "stop"))
    deltas = feed_all(ChunkParser(), data, size)
    assert joined(deltas, "reasoning") == "I reason"
    assert joined(deltas, "content") == "The answer"


def test_plain_text_before_a_split_tag_stays_content() -> None:
    pieces = ["Sure. ", "a < b, ", "<thi", "nk>r</think>", "done"]
    data = sse(*[chunk({"content": p}) for p in pieces], chunk({}, "stop"))
    deltas = feed_all(ChunkParser(), data, 4096)
    assert joined(deltas, "content") == "Sure. a < b, done" and joined(deltas, "reasoning") == "r"


def test_template_opened_think_block_in_stream() -> None:
    data = sse(chunk({"content": "deep "}), chunk({"content": "thought</think>"}),
               chunk({"content": "Result"}), chunk({}, "stop"))
    deltas = feed_all(ChunkParser(started_in_reasoning=True), data, 7)
    assert joined(deltas, "reasoning") == "deep thought"
    assert joined(deltas, "content") == "Result"


def test_unclosed_think_is_reasoning_and_inline_off_keeps_tags() -> None:
    data = sse(chunk({"content": "<think>still going"}), chunk({}, "length"))
    deltas = feed_all(ChunkParser(), data, 4096)
    assert joined(deltas, "reasoning") == "still going" and joined(deltas, "content") == ""
    raw = feed_all(ChunkParser(inline=False), data, 4096)
    assert joined(raw, "content") == "<think>still going"


def test_server_side_reasoning_disables_inline_splitting() -> None:
    data = sse(chunk({"reasoning": "r"}), chunk({"content": "use <think> tags"}),
               chunk({}, "stop"))
    deltas = feed_all(ChunkParser(), data, 4096)
    assert joined(deltas, "content") == "use <think> tags" and joined(deltas, "reasoning") == "r"


def test_tool_call_fragments_arrive_as_deltas() -> None:
    data = sse(
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                               "function": {"name": "get", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": 1}'}}]}),
        chunk({}, "tool_calls"))
    deltas = feed_all(ChunkParser(), data, 9)
    parts = [t for d in deltas for t in d.tool_calls]
    assert parts[0].id == "call_a" and parts[0].name == "get"
    assert "".join(p.arguments for p in parts) == '{"city": 1}'


def test_interleaved_choices_keep_their_index_and_their_own_reasoning_split() -> None:
    data = sse(
        chunk({"content": "<think>a"}), chunk({"content": "x"}, index=1),
        chunk({"content": "</think>A"}), chunk({"content": "<think>b</th"}, index=1),
        chunk({"content": "ink>B"}, index=1), chunk({}, "stop"), chunk({}, "length", index=1),
    )
    for size in (1, 7, 4096):
        deltas = feed_all(ChunkParser(), data, size)
        by = {i: [d for d in deltas if d.index == i] for i in (0, 1)}
        assert joined(by[0], "content") == "A" and joined(by[0], "reasoning") == "a"
        # choice 1 is split as the same chunks alone would be, not by choice 0's state
        alone = feed_all(ChunkParser(), sse(chunk({"content": "x"}), chunk(
            {"content": "<think>b</th"}), chunk({"content": "ink>B"}), chunk({}, "length")), size)
        for name in ("content", "reasoning"):
            assert joined(by[1], name) == joined(alone, name)
        acc = Accumulator()
        for d in deltas:
            acc.add(d)
        result = acc.result(provider="p", model="m")
        assert [c.index for c in result.choices] == [0, 1]
        assert [c.finish_reason for c in result.choices] == ["stop", "length"]
        assert result.choices[1].content == joined(alone, "content")
        assert result.content == "A" and result.reasoning == "a"


def test_stream_logprobs_are_typed_and_kept_even_when_the_splitter_holds_text() -> None:
    def lp(token: str, value: float) -> dict:
        alt = {"token": token + "?", "logprob": value - 1, "bytes": list(b"?")}
        return {"token": token, "logprob": value, "bytes": list(token.encode()),
                "top_logprobs": [{"token": token, "logprob": value, "bytes": None}, alt]}

    first = chunk({"content": "Hi"})
    first["choices"][0]["logprobs"] = {"content": [lp("Hi", -0.5)]}
    held = chunk({"content": "<"})  # the splitter holds a lone "<": no content delta yet
    held["choices"][0]["logprobs"] = {"content": [lp("<", -2.0)]}
    deltas = feed_all(ChunkParser(), sse(first, held, chunk({}, "stop")), 4096)
    acc = Accumulator()
    for d in deltas:
        acc.add(d)
    result = acc.result(provider="p", model="m")
    assert [t.token for t in result.logprobs or []] == ["Hi", "<"]
    top = result.logprobs[0].top_logprobs
    assert top[0].token == "Hi" and top[1].logprob == -1.5 and top[1].bytes == (63,)
    assert result.content == "Hi<"


def test_completion_parses_every_choice_in_index_order_with_logprobs() -> None:
    def choice(i: int, text: str) -> dict:
        return {"index": i, "finish_reason": "stop", "message": {"role": "assistant",
                "content": text}, "logprobs": {"content": [
                    {"token": text, "logprob": -0.25 * i, "bytes": None, "top_logprobs": []}]}}

    data = {"model": "m", "choices": [choice(1, "<think>r</think>one"), choice(0, "zero")]}
    result = parse_completion(data, provider="p")
    assert result.content == "zero" and [c.content for c in result.choices] == ["zero", "one"]
    assert result.choices[1].reasoning == "r"
    assert result.logprobs is not None and result.logprobs[0].logprob == 0.0
    assert result.choices[1].logprobs[0].logprob == -0.25


def test_body_sends_n_and_logprobs_and_top_logprobs_implies_logprobs() -> None:
    body = build_body(build_request("hi", n=2, top_logprobs=3), "m")
    assert (body["n"], body["logprobs"], body["top_logprobs"]) == (2, True, 3)
    assert "n" not in build_body(build_request("hi"), "m")
    for bad in ({"n": 0}, {"top_logprobs": 21}, {"logprobs": "yes"},
                {"logprobs": False, "top_logprobs": 2}):
        with pytest.raises(InvalidRequest, match=next(iter(bad))):
            build_request("hi", **bad)


def test_malformed_event_names_its_index() -> None:
    data = sse(chunk({"content": "a"}), chunk({"content": "b"}), done=False) + b"data: {x\n\n"
    parser = ChunkParser()
    # The good events sharing the read are delivered first; the error comes on the next call.
    assert "".join(d.content for d in parser.feed(data)) == "ab"
    with pytest.raises(ProtocolError, match="stream event 2 is not valid JSON"):
        parser.flush()


def test_error_event_is_typed() -> None:
    data = sse(chunk({"content": "a"}), {"error": {"message": "overloaded", "code": 500}},
               done=False)
    parser = ChunkParser()
    assert "".join(d.content for d in parser.feed(data)) == "a"
    with pytest.raises(StreamErrorEvent, match="overloaded") as info:
        parser.feed(b"")
    assert info.value.body == {"error": {"message": "overloaded", "code": 500}}
    named = b"event: error\ndata: {\"message\": \"boom\"}\n\n"
    with pytest.raises(StreamErrorEvent, match="boom"):
        ChunkParser().feed(named)


def test_keepalive_comments_produce_nothing_but_are_counted() -> None:
    parser = ChunkParser()
    assert parser.feed(b": keep-alive\n\n: keep-alive\n\n") == []
    assert parser.comments == 2 and parser.events == 0


def test_chat_request_defaults_are_independent() -> None:
    a, b = ChatRequest(messages=[]), ChatRequest(messages=[])
    a.extra_body["x"] = 1
    assert b.extra_body == {}
