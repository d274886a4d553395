"""Structured output: ``response_format=`` as a pydantic model, a schema dict or JSON mode.

Against live servers: the bundled mock (it answers a ``json_schema`` with a schema-valid instance)
in the openai and vllm dialects, for ``.parsed`` and for the body that crossed the socket; and
``_structured_server`` (a stand-in whose replies break the schema on purpose) for the re-ask loop,
since the mock cannot script an invalid first reply.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import hookwire
from hookwire.errors import FeatureNotSupported, InvalidRequest, StructuredOutputError
from hookwire.llm._jsonschema import first_error
from hookwire.llm._structured import output_spec, strict_schema
from tests.sdk import _structured_server

CHAT = "/v1/chat/completions"


class Person(BaseModel):
    name: str
    age: int
    nickname: str | None = None


class Team(BaseModel):
    title: str
    members: list[Person]


SCHEMA = {
    "type": "object",
    "title": "trip plan",
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "days": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["sea", "hills"]}},
    },
    "required": ["city", "days", "tags"],
}


@pytest.fixture(params=["openai-compatible", "vllm"])
def served(request: pytest.FixtureRequest, mock_server_factory: Any) -> Iterator[Any]:
    """(llm, server) for each provider, on a mock of this module's own (clean journal)."""
    dialect = "vllm" if request.param == "vllm" else "openai"
    server = mock_server_factory(dialect=dialect, models=("structured-tests",))
    server.reset()
    llm = hookwire.LLM(request.param, base_url=server.openai_base_url, model="mock-model")
    try:
        yield llm, server
    finally:
        llm.close()


@pytest.fixture
def stand_in() -> Iterator[Any]:
    from hookwire.mockserver.server import LiveServer

    server = LiveServer(app=_structured_server.app).start()  # type: ignore[arg-type]
    _structured_server.BODIES.clear()
    try:
        yield server
    finally:
        server.stop()


def _body(server: Any) -> dict[str, Any]:
    return server.journal.entries(CHAT)[-1].body  # type: ignore[no-any-return]


# -- .parsed against the mock, sync, async and streamed --------------------------------------
def test_a_pydantic_model_gives_an_instance(served: Any) -> None:
    llm, _ = served
    result = llm.chat("who?", response_format=Team)
    assert isinstance(result.parsed, Team)
    assert result.parsed == Team.model_validate_json(result.content)


def test_a_schema_dict_gives_the_decoded_json(served: Any) -> None:
    llm, _ = served
    result = llm.chat("plan a trip", response_format=SCHEMA)
    assert isinstance(result.parsed, dict)
    assert first_error(result.parsed, SCHEMA) is None
    assert set(result.parsed) == {"city", "days", "tags"}


def test_json_mode_and_todays_forms_still_work(served: Any) -> None:
    llm, _ = served
    assert isinstance(llm.chat("x", response_format="json").parsed, dict)
    assert isinstance(llm.chat("x", response_format={"type": "json_object"}).parsed, dict)
    wire = {"type": "json_schema", "json_schema": {"name": "trip", "schema": SCHEMA}}
    assert first_error(llm.chat("x", response_format=wire).parsed, SCHEMA) is None
    plain = llm.chat("x", response_format="text")
    assert plain.parsed is None and plain.content


async def test_async_chat_parses_too(served: Any) -> None:
    llm, _ = served
    try:
        result = await llm.achat("who?", response_format=Person)
        assert isinstance(result.parsed, Person)
        data = await llm.achat("trip", response_format=SCHEMA)
        assert first_error(data.parsed, SCHEMA) is None
    finally:
        await llm.aclose()  # the async client's connections belong to this loop


def test_a_stream_yields_text_then_the_parsed_value(served: Any) -> None:
    llm, _ = served
    with llm.stream("who?", response_format=Person) as stream:
        text = "".join(stream.text())
        result = stream.result()
    assert text == result.content and text.startswith("{")
    assert result.parsed == Person.model_validate_json(text)


