"""Structured output: ``response_format=`` as a pydantic model class, a JSON schema or JSON mode.

:func:`output_spec` turns the caller's ``response_format`` into the OpenAI wire dict plus an
:class:`OutputSpec` that parses a reply. :func:`ask` / :func:`aask` send the request, parse the
reply into ``result.parsed`` and, when it does not validate, re-ask with the validation error
appended to the conversation (the instructor idea: a model that slipped usually fixes its reply
once told what was wrong), up to ``validation_retries`` times, then raise
:class:`~hookwire.errors.StructuredOutputError` holding every attempt.

pydantic is never imported here: a model class is recognised by its ``model_json_schema`` and
``model_validate_json`` methods, so ``import hookwire`` stays light and pydantic stays optional.
Dict schemas are checked with ``jsonschema`` when it is installed, else with the small validator
in :mod:`._jsonschema`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from hookwire.errors import InvalidRequest, StructuredOutputError
from hookwire.llm._jsonschema import first_error
from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.types import ChatRequest, ChatResult, Message

__all__ = ["DEFAULT_RETRIES", "OutputSpec", "aask", "ask", "checked", "output_spec", "retries_of"]

#: One re-ask by default: it fixes most slips, and each re-ask is a full paid request.
DEFAULT_RETRIES = 1
_WIRE_TYPES = frozenset({"text", "json_object", "json_schema", "structural_tag"})
_SCHEMA_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_SCHEMA_KEYS = frozenset({"properties", "$ref", "anyOf", "oneOf", "allOf", "items", "enum"})
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.DOTALL)
_MAX_ERROR = 2000  # characters of a validation error sent back to the model


class Invalid(ValueError):
    """A reply did not parse or validate; the message says why (it is sent to the model)."""


@dataclass(slots=True)
class OutputSpec:
    """What a reply must be: JSON, matching ``schema`` or ``model`` (a pydantic model class)."""

    wire: dict[str, Any]
    schema: dict[str, Any] | None = None
    model: Any = None
    retries: int = DEFAULT_RETRIES
    _validator: Any = field(default=None, repr=False)

    def parse(self, text: str) -> Any:
        """The reply as a model instance or decoded JSON; :class:`Invalid` if it is not."""
        match = _FENCE.match(text)  # models often wrap JSON in a ```json fence despite the schema
        if match:
            text = match.group(1)
        if self.model is not None:
            try:
                return self.model.model_validate_json(text)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                raise Invalid(str(exc)) from exc
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise Invalid(f"the reply is not valid JSON ({exc})") from exc
        if self.schema is not None:
            error = self._check(value)
            if error:
                raise Invalid(f"the reply does not match the schema: {error}")
        return value

    def _check(self, value: Any) -> str | None:
        if self._validator is None:
            self._validator = _validator_for(self.schema or {})
        return self._validator(value)  # type: ignore[no-any-return]

    def reask(self, request: ChatRequest, text: str, error: str) -> ChatRequest:
        """``request`` with the bad reply and what was wrong with it appended."""
        note = (
            f"Your reply was not valid: {error[:_MAX_ERROR]}\n"
            "Reply again with only the corrected JSON, nothing else."
        )
        messages = [*request.messages, Message("assistant", text), Message("user", note)]
        return replace(request, messages=messages)

    def apply(self, result: ChatResult, attempts: list[tuple[str, str]]) -> str | None:
        """Set ``result.parsed``; on failure record the attempt and return its error."""
        try:
            result.parsed = self.parse(result.content)
        except Invalid as exc:
            attempts.append((result.content, str(exc)))
            return str(exc)
        return None

    def failure(self, attempts: list[tuple[str, str]]) -> StructuredOutputError:
        what = self.model.__name__ if self.model is not None else "the JSON schema"
        if self.schema is None and self.model is None:
            what = "JSON"
        return StructuredOutputError(
            f"no valid reply for {what} after {len(attempts)} attempt(s); last error: "
            f"{attempts[-1][1][:300]} (every attempt's text and error are in .attempts)",
            attempts=list(attempts),
        )

    def stream_check(self, result: ChatResult) -> None:
        """A stream's end: parse its text into ``result.parsed`` (no re-ask: it was shown)."""
        attempts: list[tuple[str, str]] = []
        if self.apply(result, attempts) is not None:
            raise self.failure(attempts)


def _validator_for(schema: dict[str, Any]) -> Callable[[Any], str | None]:
    try:
        import jsonschema
    except ImportError:
        return lambda value: first_error(value, schema)
    checker = jsonschema.validators.validator_for(schema)(schema)

    def check(value: Any) -> str | None:
        error = jsonschema.exceptions.best_match(checker.iter_errors(value))
        return None if error is None else f"{error.json_path}: {error.message}"

    return check


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and all(
        callable(getattr(value, name, None))
        for name in ("model_json_schema", "model_validate_json")
    )


