"""Decide what the mock model says: the echo rule, thinking, tool calls, JSON output, limits.

The echo rule: the reply content is `"Echo: " + T`, where T is the text of the last message
whose role is `user` or `tool` (text parts of a content list joined with a space; "" when
there is none). When that message is a tool result, T is every tool message after the last
assistant turn, joined with "; " in order (the answer to parallel tool calls). A thinking
model also produces `"Thinking about: " + T` as reasoning.

Tools: the mock calls every declared function whose name appears in the last user message
(case-insensitive), in order of first appearance, as parallel calls of one assistant turn;
`parallel_tool_calls: false` keeps the first only. `tool_choice` naming a function calls that
one, `"required"` the first tool, `"none"` none.

Choices (`n`): choice 0 is the reply above; choice i > 0 is its variant numbered k = i + 1,
the number going before the colon: `"Echo (k): " + T`, `"Thinking about (k): " + T`,
`X-Mock-Reply-Tokens` words from `seed + i`, tool calls to the same functions with arguments
alike but ids of their own. A scenario rule's content or reasoning and `response_format` JSON
are the same in every choice.
Precedence for content: scenario rule `content` > `X-Mock-Reply-Tokens` > `response_format`
> echo. Then `stop` truncates at the earliest stop string (finish "stop") and the token limit
truncates reasoning first, then content (finish "length").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.openai import tokens
from hookwire.mockserver.openai.errors import ApiError
from hookwire.mockserver.openai.schema_instance import Budget, SchemaError, instance


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Reply:
    """One choice's planned output."""

    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    # (content, reasoning, tool_calls, count): the limits, the caps and the usage all ask
    _counted: tuple[Any, Any, Any, int] | None = field(default=None, repr=False, compare=False)

    @property
    def completion_tokens(self) -> int:
        memo = self._counted
        content, reasoning, calls = self.content, self.reasoning, self.tool_calls
        if memo is not None and memo[0] is content and memo[1] is reasoning and memo[2] is calls:
            return memo[3]
        total = tokens.count(content or "") + tokens.count(reasoning or "")
        total += sum(tokens.count(c.arguments) for c in calls)
        self._counted = (content, reasoning, calls, total)
        return total

    @property
    def reasoning_tokens(self) -> int:
        return tokens.count(self.reasoning or "")


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def echo_source(messages: list[dict[str, Any]]) -> str:
    for k in range(len(messages) - 1, -1, -1):
        role = messages[k].get("role")
        if role == "user":
            return message_text(messages[k])
        if role == "tool":
            # every tool result of the last assistant turn, in order
            first = k
            while first > 0 and messages[first - 1].get("role") == "tool":
                first -= 1
            return "; ".join(message_text(m) for m in messages[first : k + 1])
    return ""


def thinking_enabled(ctx: RequestContext, model: str, body: dict[str, Any]) -> bool:
    if model not in ctx.dialect.thinking_models:
        return False
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False:
        return False
    return body.get("enable_thinking") is not False


def _json_content(body: dict[str, Any], text: str, budget: Budget) -> str | None:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    kind = fmt.get("type")
    if kind == "json_object":
        return json.dumps({"echo": text}, ensure_ascii=False)
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise ApiError(400, "response_format.json_schema.schema is required", "response_format")
        try:
            return json.dumps(instance(spec["schema"], budget), ensure_ascii=False)
        except SchemaError as exc:
            raise ApiError(400, f"response_format schema: {exc}", "response_format") from None
    if kind not in (None, "text"):
        raise ApiError(400, f"unknown response_format type {kind!r}", "response_format")
    return None