async def test_an_async_stream_parses_at_the_end(served: Any) -> None:
    llm, _ = served
    try:
        stream = llm.astream("trip", response_format=SCHEMA)
        pieces = [piece async for piece in stream.atext()]
        result = await stream.aresult()
        assert "".join(pieces) == result.content
        assert first_error(result.parsed, SCHEMA) is None
    finally:
        await llm.aclose()


# -- what was sent -----------------------------------------------------------------------------
def test_the_wire_body_per_provider(served: Any) -> None:
    llm, server = served
    llm.chat("who?", response_format=Person)
    body = _body(server)
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Person" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    # strict mode: closed objects, every property required (nickname stays nullable)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "age", "nickname"]
    if llm.name == "vllm":
        assert body["structured_outputs"] == {"json": schema}
    else:
        assert "structured_outputs" not in body
    llm.chat("x", response_format="json")
    body = _body(server)
    assert body["response_format"] == {"type": "json_object"}
    if llm.name == "vllm":
        assert body["structured_outputs"] == {"json_object": True}


def test_a_schema_dict_is_wrapped_with_a_valid_name(served: Any) -> None:
    llm, server = served
    llm.chat("trip", response_format=SCHEMA)
    inner = _body(server)["response_format"]["json_schema"]
    assert inner["name"] == "trip_plan"  # [a-zA-Z0-9_-]{1,64}: the space is replaced
    assert inner["schema"]["properties"] == SCHEMA["properties"]


def test_vllm_per_call_format_replaces_the_provider_default(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="vllm", models=("structured-tests",))
    server.reset()
    default = {"choice": ["yes", "no"]}
    with hookwire.LLM(
        "vllm", base_url=server.openai_base_url, model="mock-model", structured_outputs=default
    ) as llm:
        llm.chat("plain")
        assert _body(server)["structured_outputs"] == default
        llm.chat("trip", response_format=SCHEMA)
        assert _body(server)["structured_outputs"]["json"]["required"] == SCHEMA["required"]


# -- the re-ask loop ---------------------------------------------------------------------------
def _stand_in_llm(server: Any, script: str) -> hookwire.LLM:
    return hookwire.LLM(
        "openai-compatible", base_url=f"{server.url}/{script}/v1", model="stand-in", retry=0
    )


def test_an_invalid_first_reply_is_re_asked_with_the_error(stand_in: Any) -> None:
    with _stand_in_llm(stand_in, "fix-once") as llm:
        result = llm.chat("who is Ada?", response_format=Person)
    assert result.parsed == Person(name="Ada", age=36)
    assert len(_structured_server.BODIES) == 2
    messages = _structured_server.BODIES[1][1]["messages"]
    assert messages[0] == {"role": "user", "content": "who is Ada?"}
    assert messages[1] == {"role": "assistant", "content": _structured_server.NOT_JSON}
    assert messages[2]["role"] == "user" and "not valid" in messages[2]["content"]
    assert "Invalid JSON" in messages[2]["content"]  # pydantic's own message, passed on


def test_validation_retries_bounds_the_attempts(stand_in: Any) -> None:
    with _stand_in_llm(stand_in, "fix-twice") as llm:
        with pytest.raises(StructuredOutputError):
            llm.chat("who?", response_format=SCHEMA_PERSON)  # default: one re-ask
        assert len(_structured_server.BODIES) == 2
        result = llm.chat("who?", response_format=SCHEMA_PERSON, validation_retries=2)
    assert result.parsed == {"name": "Ada", "age": 36}
    # the schema error of attempt 2 was sent back in attempt 3
    assert "age" in _structured_server.BODIES[-1][1]["messages"][-1]["content"]


SCHEMA_PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


@pytest.mark.parametrize("fmt", [Person, SCHEMA_PERSON], ids=["pydantic", "dict"])
def test_never_valid_raises_with_every_attempt(stand_in: Any, fmt: Any) -> None:
    with _stand_in_llm(stand_in, "never") as llm, pytest.raises(StructuredOutputError) as info:
        llm.chat("who?", response_format=fmt, validation_retries=2)
    attempts = info.value.attempts
    assert [text for text, _ in attempts] == [_structured_server.WRONG] * 3
    assert all("age" in error for _, error in attempts)
    assert len(_structured_server.BODIES) == 3
    again = pickle.loads(pickle.dumps(info.value))
    assert again.attempts == attempts and str(again) == str(info.value)
    assert isinstance(info.value, hookwire.StructuredOutputError)


