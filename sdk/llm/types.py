"""The values of the LLM layer: messages, requests, results, stream deltas and stream deadlines.

Every provider speaks these types, whatever its wire format: an HTTP provider turns a
:class:`ChatRequest` into JSON and a response back into a :class:`ChatResult`; a local provider
turns it into a ``generate`` call. Results carry ``raw`` (what the provider really returned) so
nothing a provider sent is lost behind the normalised fields.

The classes use ``__slots__``: a 2,000-token stream builds 2,000 deltas, and slotted objects are
smaller and faster to build.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookwire.errors import DecodingError, InvalidRequest

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "Choice",
    "EmbeddingResult",
    "Message",
    "MessageInput",
    "StreamTimeout",
    "TokenCount",
    "TokenLogprob",
    "ToolCall",
    "ToolCallDelta",
    "ToolRun",
    "Usage",
]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for; ``arguments`` is the JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str

    def json(self) -> Any:
        """The arguments parsed; :class:`~hookwire.errors.DecodingError` naming the tool if
        invalid."""
        try:
            return json.loads(self.arguments or "{}")
        except ValueError as exc:
            raise DecodingError(
                f"tool call {self.name!r} ({self.id}) has arguments that are not JSON ({exc}): "
                f"{self.arguments[:80]!r}"
            ) from exc

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(slots=True)
class Message:
    """One chat message. ``content`` may be a string or a list of content parts (images...)."""

    role: str
    content: Any = ""
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning: str | None = None

    @classmethod
    def of(cls, value: MessageInput) -> Message:
        """Accept a ``Message`` or an OpenAI-style dict; reject anything else by name."""
        if isinstance(value, Message):
            return value
        if not isinstance(value, Mapping):
            raise InvalidRequest(
                f"a message must be a dict with 'role' and 'content' or a Message, "
                f"not {type(value).__name__}"
            )
        role = value.get("role")
        if role not in _ROLES:
            raise InvalidRequest(
                f"message role must be one of {', '.join(sorted(_ROLES))}, not {role!r}"
            )
        calls = value.get("tool_calls")
        return cls(
            role=str(role),
            content=value.get("content", ""),
            name=value.get("name"),
            tool_calls=[_tool_call_of(c) for c in calls] if calls else None,
            tool_call_id=value.get("tool_call_id"),
            reasoning=value.get("reasoning"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The OpenAI message object (reasoning is not sent back: providers reject it)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = [c.to_wire() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


MessageInput = Message | Mapping[str, Any]


def _tool_call_of(value: Any) -> ToolCall:
    if isinstance(value, ToolCall):
        return value
    if isinstance(value, Mapping):
        fn = value.get("function") or {}
        return ToolCall(str(value.get("id", "")), str(fn.get("name", "")), fn.get("arguments", ""))
    raise InvalidRequest(f"a tool call must be a ToolCall or a dict, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported them (``cached_tokens``: prompt tokens served from
    the provider's prompt cache, ``prompt_tokens_details.cached_tokens``)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | None) -> Usage | None:
        if not isinstance(data, Mapping):
            return None
        details = data.get("completion_tokens_details")
        reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
        prompt_details = data.get("prompt_tokens_details")
        cached = (
            prompt_details.get("cached_tokens") if isinstance(prompt_details, Mapping) else None
        )
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        total = data.get("total_tokens")
        return cls(prompt, completion, int(total) if total is not None else prompt + completion,
                   reasoning, int(cached) if isinstance(cached, int) else None)

    def __add__(self, other: Usage) -> Usage:
        """Two calls' counts together (a tool loop's replies, an embedding job's batches)."""
        if not isinstance(other, Usage):
            return NotImplemented

        def both(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            both(self.reasoning_tokens, other.reasoning_tokens),
            both(self.cached_tokens, other.cached_tokens),
        )

    @staticmethod
    def total(usages: Iterable[Usage | None]) -> Usage | None:
        """The sum of the reported counts; None when none was reported."""
        found = [u for u in usages if u is not None]
        return sum(found[1:], found[0]) if found else None


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One generated token's log probability (``logprobs=True``), as the OpenAI spec has it.

    ``top_logprobs`` holds the ``top_logprobs=k`` most likely tokens at that position (each a
    ``TokenLogprob`` without a list of its own), most likely first; ``bytes`` is the token's
    UTF-8 bytes when the provider sent them (a token can be part of a character).
    """

    token: str
    logprob: float
    bytes: tuple[int, ...] | None = None
    top_logprobs: tuple[TokenLogprob, ...] = ()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> TokenLogprob:
        raw_bytes = data.get("bytes")
        top = data.get("top_logprobs") or ()
        return cls(
            str(data.get("token", "")),
            float(data.get("logprob", 0.0)),
            tuple(raw_bytes) if isinstance(raw_bytes, list) else None,
            tuple(cls.from_wire(t) for t in top if isinstance(t, Mapping)),
        )

    @classmethod
    def list_from_wire(cls, data: Any) -> list[TokenLogprob] | None:
        """``choice.logprobs`` (``{"content": [...]}``) as a list; None when it is absent."""
        if not isinstance(data, Mapping):
            return None
        content = data.get("content")
        if not isinstance(content, list):
            return None
        return [cls.from_wire(t) for t in content if isinstance(t, Mapping)]


@dataclass(slots=True)
class Choice:
    """One of the ``n`` replies of a request (``n=3``: three choices, ``index`` 0 to 2).

    A :class:`ChatResult`'s own fields are choice 0's; ``result.choices`` lists every choice.
    """

    index: int
    content: str
    reasoning: str | None = None
    finish_reason: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    logprobs: list[TokenLogprob] | None = None

    def __str__(self) -> str:
        return self.content


@dataclass(slots=True)
class ToolRun:
    """One tool call of an automatic tool loop: what the model asked for and what came of it.

    ``arguments`` is the decoded JSON (``None`` when it did not decode); exactly one of
    ``result`` and ``error`` tells the outcome (``error`` also when the call was refused:
    ``approved`` is then False, or when the arguments did not fit the tool's schema);
    ``output`` is the text sent back to the model; ``turn`` counts model replies from 1.
    """

    call: ToolCall
    arguments: Any = None
    result: Any = None
    error: BaseException | None = None
    output: str = ""
    approved: bool = True
    turn: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class ChatResult:
    """A finished (or, inside a stream error's ``.partial``, an unfinished) reply.

    ``str(result)`` is the content, so ``print(llm.chat("hi"))`` prints the answer.
    """

    content: str
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    model: str = ""
    raw: Any = None
    provider: str = ""
    #: With a schema ``response_format``: the reply as a pydantic model instance or decoded JSON.
    parsed: Any = None
    #: Choice 0's token log probabilities (``logprobs=True``); ``None`` when not asked for.
    logprobs: list[TokenLogprob] | None = None
    #: Choices 1 to n-1 of an ``n > 1`` request (``choices`` lists them all, choice 0 first).
    more_choices: list[Choice] = field(default_factory=list, repr=False)
    #: With Python functions in ``tools=``: every tool call the loop ran, in order.
    tool_runs: list[ToolRun] = field(default_factory=list)
    #: With a tool loop: the whole exchange after the prompt (assistant turns and tool results),
    #: ready to extend a history.
    messages: list[Message] = field(default_factory=list)
    #: What the call cost (a ``hookwire.llm.cost.Cost``) when a price table prices its model.
    cost: Any = None
    #: True when the reply came from the response cache (``LLM(cache=...)``), not the provider.
    cached: bool = False

    def __str__(self) -> str:
        return self.content

    @property
    def choices(self) -> list[Choice]:
        """Every choice, choice 0 (this result's own fields) first: one unless ``n > 1``."""
        first = Choice(0, self.content, self.reasoning, self.finish_reason,
                       list(self.tool_calls), self.logprobs)
        return [first, *self.more_choices]

    def message(self) -> Message:
        """The assistant message to append to a history."""
        return Message(
            "assistant",
            self.content,
            tool_calls=list(self.tool_calls) or None,
            reasoning=self.reasoning,
        )


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call in a stream: ``index`` ties the fragments of one call together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class ChatDelta:
    """One step of a stream: new content and reasoning text kept apart, never mixed.

    Most deltas carry only ``content`` or ``reasoning``; the last ones carry ``finish_reason``
    and ``usage``. ``raw`` is the provider's chunk as parsed (a dict for HTTP providers).
    ``index`` is the choice the delta belongs to (``n > 1``: choices interleave as they
    arrive); ``logprobs`` the :class:`TokenLogprob` of its tokens when asked for.
    """

    __slots__ = (
        "content", "finish_reason", "index", "logprobs", "raw", "reasoning", "tool_calls", "usage"
    )

    def __init__(
        self,
        content: str = "",
        reasoning: str = "",
        tool_calls: Sequence[ToolCallDelta] = (),
        finish_reason: str | None = None,
        usage: Usage | None = None,
        raw: Any = None,
        index: int = 0,
        logprobs: Sequence[TokenLogprob] | None = None,
    ) -> None:
        self.index = index
        self.logprobs = logprobs
        self.content = content
        self.reasoning = reasoning
        self.tool_calls = tool_calls
        self.finish_reason = finish_reason
        self.usage = usage
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChatDelta):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__ if n != "raw")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{n}={getattr(self, n)!r}"
            for n in ("index", "content", "reasoning", "tool_calls", "finish_reason", "usage",
                      "logprobs")
            if getattr(self, n)
        )
        return f"ChatDelta({fields})"


