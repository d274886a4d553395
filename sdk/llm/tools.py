"""Tools from plain Python functions, for ``llm.chat(prompt, tools=[fn])`` and its tool loop.

::

    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict:
        \"\"\"The current weather of a city.

        Args:
            city: The city's name, e.g. "Paris".
            unit: Celsius or Fahrenheit.
        \"\"\"
        return {"city": city, "temp": 21}

    result = llm.chat("What is the weather in Paris?", tools=[get_weather])
    result.content        # the model's final answer, written after it saw the tool's result
    result.tool_runs      # [ToolRun(call=ToolCall(...), arguments={...}, result={...})]

A function becomes a :class:`Tool` whose JSON schema is built from its signature: type hints
(``str``, ``int``, ``float``, ``bool``, ``list[X]``, ``dict[str, X]``, ``X | None``,
``Literal``, ``Enum``, ``TypedDict``, dataclasses, pydantic models, ``Annotated[X, "doc"]``),
defaults (a parameter with one is optional) and the docstring (its first paragraph is the
description; ``Args:`` / ``:param x:`` / numpy ``Parameters`` entries describe parameters).
:func:`tool` makes one explicitly, to rename it or override its description. Raw OpenAI tool
dicts may be mixed in: the loop cannot call them, so a reply that asks for one ends the loop
and is returned as it is, for the caller to handle.

The loop itself (``tool_loop`` / ``atool_loop``) sends the request, runs every call the reply
asks for (in the async API the calls of one reply run concurrently; sync functions there go to
worker threads), sends the results back and repeats, at most ``max_turns`` replies. A tool that
raises, or arguments that are not JSON or do not fit the schema, are reported to the model as
the tool's result (``tool_errors="send"``, the default) so it can correct itself; with
``tool_errors="raise"`` the loop stops with :class:`~hookwire.errors.ToolExecutionError`.
``approve(call)`` (sync or async) and the ``hookwire_approve_tool_call`` hook can veto a call:
the model is told it was refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import json
import re
import time
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hookwire.errors import (
    InvalidRequest,
    MaxTurnsExceeded,
    SDKError,
    ToolExecutionError,
)
from hookwire.llm._jsonschema import first_error
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    Message,
    ToolCall,
    ToolRun,
    Usage,
)

if TYPE_CHECKING:
    from hookwire.llm._stream import AsyncChatStream, ChatStream
    from hookwire.llm.observe import Observer

__all__ = [
    "DEFAULT_MAX_TURNS",
    "Tool",
    "Toolbox",
    "astream_loop",
    "atool_loop",
    "schema_of",
    "stream_loop",
    "tool",
    "tool_loop",
]

#: Replies a tool loop waits for before it gives up (the openai Agents SDK's default too).
DEFAULT_MAX_TURNS = 10
_TOOL_ERRORS = ("send", "raise")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what the OpenAI API accepts as a function name

Approve = Callable[[ToolCall], "bool | Awaitable[bool]"]


# -- a function as a tool ----------------------------------------------------------------------


class Tool:
    """A callable the model may ask for: ``name``, ``description``, JSON-schema ``parameters``.

    ``Tool(fn)`` reads the schema from ``fn``; calling the tool calls ``fn``.
    """

    __slots__ = ("_models", "description", "function", "is_async", "name", "parameters")

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        if not callable(function):
            raise InvalidRequest(f"a tool must be a function, not {type(function).__name__}")
        name = name or str(getattr(function, "__name__", ""))
        if not _NAME.match(name):
            raise InvalidRequest(
                f"tool name {name!r} is not valid: use 1-64 letters, digits, '_' or '-'"
            )
        summary, params_doc = _parse_docstring(inspect.getdoc(function) or "")
        self.function = function
        self.name: str = name
        self.description: str = summary if description is None else description
        self.is_async = inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
            getattr(function, "__call__", None)  # noqa: B004 - a callable object's own method
        )
        self.parameters, self._models = _parameters(function, params_doc, name)

    def to_wire(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        fn: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            fn["description"] = self.description
        return {"type": "function", "function": fn}

    def arguments(self, arguments: Any) -> dict[str, Any]:
        """Decoded arguments as keyword arguments: pydantic/Enum/dataclass values built."""
        kwargs = dict(arguments)
        for key, convert in self._models.items():
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = convert(kwargs[key])
        return kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Tool {self.name}{' async' if self.is_async else ''}>"


def tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """``@tool`` or ``@tool(name=..., description=...)``: the function as a :class:`Tool`."""
    if function is None:
        return lambda f: Tool(f, name=name, description=description)
    return Tool(function, name=name, description=description)


def schema_of(function: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of ``function``'s parameters, as the tool loop sends it."""
    return Tool(function).parameters