async def test_the_async_loop_re_asks_too(stand_in: Any) -> None:
    llm = _stand_in_llm(stand_in, "fix-once")
    try:
        result = await llm.achat("who?", response_format=Person)
        assert result.parsed == Person(name="Ada", age=36)
        with pytest.raises(StructuredOutputError) as info:
            await llm.achat("who?", response_format=Person, validation_retries=0)
        assert len(info.value.attempts) == 1
    finally:
        await llm.aclose()


def test_a_stream_that_does_not_validate_fails_typed(stand_in: Any) -> None:
    # the stand-in answers a stream request with a whole completion: the SDK accepts that
    with _stand_in_llm(stand_in, "never") as llm:
        stream = llm.stream("who?", response_format=Person)
        with pytest.raises(StructuredOutputError) as info:
            stream.result()
        assert info.value.attempts[0][0] == _structured_server.WRONG
        with pytest.raises(StructuredOutputError):
            stream.result()  # the failure sticks
    assert len(_structured_server.BODIES) == 1  # a shown stream is never re-asked


# -- bad input and unsupported providers ------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"response_format": Person, "validation_retries": -1}, "validation_retries"),
        ({"response_format": Person, "validation_retries": True}, "validation_retries"),
        ({"response_format": int}, "pydantic model class"),
        ({"response_format": {"type": "json_schema"}}, "json_schema"),
        ({"response_format": 42}, "response_format"),
    ],
)
def test_bad_options_are_refused_before_sending(served: Any, options: Any, word: str) -> None:
    llm, server = served
    with pytest.raises(InvalidRequest, match=word):
        llm.chat("x", **options)
    assert server.journal.entries(CHAT) == []


def test_the_local_provider_refuses_clearly(tiny_engine: Any) -> None:
    with hookwire.LLM("transformers", engine=tiny_engine, model="t") as llm:
        for call in (
            lambda: llm.chat("x", response_format=Person),
            lambda: llm.stream("x", response_format=SCHEMA).result(),
        ):
            with pytest.raises(FeatureNotSupported, match="constrained decoding") as info:
                call()
            assert info.value.feature == "response_format"
            assert info.value.provider == "transformers"


# -- the pieces --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "schema", "error"),
    [
        ({"a": 1}, {"type": "object", "required": ["a", "b"]}, "'b' is a required"),
        ({"a": "x"}, {"properties": {"a": {"type": "integer"}}}, "$.a"),
        ({"a": 1, "z": 2}, {"properties": {"a": {}}, "additionalProperties": False}, "'z'"),
        ([1, "x"], {"type": "array", "items": {"type": "integer"}}, "$[1]"),
        (True, {"type": "integer"}, "not of type"),
        (5, {"type": "integer", "maximum": 4}, "<= 4"),
        ("", {"type": "string", "minLength": 1}, "shorter"),
        ("b", {"enum": ["a"]}, "not one of"),
        (None, {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "anyOf"),
        (
            {"p": {"n": 1}},
            {
                "$defs": {"P": {"properties": {"n": {"type": "string"}}}},
                "properties": {"p": {"$ref": "#/$defs/P"}},
            },
            "$.p.n",
        ),
    ],
)
def test_the_small_validator(value: Any, schema: Any, error: str) -> None:
    found = first_error(value, schema)
    assert found is not None and error in found


def test_the_small_validator_accepts_what_pydantic_emits() -> None:
    schema = strict_schema(Team.model_json_schema())
    good = {"title": "t", "members": [{"name": "a", "age": 1, "nickname": None}]}
    assert first_error(good, schema) is None
    bad = {"title": "t", "members": [{"name": "a", "age": "1", "nickname": None}]}
    assert "$.members[0].age" in str(first_error(bad, schema))


def test_a_json_fence_is_tolerated() -> None:
    spec = output_spec(Person)
    assert spec is not None
    assert spec.parse('```json\n{"name": "a", "age": 2}\n```') == Person(name="a", age=2)