def _tools_to_call(body: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Which declared functions the mock calls: forced by tool_choice, or named by the user."""
    if not body.get("tools"):
        return []
    tools = [
        t for t in body["tools"] if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return []
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        picked = [t for t in tools if t["function"].get("name") == name]
        if not picked:
            raise ApiError(400, f"tool_choice names unknown function {name!r}", "tool_choice")
        return picked
    if choice == "required":
        return tools[:1]
    messages = body.get("messages") or []
    if not messages or messages[-1].get("role") != "user":
        return []  # answer after a tool result instead of calling again
    lowered = text.lower()
    named: list[tuple[int, int, dict[str, Any]]] = []
    for order, tool in enumerate(tools):
        name = str(tool["function"].get("name", "")).lower()
        at = lowered.find(name) if name else -1
        if at >= 0:
            named.append((at, order, tool))
    named.sort(key=lambda found: found[:2])  # first appearance; declaration order breaks ties
    picked = [tool for _, _, tool in named]
    return picked[:1] if body.get("parallel_tool_calls") is False else picked


def _call_id(name: str, args: str, i: int, choice: int = 0) -> str:
    key = f"{i}:{name}:{args}" if choice == 0 else f"{choice}/{i}:{name}:{args}"
    return "call_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _label(word: str, index: int) -> str:
    """`"Echo: "` for choice 0, `"Echo (k): "` (k = index + 1) for the others."""
    return f"{word}: " if index == 0 else f"{word} ({index + 1}): "


def _truncate_at_stop(text: str, stop: Any) -> tuple[str, bool]:
    if not stop:
        return text, False
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((i for s in stops if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def plan_chat(ctx: RequestContext, model: str, body: dict[str, Any], index: int = 0) -> Reply:
    """Choice `index` of a chat reply (0: the echo rule; others: its numbered variant)."""
    rule = ctx.rule
    schema_budget = Budget(ctx.config.limits)  # shared by response_format and every tool call
    text = echo_source(body["messages"])
    reasoning = None
    if rule is not None and rule.reasoning is not None:
        reasoning = rule.reasoning
    elif thinking_enabled(ctx, model, body):
        reasoning = _label("Thinking about", index) + text
    budget = body.get("thinking_budget")
    if reasoning and isinstance(budget, int) and budget >= 0:
        reasoning = tokens.truncate(reasoning, budget)

    calls: list[ToolCall] = []
    if rule is not None and rule.tool_calls is not None:
        calls = [
            ToolCall(_call_id(c["name"], c["arguments"], i, index), c["name"], c["arguments"])
            for i, c in enumerate(rule.tool_calls)
        ]
    else:
        for i, tool in enumerate(_tools_to_call(body, text)):
            fn = tool["function"]
            try:
                schema = fn.get("parameters") or {"type": "object"}
                args = json.dumps(instance(schema, schema_budget))
            except SchemaError as exc:
                raise ApiError(400, f"tool {fn.get('name')!r} parameters: {exc}", "tools") from None
            calls.append(ToolCall(_call_id(fn["name"], args, i, index), fn["name"], args))

    content: str | None
    if rule is not None and rule.content is not None:
        content = rule.content
    elif calls:
        content = None
    elif ctx.reply_tokens is not None:
        content = tokens.generated_words(ctx.reply_tokens, _seed_offset(body) + index)
    else:
        content = _json_content(body, text, schema_budget)
        if content is None:
            content = _label("Echo", index) + text

    reply = Reply(content, reasoning, calls, "tool_calls" if calls else "stop")
    _apply_limits(reply, body)
    if rule is not None and rule.finish_reason is not None:
        reply.finish_reason = rule.finish_reason
    return reply


def _seed_offset(body: dict[str, Any]) -> int:
    seed = body.get("seed")
    return seed if isinstance(seed, int) and seed >= 0 else 0


def _apply_limits(reply: Reply, body: dict[str, Any]) -> None:
    if reply.content:
        reply.content, _ = _truncate_at_stop(reply.content, body.get("stop"))
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if not isinstance(limit, int) or reply.completion_tokens <= limit:
        return
    if reply.reasoning:
        reply.reasoning = tokens.truncate(reply.reasoning, limit)
        limit -= tokens.count(reply.reasoning)
    if reply.content:
        reply.content = tokens.truncate(reply.content, max(limit, 0))
    reply.tool_calls = [] if limit <= 0 else reply.tool_calls
    reply.finish_reason = "length"


def plan_text(
    ctx: RequestContext, model: str, prompt: str, body: dict[str, Any], index: int = 0
) -> Reply:
    """A /v1/completions choice (`index` of the prompt's n, numbered as chat's): raw text,
    reasoning inline as `<think>...</think>`."""
    rule = ctx.rule
    if rule is not None and rule.content is not None:
        text = rule.content
    elif ctx.reply_tokens is not None:
        text = tokens.generated_words(ctx.reply_tokens, _seed_offset(body) + index)
    else:
        text = _label("Echo", index) + prompt
    reasoning = rule.reasoning if rule is not None and rule.reasoning is not None else None
    if reasoning is None and thinking_enabled(ctx, model, body):
        reasoning = _label("Thinking about", index) + prompt
    if reasoning is not None:
        text = f"<think>\n{reasoning}\n</think>\n\n{text}"
    if body.get("echo") is True:
        text = prompt + text
    reply = Reply(text, None)
    _apply_limits(reply, body)
    if rule is not None and rule.finish_reason is not None:
        reply.finish_reason = rule.finish_reason
    return reply