_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Returns?|Raises|Yields|Examples?|Notes?)"
    r"\s*:?\s*$"
)
_SPHINX = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE = re.compile(r"^\**(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")  # name (type): text
_NUMPY = re.compile(r"^(\w+)(?:\s+:.*)?$")  # name : type (the text on the lines below)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The description (the first paragraph before any section) and each parameter's text,
    from Google (``Args:``), numpy (``Parameters`` + dashes) or Sphinx (``:param x:``) style."""
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    entry_indent: int | None = None
    current: str | None = None
    for raw in doc.splitlines():
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        sphinx = _SPHINX.match(line)
        if sphinx:
            section, current = "sphinx", sphinx.group(1)
            params[current] = sphinx.group(2).strip()
            continue
        if line.startswith(":"):  # :returns:, :raises: end a Sphinx parameter's text
            section, current = "other", None
            continue
        if indent == 0 and _SECTION.match(line):
            section = "params" if line.startswith(("Arg", "Param", "Keyword")) else "other"
            entry_indent, current = None, None
            continue
        if section is None:
            summary.append(line)
            continue
        if not line or set(line) == {"-"}:  # blank lines, numpy's underline
            continue
        if section == "params":
            if entry_indent is None:
                entry_indent = indent
            if indent <= entry_indent:
                entry = _NUMPY.match(line) or _GOOGLE.match(line)
                if entry:
                    current = entry.group(1)
                    google = entry.re is _GOOGLE
                    params[current] = entry.group(2).strip() if google else ""
                    continue
        if current is not None and section in ("params", "sphinx"):
            params[current] = f"{params[current]} {line}".strip()
    text = "\n".join(summary).strip()
    description = text.split("\n\n")[0].replace("\n", " ").strip() if text else ""
    return description, params


def _parameters(
    function: Callable[..., Any], docs: Mapping[str, str], name: str
) -> tuple[dict[str, Any], dict[str, Callable[[Any], Any]]]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"tool {name!r}: its signature cannot be read ({exc})") from exc
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:  # a forward reference that does not resolve: use what is there
        hints = getattr(function, "__annotations__", {}) or {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    defs: dict[str, Any] = {}
    converters: dict[str, Callable[[Any], Any]] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            kinds: dict[Any, str] = {param.VAR_POSITIONAL: "*args", param.VAR_KEYWORD: "**kwargs"}
            kind = kinds.get(param.kind, "positional-only parameters")
            raise InvalidRequest(
                f"tool {name!r} takes {kind} ({param.name}): a model calls a tool with named "
                "JSON arguments, so every parameter needs a name it can be passed by"
            )
        hint = hints.get(param.name, Any)
        schema = _schema(hint, defs, f"tool {name!r}, parameter {param.name!r}")
        if docs.get(param.name) and "description" not in schema:
            schema = {**schema, "description": docs[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif _jsonable(param.default):
            schema = {**schema, "default": param.default}
        properties[param.name] = schema
        convert = _converter(hint)
        if convert is not None:
            converters[param.name] = convert
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    out["additionalProperties"] = False
    if defs:
        out["$defs"] = defs
    return out, converters


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    bytes: {"type": "string"},
}


def _schema(hint: Any, defs: dict[str, Any], where: str) -> dict[str, Any]:
    """The JSON schema of one type hint; definitions of models go to ``defs``."""
    if hint is Any or hint is inspect.Parameter.empty:
        return {}
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        schema = _schema(args[0], defs, where)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**schema, "description": " ".join(notes)} if notes else schema
    if origin is typing.Literal:
        values = list(args)
        schema = {"enum": values}
        kinds = {type(v) for v in values}
        if len(kinds) == 1 and next(iter(kinds)) in _SCALARS:
            schema["type"] = _SCALARS[next(iter(kinds))]["type"]
        return schema
    if origin in (typing.Union, types.UnionType):
        options = [_schema(a, defs, where) for a in args]
        simple = [o.get("type") for o in options]
        if all(len(o) == 1 and isinstance(t, str) for o, t in zip(options, simple, strict=True)):
            return {"type": simple}
        return {"anyOf": options}
    if origin in (list, set, frozenset, tuple, Sequence) or hint in (list, set, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {"type": "array", "prefixItems": [_schema(a, defs, where) for a in args],
                    "minItems": len(args), "maxItems": len(args)}
        item = _schema(args[0], defs, where) if args else {}
        schema = {"type": "array", "items": item}
        if origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin in (dict, Mapping) or hint is dict:
        value = _schema(args[1], defs, where) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value or True}
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            values = [m.value for m in hint]
            return _schema(typing.Literal[tuple(values)], defs, where)
        if hasattr(hint, "model_json_schema"):  # a pydantic model
            return _model_schema(hint, defs)
        if dataclasses.is_dataclass(hint) or typing.is_typeddict(hint):
            return _class_schema(hint, defs, where)
    raise InvalidRequest(
        f"{where}: the type {hint!r} has no JSON schema; use str, int, float, bool, list, "
        "dict, Literal, an Enum, a TypedDict, a dataclass or a pydantic model"
    )


def _model_schema(model: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A pydantic model's schema, its ``$defs`` hoisted to the root (refs stay valid)."""
    schema = dict(model.model_json_schema())
    defs.update(schema.pop("$defs", {}))
    name = model.__name__
    defs[name] = schema
    return {"$ref": f"#/$defs/{name}"}