def _is_schema(value: Mapping[str, Any]) -> bool:
    kind = value.get("type")
    if isinstance(kind, list) or kind in _SCHEMA_TYPES:
        return True
    return kind is None and bool(_SCHEMA_KEYS & value.keys())


def _name(title: Any) -> str:
    """A ``json_schema.name`` OpenAI accepts: ``[a-zA-Z0-9_-]{1,64}``."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", str(title or "response"))[:64] or "response"


def strict_schema(schema: Any) -> Any:
    """A copy made acceptable to strict mode: objects closed, every property required.

    OpenAI's strict mode rejects a schema with an open object or an optional property; pydantic
    emits both. Optional fields keep their ``null`` branch, so the model can still leave them out
    by sending ``null``. Where a schema says ``additionalProperties`` itself, it is left alone.
    """
    out = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        props = node.get("properties")
        if isinstance(props, dict):
            node.setdefault("additionalProperties", False)
            node["required"] = list(props)
            for sub in props.values():
                walk(sub)
        for key in ("items", "prefixItems", "anyOf", "oneOf", "allOf", "additionalProperties"):
            walk(node.get(key))
        for key in ("$defs", "definitions"):
            if isinstance(node.get(key), dict):
                for sub in node[key].values():
                    walk(sub)

    walk(out)
    return out


def _json_schema_wire(schema: Mapping[str, Any], name: Any) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": _name(name), "schema": strict_schema(dict(schema)), "strict": True},
    }


def output_spec(value: Any, retries: int = DEFAULT_RETRIES) -> OutputSpec | None:
    """The spec for a ``response_format`` value, or None; see :func:`_spec`."""
    spec = _spec(value)
    if spec is not None:
        spec.retries = retries
    return spec


def _spec(value: Any) -> OutputSpec | None:
    """The spec for a ``response_format`` value; None when the reply is not parsed.

    ``None``, ``"text"`` and wire dicts of other types (``structural_tag``...) are not parsed;
    a string or dict that is neither a format nor a schema is left for ``build_request`` to
    refuse or pass through, as before structured output existed.
    """
    if _is_model(value):
        try:
            schema = value.model_json_schema()
        except Exception as exc:
            raise InvalidRequest(
                f"response_format={value.__name__}: it gives no JSON schema ({exc})"
            ) from exc
        return OutputSpec(_json_schema_wire(schema, value.__name__), model=value)
    if isinstance(value, type):
        raise InvalidRequest(
            f"response_format takes a pydantic model class, not the class {value.__name__}"
        )
    if value in ("json", "json_object"):
        return OutputSpec({"type": "json_object"})
    if not isinstance(value, Mapping):
        return None
    kind = value.get("type")
    if kind == "json_object":
        return OutputSpec(dict(value))
    if kind == "json_schema":
        inner = value.get("json_schema")
        if not isinstance(inner, Mapping) or not isinstance(inner.get("schema", {}), Mapping):
            raise InvalidRequest(
                "response_format type 'json_schema' needs a 'json_schema' dict with a 'schema'"
            )
        schema = inner.get("schema")
        return OutputSpec(dict(value), schema=dict(schema) if schema is not None else None)
    if kind not in _WIRE_TYPES and _is_schema(value):
        return OutputSpec(_json_schema_wire(value, value.get("title")), schema=dict(value))
    return None


def retries_of(value: Any) -> int:
    if value is None:
        return DEFAULT_RETRIES
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"validation_retries must be an integer >= 0, not {value!r}")
    return value


def ask(send: Callable[[ChatRequest], ChatResult], request: ChatRequest) -> ChatResult:
    """Send, parse, and re-ask with the error up to ``spec.retries`` times."""
    spec: OutputSpec = request.structured
    attempts: list[tuple[str, str]] = []
    for _ in range(spec.retries + 1):
        result = send(request)
        error = spec.apply(result, attempts)
        if error is None:
            return result
        request = spec.reask(request, result.content, error)
    raise spec.failure(attempts)


async def aask(
    send: Callable[[ChatRequest], Awaitable[ChatResult]], request: ChatRequest
) -> ChatResult:
    """The async twin of :func:`ask`."""
    spec: OutputSpec = request.structured
    attempts: list[tuple[str, str]] = []
    for _ in range(spec.retries + 1):
        result = await send(request)
        error = spec.apply(result, attempts)
        if error is None:
            return result
        request = spec.reask(request, result.content, error)
    raise spec.failure(attempts)


S = TypeVar("S", ChatStream, AsyncChatStream)


def checked(stream: S, request: ChatRequest) -> S:
    """``stream``, parsing its text into ``result().parsed`` at the end when there is a schema.

    A stream is not re-asked: its text was already shown to the reader, so a reply that does not
    validate fails the stream with a :class:`~hookwire.errors.StructuredOutputError`.
    """
    if request.structured is not None:
        stream._set_check(request.structured.stream_check)
    return stream
