"""A Responses API request (``POST /v1/responses``) checked, and read as the chat body the
mock's planner (`hookwire.mockserver.openai.reply.plan_chat`) already answers.

So the Responses endpoint has no echo rule of its own: ``input`` becomes chat ``messages``
(a string is one user message, a ``function_call_output`` item a ``tool`` message, so the echo
rule answers with the tool's output), ``instructions`` a leading system message, flat function
tools the chat's nested ones, ``max_output_tokens`` the completion limit, ``text.format`` the
chat's ``response_format`` and ``reasoning.effort: "none"`` thinking off.
"""

from __future__ import annotations

from typing import Any

from hookwire.mockserver.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from hookwire.mockserver.openai.chat import over_limit, validate_sampling
from hookwire.mockserver.openai.errors import ApiError

__all__ = ["chat_body", "history_of_output", "validate_response_request"]

ROLES = ("user", "assistant", "system", "developer")
# items the mock reads (message, the two function-call halves) or passes over
_SKIPPED = ("reasoning", "item_reference")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
SUMMARIES = ("auto", "concise", "detailed")
# tuples, not sets: a request may hold any JSON value there, an unhashable one too
_CHOICES = ("none", "auto", "required")


def _fail(message: str, param: str) -> ApiError:
    return ApiError(400, message, param=param)