@dataclass(frozen=True, slots=True)
class StreamTimeout:
    """StreamDeadlines of a streamed reply, in seconds (``None``: no limit).

    =================  ====================================================================
    ``connect``        to open the connection (the transport's connect timeout)
    ``first_token``    from sending the request to the first content/reasoning/tool chunk
    ``idle``           between two chunks; ``: keep-alive`` comments do NOT reset it
    ``total``          the whole call, retries before the first chunk included
    =================  ====================================================================

    Comments do not count as progress: a server that sends only keep-alives for longer than
    ``idle`` is stuck, and the caller should hear about it (the same goes for ``first_token``).
    """

    connect: float | None = 5.0
    first_token: float | None = 600.0
    idle: float | None = 60.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "first_token", "idle", "total"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise InvalidRequest(f"StreamTimeout.{name} must be > 0 seconds, got {value!r}")


@dataclass(slots=True)
class ChatRequest:
    """The normalised request a provider receives (``LLM.chat`` builds it from its arguments).

    ``thinking=None`` means "the provider's default"; ``extra_body`` is merged into the
    provider's body last, so it can add or override any field; ``extra_headers`` go on the
    HTTP request (HTTP providers only).
    """

    messages: list[Message]
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    thinking: bool | None = None
    thinking_budget: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    extra_headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    timeout: StreamTimeout | None = None
    #: The OutputSpec a schema ``response_format`` made (``LLM`` parses and re-asks with it;
    #: providers read only ``response_format``, the wire dict).
    structured: Any = None
    #: With Python functions in ``tools=``: the loop's settings (``LLM`` runs the loop; providers
    #: see only ``tools``, the wire dicts).
    loop: Any = None