def _class_schema(cls: Any, defs: dict[str, Any], where: str) -> dict[str, Any]:
    name = cls.__name__
    if name in defs:
        return {"$ref": f"#/$defs/{name}"}
    defs[name] = {}  # a recursive type refers to itself while it is being built
    hints = typing.get_type_hints(cls, include_extras=True)
    properties = {k: _schema(v, defs, f"{where} ({name}.{k})") for k, v in hints.items()}
    if dataclasses.is_dataclass(cls):
        required = [
            f.name for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
    else:
        required = sorted(getattr(cls, "__required_keys__", hints))
    defs[name] = {"type": "object", "properties": properties, "required": required,
                  "additionalProperties": False}
    return {"$ref": f"#/$defs/{name}"}


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to build the parameter's value from its JSON (None: the JSON is the value)."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else None
    if not isinstance(hint, type):
        return None
    if issubclass(hint, enum.Enum):
        return hint
    if hasattr(hint, "model_validate"):
        return hint.model_validate  # type: ignore[no-any-return]
    if dataclasses.is_dataclass(hint):
        return lambda value: hint(**value)
    return None


# -- the tools of one call ------------------------------------------------------------------


class Toolbox:
    """The ``tools=`` of one call: wire dicts for the request, functions for the loop."""

    __slots__ = ("by_name", "wire")

    def __init__(self, tools: Sequence[Any]) -> None:
        if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
            raise InvalidRequest(
                "tools must be a list of functions, Tool objects or tool dicts, not "
                f"{type(tools).__name__}"
            )
        self.by_name: dict[str, Tool] = {}
        self.wire: list[dict[str, Any]] = []
        for item in tools:
            if isinstance(item, Mapping):
                self.wire.append(dict(item))
                continue
            made = item if isinstance(item, Tool) else Tool(item)
            if made.name in self.by_name:
                raise InvalidRequest(f"two tools are named {made.name!r}")
            self.by_name[made.name] = made
            self.wire.append(made.to_wire())

    @staticmethod
    def wanted(tools: Any) -> bool:
        """Whether ``tools=`` holds a callable (and so asks for the loop)."""
        return (
            isinstance(tools, Sequence)
            and not isinstance(tools, (str, bytes))
            and any(callable(t) and not isinstance(t, Mapping) for t in tools)
        )

    def callable_for(self, calls: Sequence[ToolCall]) -> bool:
        """True unless a call names a raw tool dict (which only the caller can run)."""
        declared = {
            t.get("function", {}).get("name") for t in self.wire if isinstance(t, Mapping)
        }
        return all(c.name in self.by_name or c.name not in declared for c in calls)


# -- one call of a tool -------------------------------------------------------------------------


def _output(value: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _error_text(exc: BaseException) -> str:
    return f"error: {type(exc).__name__}: {exc}"


class _Prepared:
    """A call checked and ready to run, or already settled (bad arguments, refused...)."""

    __slots__ = ("kwargs", "ran", "run", "tool")

    def __init__(self, run: ToolRun, tool: Tool | None, kwargs: dict[str, Any] | None) -> None:
        self.run, self.tool, self.kwargs = run, tool, kwargs
        self.ran = False  # the function was called (its exception is the tool's own)


def _prepare(box: Toolbox, call: ToolCall, turn: int) -> _Prepared:
    run = ToolRun(call, turn=turn)
    found = box.by_name.get(call.name)
    if found is None:
        known = ", ".join(sorted(box.by_name)) or "none"
        run.error = InvalidRequest(f"there is no tool named {call.name!r} (tools: {known})")
        run.output = f"error: there is no tool named {call.name!r}; the tools are: {known}"
        return _Prepared(run, None, None)
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError as exc:
        run.error = InvalidRequest(f"tool {call.name!r}: the arguments are not JSON ({exc})")
        run.output = f"error: the arguments are not valid JSON ({exc}); send a JSON object"
        return _Prepared(run, found, None)
    run.arguments = arguments
    problem = first_error(arguments, found.parameters)
    if problem is not None:
        run.error = InvalidRequest(f"tool {call.name!r}: the arguments do not fit ({problem})")
        run.output = f"error: the arguments do not match the tool's schema: {problem}"
        return _Prepared(run, found, None)
    try:
        kwargs = found.arguments(arguments)
    except Exception as exc:  # a pydantic ValidationError, a bad Enum value...
        run.error = exc
        run.output = f"error: the arguments are not valid: {exc}"
        return _Prepared(run, found, None)
    return _Prepared(run, found, kwargs)


def _refused(prepared: _Prepared) -> None:
    run = prepared.run
    run.approved = False
    run.error = PermissionError(f"the application refused the call of {run.call.name!r}")
    run.output = "error: the application refused this tool call; do not try it again"
    prepared.kwargs = None


def _settle(
    prepared: _Prepared, value: Any, error: BaseException | None, started: float
) -> None:
    run = prepared.run
    prepared.ran = True
    run.seconds = time.perf_counter() - started
    if error is None:
        run.result = value
        run.output = _output(value)
    else:
        run.error = error
        run.output = _error_text(error)


# -- the loop --------------------------------------------------------------------------------


class _Loop:
    """The state shared by the sync and async loops: messages, runs, usage, limits."""

    def __init__(
        self,
        request: ChatRequest,
        box: Toolbox,
        *,
        max_turns: int = DEFAULT_MAX_TURNS,
        tool_errors: str = "send",
        approve: Approve | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.request = request
        self.box = box
        self.max_turns = max_turns
        self.tool_errors = tool_errors
        self.approve = approve
        self.observer = observer
        self.exchange: list[Message] = []
        self.runs: list[ToolRun] = []
        self.usage: Usage | None = None
        self.turn = 0

    def next_request(self) -> ChatRequest:
        self.turn += 1
        return replace(self.request, messages=[*self.request.messages, *self.exchange])

    def take(self, result: ChatResult) -> list[ToolCall] | None:
        """Fold one reply in; the calls to run, or None when the loop is over."""
        self.usage = Usage.total((self.usage, result.usage))
        self.exchange.append(result.message())
        calls = result.tool_calls
        if not calls or not self.box.callable_for(calls):
            return None
        if self.turn >= self.max_turns:
            self.fail(MaxTurnsExceeded(
                f"the model still asked for tools after max_turns={self.max_turns} replies "
                f"({', '.join(c.name for c in calls)}); raise max_turns, or look at "
                ".tool_runs and .messages",
            ), result)
        return list(calls)

    def finish(self, result: ChatResult) -> ChatResult:
        result.tool_runs = list(self.runs)
        result.messages = list(self.exchange)
        result.usage = self.usage
        return result

    def fail(self, error: SDKError, result: ChatResult | None) -> typing.NoReturn:
        error.tool_runs = list(self.runs)  # type: ignore[attr-defined]
        error.messages = list(self.exchange)  # type: ignore[attr-defined]
        error.result = result  # type: ignore[attr-defined]
        raise error

    def vetoed(self, call: ToolCall, found: Tool | None) -> bool:
        """The plugins' verdict (``hookwire_approve_tool_call``): True when one says no."""
        return self.observer is not None and self.observer.vetoed(call, found)

    def record(self, prepared: _Prepared, result: ChatResult) -> None:
        run = prepared.run
        self.runs.append(run)
        self.exchange.append(Message("tool", run.output, tool_call_id=run.call.id))
        if self.observer is not None:
            self.observer.tool_ran(run)
        # tool_errors="raise" is about the tool's own exceptions: arguments that do not decode
        # or fit, and refusals, always go back to the model (it can do better next turn)
        if prepared.ran and run.error is not None and self.tool_errors == "raise":
            error = ToolExecutionError(
                f"tool {run.call.name!r} raised {type(run.error).__name__}: {run.error} "
                '(tool_errors="raise"; the default "send" reports it to the model)',
                run=run,
            )
            error.__cause__ = run.error
            self.fail(error, result)


def check_options(max_turns: Any, tool_errors: Any, approve: Any) -> tuple[int, str]:
    if max_turns is None:
        max_turns = DEFAULT_MAX_TURNS
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
        raise InvalidRequest(f"max_turns must be an integer >= 1, not {max_turns!r}")
    if tool_errors is None:
        tool_errors = "send"
    if tool_errors not in _TOOL_ERRORS:
        raise InvalidRequest(f"tool_errors must be 'send' or 'raise', not {tool_errors!r}")
    if approve is not None and not callable(approve):
        raise InvalidRequest(f"approve must be a function of the tool call, not {approve!r}")
    return max_turns, tool_errors


def _approved_sync(loop: _Loop, prepared: _Prepared) -> bool:
    call = prepared.run.call
    if loop.vetoed(call, prepared.tool):
        return False
    if loop.approve is None:
        return True
    verdict = loop.approve(call)
    if inspect.isawaitable(verdict):
        close = getattr(verdict, "close", None)
        if close is not None:
            close()
        raise InvalidRequest("approve= is an async function: use it with achat()/astream()")
    return bool(verdict)


class _NeedsAsync(InvalidRequest):
    """An async tool in the sync loop while this thread runs an event loop."""


def _call_sync(found: Tool, kwargs: dict[str, Any]) -> Any:
    value = found.function(**kwargs)
    if inspect.isawaitable(value):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_awaited(value))
        close = getattr(value, "close", None)
        if close is not None:
            close()
        raise _NeedsAsync(
            f"tool {found.name!r} is async and this thread runs an event loop: use achat()"
        )
    return value


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


def run_calls(loop: _Loop, calls: list[ToolCall], result: ChatResult) -> None:
    """Run one reply's calls in order (the sync face)."""
    for call in calls:
        prepared = _prepare(loop.box, call, loop.turn)
        if prepared.kwargs is not None and not _approved_sync(loop, prepared):
            _refused(prepared)
        if prepared.kwargs is not None and prepared.tool is not None:
            started = time.perf_counter()
            try:
                value, error = _call_sync(prepared.tool, prepared.kwargs), None
            except _NeedsAsync:
                raise
            except Exception as exc:
                value, error = None, exc
            _settle(prepared, value, error, started)
        loop.record(prepared, result)


async def _approved_async(loop: _Loop, prepared: _Prepared) -> bool:
    call = prepared.run.call
    if loop.vetoed(call, prepared.tool):
        return False
    if loop.approve is None:
        return True
    verdict = loop.approve(call)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


async def _call_async(found: Tool, kwargs: dict[str, Any]) -> Any:
    if found.is_async:
        return await found.function(**kwargs)
    value = await asyncio.to_thread(found.function, **kwargs)
    if inspect.isawaitable(value):  # a plain function that returned a coroutine
        value = await value
    return value


async def arun_calls(loop: _Loop, calls: list[ToolCall], result: ChatResult) -> None:
    """Run one reply's calls concurrently (the async face); results keep the calls' order."""
    prepared = [_prepare(loop.box, call, loop.turn) for call in calls]
    for item in prepared:
        if item.kwargs is not None and not await _approved_async(loop, item):
            _refused(item)

    async def one(item: _Prepared) -> None:
        if item.kwargs is None or item.tool is None:
            return
        started = time.perf_counter()
        try:
            value, error = await _call_async(item.tool, item.kwargs), None
        except Exception as exc:
            value, error = None, exc
        _settle(item, value, error, started)

    await asyncio.gather(*(one(item) for item in prepared))
    for item in prepared:
        loop.record(item, result)


def tool_loop(
    send: Callable[[ChatRequest], ChatResult],
    request: ChatRequest,
    box: Toolbox,
    **settings: Any,
) -> ChatResult:
    """Ask, run the tools asked for, send their results, until a reply asks for none.

    ``settings``: ``max_turns``, ``tool_errors``, ``approve``, ``observer`` (see the module).
    """
    loop = _Loop(request, box, **settings)
    while True:
        result = send(loop.next_request())
        calls = loop.take(result)
        if calls is None:
            return loop.finish(result)
        run_calls(loop, calls, result)


async def atool_loop(
    send: Callable[[ChatRequest], Awaitable[ChatResult]],
    request: ChatRequest,
    box: Toolbox,
    **settings: Any,
) -> ChatResult:
    """The async loop: each reply's calls run concurrently."""
    loop = _Loop(request, box, **settings)
    while True:
        result = await send(loop.next_request())
        calls = loop.take(result)
        if calls is None:
            return loop.finish(result)
        await arun_calls(loop, calls, result)




# -- streaming through the loop -----------------------------------------------------------------


def stream_loop(
    open_stream: Callable[[ChatRequest], ChatStream],
    request: ChatRequest,
    box: Toolbox,
    *,
    provider: str = "",
    model: str = "",
    **settings: Any,
) -> ChatStream:
    """One stream over every turn: each reply's deltas as they arrive, the tools run between
    replies (``stream.tool_runs`` grows as they finish), ``result()`` the final reply."""
    from hookwire.llm._stream import ChatStream

    loop = _Loop(request, box, **settings)
    state: dict[str, Any] = {}

    def deltas() -> Iterator[ChatDelta]:
        while True:
            inner = state["inner"] = open_stream(loop.next_request())
            try:
                yield from inner
                result = inner.result()
            finally:
                inner.close()
            calls = loop.take(result)
            if calls is None:
                state["final"] = loop.finish(result)
                return
            run_calls(loop, calls, result)

    stream = ChatStream(deltas(), provider=provider, model=model)
    stream._set_loop(loop.runs, lambda _: state["final"], lambda: _inner_partial(state))
    return stream


def astream_loop(
    open_stream: Callable[[ChatRequest], AsyncChatStream],
    request: ChatRequest,
    box: Toolbox,
    *,
    provider: str = "",
    model: str = "",
    **settings: Any,
) -> AsyncChatStream:
    """The async :func:`stream_loop`: each reply's calls run concurrently."""
    from hookwire.llm._stream import AsyncChatStream

    loop = _Loop(request, box, **settings)
    state: dict[str, Any] = {}

    async def deltas() -> AsyncIterator[ChatDelta]:
        while True:
            inner = state["inner"] = open_stream(loop.next_request())
            try:
                async for delta in inner:
                    yield delta
                result = await inner.aresult()
            finally:
                await inner.aclose()
            calls = loop.take(result)
            if calls is None:
                state["final"] = loop.finish(result)
                return
            await arun_calls(loop, calls, result)

    stream = AsyncChatStream(deltas(), provider=provider, model=model)
    stream._set_loop(loop.runs, lambda _: state["final"], lambda: _inner_partial(state))
    return stream


def _inner_partial(state: dict[str, Any]) -> ChatResult | None:
    inner = state.get("inner")
    return None if inner is None else inner.partial