def _text_of(content: Any, param: str) -> str | list[dict[str, Any]]:
    """A message's content (a string, or a list of parts of which the text ones are read)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _fail(f"Invalid '{param}': expected a string or an array of content parts.", param)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise _fail(f"Invalid '{param}[{j}]': expected an object with a 'type'.", param)
    return content


def _input_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise _fail("Invalid 'input': expected a string or an array of input items.", "input")
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise _fail(f"Invalid '{where}': expected an object.", where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            role = item.get("role")
            if role not in ROLES:
                allowed = ", ".join(f"'{r}'" for r in ROLES)
                raise _fail(
                    f"Invalid value for '{where}.role': {role!r}. Supported values are: {allowed}.",
                    f"{where}.role",
                )
            if "content" not in item:
                raise _fail(f"Missing required parameter: '{where}.content'.", f"{where}.content")
            messages.append(
                {"role": role, "content": _text_of(item["content"], where + ".content")}
            )
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str) or not item["call_id"]:
                raise _fail(f"Missing required parameter: '{where}.call_id'.", f"{where}.call_id")
            if "output" not in item:
                raise _fail(f"Missing required parameter: '{where}.output'.", f"{where}.output")
            output = _text_of(item["output"], where + ".output")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
        elif kind == "function_call":
            for key in ("call_id", "name", "arguments"):
                if not isinstance(item.get(key), str):
                    raise _fail(f"Missing required parameter: '{where}.{key}'.", f"{where}.{key}")
            if not _calling(messages):  # the calls of one turn are one assistant message
                messages.append({"role": "assistant", "content": None, "tool_calls": []})
            messages[-1]["tool_calls"].append(_chat_call(item))
        elif kind not in _SKIPPED:
            raise _fail(
                f"Invalid value for '{where}.type': {kind!r}. The mock server reads message, "
                "function_call, function_call_output, reasoning and item_reference items.",
                f"{where}.type",
            )
    return messages


def _chat_call(item: dict[str, Any]) -> dict[str, Any]:
    """A ``function_call`` item as a chat tool call."""
    function = {"name": item["name"], "arguments": item["arguments"]}
    return {"id": item["call_id"], "type": "function", "function": function}


def _calling(messages: list[dict[str, Any]]) -> bool:
    return bool(messages) and "tool_calls" in messages[-1]


def _tools(body: dict[str, Any], limits: Limits) -> list[dict[str, Any]]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _fail("Invalid 'tools': expected an array.", "tools")
    if len(tools) > limits.tools:
        raise over_limit(LimitExceeded("'tools'", len(tools), "tools", limits.tools), "tools")
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise _fail(f"Invalid '{where}': expected an object.", where)
        if tool.get("type") != "function":
            raise _fail(
                f"Invalid value for '{where}.type': {tool.get('type')!r}. The mock server "
                "serves function tools only.",
                f"{where}.type",
            )
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(f"Missing required parameter: '{where}.name'.", f"{where}.name")
        params = tool.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise _fail(f"Invalid '{where}.parameters': expected an object.", f"{where}.parameters")
    return tools


def _tool_choice(body: dict[str, Any]) -> Any:
    choice = body.get("tool_choice")
    if choice is None or choice in _CHOICES:
        return choice or "auto"
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = choice.get("name")
        if not isinstance(name, str):
            raise _fail("Missing required parameter: 'tool_choice.name'.", "tool_choice.name")
        return {"type": "function", "function": {"name": name}}
    raise _fail(
        f"Invalid 'tool_choice': {choice!r}; expected 'none', 'auto', 'required' or "
        '{"type": "function", "name": ...}.',
        "tool_choice",
    )


def _response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    text = body.get("text")
    if text is None:
        return None
    if not isinstance(text, dict):
        raise _fail("Invalid 'text': expected an object.", "text")
    fmt = text.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise _fail("Invalid 'text.format': expected an object.", "text.format")
    kind = fmt.get("type")
    if kind == "json_schema":
        for key in ("name", "schema"):
            if key not in fmt:
                raise _fail(f"Missing required parameter: 'text.format.{key}'.", "text.format")
        # the chat planner's shape: the schema nested under json_schema
        return {
            "type": "json_schema",
            "json_schema": {"name": fmt["name"], "schema": fmt["schema"]},
        }
    if kind in ("text", "json_object"):
        return {"type": kind}
    raise _fail(
        f"Invalid value for 'text.format.type': {kind!r}. Supported values are: 'text', "
        "'json_object', 'json_schema'.",
        "text.format.type",
    )


def _reasoning(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("reasoning")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("Invalid 'reasoning': expected an object.", "reasoning")
    effort = value.get("effort")
    if effort is not None and effort not in EFFORTS:
        raise _fail(f"Invalid value for 'reasoning.effort': {effort!r}.", "reasoning.effort")
    summary = value.get("summary")
    if summary is not None and summary not in SUMMARIES:
        raise _fail(f"Invalid value for 'reasoning.summary': {summary!r}.", "reasoning.summary")
    return value


def validate_response_request(body: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> None:
    """400 for a request the Responses API refuses, naming the parameter (the model aside)."""
    if "input" not in body and not body.get("previous_response_id"):
        raise _fail("Missing required parameter: 'input'.", "input")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _fail("Invalid 'instructions': expected a string.", "instructions")
    previous = body.get("previous_response_id")
    if previous is not None and not isinstance(previous, str):
        raise _fail("Invalid 'previous_response_id': expected a string.", "previous_response_id")
    if previous and body.get("conversation") is not None:
        raise _fail(
            "'previous_response_id' cannot be used together with 'conversation'.",
            "previous_response_id",
        )
    if body.get("background") is True and body.get("store") is False:
        raise _fail("A background response must be stored: 'store' cannot be false.", "store")
    limit = body.get("max_output_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _fail(
            f"Invalid 'max_output_tokens': {limit!r}; expected an integer >= 1.",
            "max_output_tokens",
        )
    truncation = body.get("truncation")
    if truncation not in (None, "auto", "disabled"):
        raise _fail(
            f"Invalid value for 'truncation': {truncation!r}. Supported values are: 'auto', "
            "'disabled'.",
            "truncation",
        )
    for key in ("store", "parallel_tool_calls", "background"):
        if not isinstance(body.get(key, True), bool):
            raise _fail(f"Invalid '{key}': expected a boolean.", key)
    metadata = body.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise _fail("Invalid 'metadata': expected an object of strings.", "metadata")
    # the chat checks for temperature, top_p and stream (nothing else of them is in this body)
    validate_sampling({k: body[k] for k in ("temperature", "top_p", "stream") if k in body}, limits)
    _reasoning(body)
    _tools(body, limits)
    _tool_choice(body)
    _response_format(body)
    if "input" in body:
        _input_messages(body["input"])


def chat_body(
    body: dict[str, Any], history: list[dict[str, Any]], limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the chat body `plan_chat` reads, the conversation to keep for a next turn).

    `history` is the stored conversation of ``previous_response_id``; ``instructions`` are
    not carried over from it (the API's rule), so they are not part of what is kept.
    """
    turn = [*history, *(_input_messages(body["input"]) if "input" in body else [])]
    messages = list(turn)
    if body.get("instructions"):
        messages.insert(0, {"role": "system", "content": body["instructions"]})
    chat: dict[str, Any] = {"messages": messages or [{"role": "user", "content": ""}]}
    tools = _tools(body, limits)
    if tools:
        chat["tools"] = [
            {"type": "function", "function": {"name": t["name"], "parameters": t.get("parameters")}}
            for t in tools
        ]
        chat["tool_choice"] = _tool_choice(body)
        if "parallel_tool_calls" in body:
            chat["parallel_tool_calls"] = body["parallel_tool_calls"]
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    fmt = _response_format(body)
    if fmt is not None:
        chat["response_format"] = fmt
    reasoning = _reasoning(body)
    if reasoning is not None and reasoning.get("effort") == "none":
        chat["enable_thinking"] = False
    return chat, turn


def history_of_output(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A response's output items as the chat messages a next turn starts from."""
    messages: list[dict[str, Any]] = []
    for item in output:
        if item["type"] == "message":
            text = "".join(p.get("text", "") for p in item["content"])
            messages.append({"role": "assistant", "content": text})
        elif item["type"] == "function_call":
            if not _calling(messages):
                messages.append({"role": "assistant", "content": None, "tool_calls": []})
            messages[-1]["tool_calls"].append(_chat_call(item))
    return messages