@dataclass(slots=True)
class EmbeddingResult:
    """The vectors of ``llm.embed(texts)``, in input order: index it, iterate it, ``len()`` it.

    ``usage`` sums every batch's (``None`` when the provider reported none); ``raw`` holds each
    batch's response body as received.
    """

    vectors: list[list[float]]
    model: str = ""
    usage: Usage | None = None
    provider: str = ""
    raw: list[Any] = field(default_factory=list, repr=False)
    #: What the call cost (a ``hookwire.llm.cost.Cost``) when a price table prices its model.
    cost: Any = None

    def __len__(self) -> int:
        return len(self.vectors)

    def __getitem__(self, index: int) -> list[float]:
        return self.vectors[index]

    def __iter__(self) -> Iterator[list[float]]:
        return iter(self.vectors)


@dataclass(frozen=True, slots=True)
class TokenCount:
    """``llm.count_tokens(...)``: ``count`` tokens, ``exact`` when the model's own tokenizer
    (with the chat template applied) counted them, an estimate otherwise (see ``estimate_tokens``).
    ``max_context`` is the model's window when the provider said it (vLLM's ``max_model_len``).
    """

    count: int
    exact: bool
    model: str = ""
    max_context: int | None = None

    def __int__(self) -> int:
        return self.count


#: The estimate's rule of thumb (OpenAI's "about 4 characters a token" for English), plus a few
#: tokens a message for the role markers a chat template wraps each message in.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_tokens(messages: Sequence[Message]) -> int:
    """ceil(characters / 4) of every message's text, plus 4 a message: an estimate, no more."""
    chars = 0
    for m in messages:
        content = m.content
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):  # content parts: only the text parts are counted
            chars += sum(len(str(p.get("text", ""))) for p in content if isinstance(p, Mapping))
        chars += len(m.reasoning or "")
    return -(-chars // CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages)
