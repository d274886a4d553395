"""The ``transformers`` provider: a local model directory behind the same chat API as the clouds.

::

    llm = hookwire.LLM("transformers", model="/models/Qwen3-4B-Thinking-2507", device="cuda:0")
    result = llm.chat("你好，请介绍一下自己", temperature=0.7, max_tokens=1024, thinking=True)
    result.reasoning, result.content, result.usage

It adapts :class:`~hookwire.plugins.providers._local_engine.LocalEngine` (which does the real model
work)
to the :class:`~hookwire.llm.Provider` interface. Every chat argument is honoured or refused; none
is
dropped (the seed tutorial's helper silently used its own ``temperature`` and ``max_new_tokens``):

=====================  ======================================================================
argument               becomes
=====================  ======================================================================
``system``/``history``  messages rendered by the model's chat template
``thinking``           ``enable_thinking`` of the template (default: on, as Qwen3's)
``max_tokens``         ``max_new_tokens``
``temperature``        sampling (``0``/unset: greedy), ``top_p``, ``seed``, ``stop`` as given
``tools``              passed to the template when it renders tools, else ``InvalidRequest``;
                       ``<tool_call>{...}</tool_call>`` blocks in a reply become ``tool_calls``
                       (in a stream too, as each block completes: the tool loop runs)
``n``                  ``n`` sequences of the prompt generated as one batch (sampled, or n
                       identical greedy ones); each choice has its own reasoning split,
                       tool-call parse, stop cut, finish reason and logprobs; usage counts the
                       prompt once and every choice's tokens. A stream interleaves the
                       choices' deltas (``delta.index``) as their text becomes printable
``logprobs``,          each *content* token (not reasoning, tags or end of turn) with its
``top_logprobs``       log probability under the distribution it was sampled from (after the
                       logits processors, temperature, top_k/top_p: vLLM's
                       ``processed_logprobs``, not its ``raw_logprobs`` default) and the k
                       likeliest alternatives; see ``_local_logprobs``
``timeout``            a ``StreamTimeout``'s first-token/idle/total deadlines, checked at every
                       generated token (generation stops; the timeout error is raised)
``extra_body``         more ``generate`` options: ``top_k``, ``repetition_penalty``,
                       ``logits_processor``, ``stopping_criteria``
``response_format``    ``FeatureNotSupported`` (an ``InvalidRequest``): a JSON/schema reply
                       needs constrained decoding (outlines, xgrammar, lm-format-enforcer),
                       and none of them is installed with ``hookwire[local]``
``thinking_budget``,
``tool_choice``
=====================  ======================================================================

Options of ``hookwire.LLM("transformers", ...)``: ``model`` (a directory), ``device``,
``device_map``, ``dtype`` (default ``"auto"``), ``progress`` (called with each
``LoadProgress``), ``trust_remote_code``, ``max_new_tokens`` (default limit), ``logits_processor``
/ ``stopping_criteria`` (added to every call), ``engine`` (a ready ``LocalEngine``), ``clock``,
``pooling`` (``"mean"``, ``"last"``, ``"cls"``, ``"max"``: how ``embed`` pools; default: what the
model's files imply, see ``_local_embed``).

The model loads on first use, once, under a lock (many threads may share a provider). Async calls
run on worker threads; cancelling the task, closing or abandoning a stream stops generation.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hookwire.errors import FeatureNotSupported, InvalidRequest, TimeoutException
from hookwire.llm import AsyncChatStream, ChatDelta, ChatRequest, ChatResult, ChatStream, Provider
from hookwire.llm.types import (
    Choice,
    EmbeddingResult,
    Message,
    StreamTimeout,
    TokenCount,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from hookwire.plugin import Clock, ProviderRegister, StreamDeadlines, hookimpl

from ._local_options import MAX_N
from ._local_stream import RowStream

if TYPE_CHECKING:
    import os

    from ._local_embed import Pooling
    from ._local_engine import GenerationResult, LoadProgress, LocalEngine, LocalStream

__all__ = ["DeadlineCriterion", "TransformersProvider", "parse_tool_calls"]

#: ``extra_body`` keys that map onto ``LocalEngine.generate`` options.
EXTRA_OPTIONS = frozenset({"top_k", "repetition_penalty", "logits_processor", "stopping_criteria"})
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


class DeadlineCriterion:
    """A stopping criterion that enforces a :class:`StreamTimeout` on a local generation.

    ``generate`` calls it after every token: the first call is the first token. When a deadline
    has passed it stops generation and keeps the timeout error in ``.error`` for the provider
    to raise (a local model has no socket to time out, so the check lives in the loop).
    """

    def __init__(self, timeout: StreamTimeout, clock: Clock) -> None:
        self.clock = clock
        self.deadlines = StreamDeadlines(timeout, clock.monotonic())
        self.error: TimeoutException | None = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        try:
            self.deadlines.progress(self.clock.monotonic(), token=True)
        except TimeoutException as exc:
            self.error = exc
        return torch.full(
            (input_ids.shape[0],), self.error is not None, dtype=torch.bool, device=input_ids.device
        )


def parse_tool_calls(content: str) -> tuple[str, list[ToolCall]]:
    """Qwen's ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, taken out.

    A block that is not such JSON stays in the content, untouched.
    """
    calls: list[ToolCall] = []

    def take(match: re.Match[str]) -> str:
        try:
            data = json.loads(match.group(1))
            name = data["name"]
        except (ValueError, KeyError, TypeError):
            return match.group(0)
        args = data.get("arguments", {})
        text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        calls.append(ToolCall(f"call_{uuid.uuid4().hex[:24]}", str(name), text))
        return ""

    rest = _TOOL_CALL.sub(take, content)
    return (rest.strip() if calls else content), calls


_OPEN_CALL, _CLOSE_CALL = "<tool_call>", "</tool_call>"


class ToolCallCutter:
    """A stream's content with Qwen's ``<tool_call>...</tool_call>`` blocks taken out as tool
    calls, as they complete (text that might start a block is held back until it is known)."""

    def __init__(self) -> None:
        self._buffer: dict[int, str] = {}
        self._after_call: set[int] = set()  # the newlines after a block are the template's
        self.calls: dict[int, int] = {}  # index -> calls made

    def feed(self, delta: ChatDelta) -> list[ChatDelta]:
        if not delta.content:
            return [delta]
        index = delta.index
        text = self._buffer.pop(index, "") + delta.content
        out: list[ChatDelta] = []
        while True:
            if index in self._after_call:
                text = text.lstrip("\n")
                if not text:
                    break
                self._after_call.discard(index)
            start = text.find(_OPEN_CALL)
            if start < 0:
                keep = _held_prefix(text, _OPEN_CALL)
                if len(text) - keep:
                    out.append(ChatDelta(text[: len(text) - keep], index=index,
                                         logprobs=delta.logprobs))
                if keep:
                    self._buffer[index] = text[len(text) - keep:]
                break
            if start:
                out.append(ChatDelta(text[:start], index=index))
            end = text.find(_CLOSE_CALL, start)
            if end < 0:
                self._buffer[index] = text[start:]
                break
            block = text[start : end + len(_CLOSE_CALL)]
            rest, calls = parse_tool_calls(block)
            if calls:
                first = self.calls.get(index, 0)
                self.calls[index] = first + len(calls)
                out.append(ChatDelta(index=index, tool_calls=[
                    ToolCallDelta(first + i, c.id, c.name, c.arguments)
                    for i, c in enumerate(calls)
                ]))
                self._after_call.add(index)
            elif rest:
                out.append(ChatDelta(rest, index=index))
            text = text[end + len(_CLOSE_CALL):]
        return out

    def flush(self, index: int) -> list[ChatDelta]:
        """What is still held for choice ``index`` (an unclosed block stays content)."""
        text = self._buffer.pop(index, "")
        return [ChatDelta(text, index=index)] if text else []

    def finish(self, final: ChatDelta) -> list[ChatDelta]:
        """Before a choice's finish delta: its held text; the reason is tool_calls if it called."""
        out = self.flush(final.index)
        if self.calls.get(final.index):
            final.finish_reason = "tool_calls"
        return [*out, final]


def _held_prefix(text: str, marker: str) -> int:
    """The length of the longest end of ``text`` that begins ``marker``."""
    for k in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0


def _wire_message(message: Message) -> dict[str, Any]:
    """A message as the chat template expects it (text only; tool-call arguments as objects)."""
    if message.content is not None and not isinstance(message.content, str):
        raise InvalidRequest(
            f"the transformers provider takes text messages only; a {message.role} message "
            "has content parts (images, audio...)"
        )
    out: dict[str, Any] = {"role": message.role, "content": message.content or ""}
    if message.name is not None:
        out["name"] = message.name
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.json()}}
            for c in message.tool_calls
        ]  # fmt: skip
    return out


class TransformersProvider(Provider):
    """A local ``transformers`` model (see the module docstring for arguments and options)."""

    name = "transformers"

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        device: str | None = None,
        device_map: str | dict[str, Any] | None = None,
        dtype: str = "auto",
        progress: Callable[[LoadProgress], None] | None = None,
        trust_remote_code: bool = False,
        max_new_tokens: int = 1024,
        logits_processor: Sequence[Any] = (),
        stopping_criteria: Sequence[Any] = (),
        engine: LocalEngine | None = None,
        clock: Clock | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        plugins: Any = None,
        pooling: Pooling | None = None,
    ) -> None:
        if model is None and engine is None:
            raise InvalidRequest(
                "the transformers provider needs model='/path/to/model/dir' (a local directory)"
            )
        if base_url is not None or api_key is not None:
            raise InvalidRequest(
                "the transformers provider runs the model in this process: base_url and "
                "api_key do not apply (use the 'vllm' or 'openai-compatible' provider for a server)"
            )
        if device is not None and device_map is not None:
            raise InvalidRequest("give device or device_map, not both")
        super().__init__(model=str(model) if model is not None else "local")
        self.path = model
        self.load_options: dict[str, Any] = {
            "device": device, "device_map": device_map, "dtype": dtype, "progress": progress,
            "trust_remote_code": trust_remote_code, "default_max_new_tokens": max_new_tokens,
        }  # fmt: skip
        self.logits_processor = list(logits_processor)
        self.stopping_criteria = list(stopping_criteria)
        self.clock = clock or Clock()
        self._engine = engine
        self._lock = threading.Lock()
        self._pooling: Pooling | None = pooling

    # -- the engine, loaded once -----------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> LocalEngine:
        """The engine, loaded on first use (one load even when threads race for it)."""
        engine = self._engine
        if engine is None:
            with self._lock:
                engine = self._engine
                if engine is None:
                    from ._local_engine import LocalEngine

                    assert self.path is not None
                    engine = self._engine = LocalEngine.load(self.path, **self.load_options)
        return engine

    async def aengine(self) -> LocalEngine:
        """The engine, loaded on a worker thread if needed (the event loop never waits)."""
        if self._engine is not None:
            return self._engine
        return await asyncio.to_thread(lambda: self.engine)

    # -- request -> generate keywords ------------------------------------------------------
    def _check(self, req: ChatRequest) -> None:
        """Refuse what a local ``generate`` cannot honour, before any work starts."""
        if req.model is not None and req.model != self.model:
            raise InvalidRequest(
                f"this transformers provider serves {self.model!r} only, not {req.model!r}: "
                "make another hookwire.LLM('transformers', model=...) for another model"
            )
        fmt = req.response_format
        if fmt is not None and fmt.get("type") != "text":
            raise FeatureNotSupported(
                "response_format (structured output) is not supported by the transformers "
                "provider: it needs constrained decoding, and no constrained-decoding library "
                "(outlines, xgrammar, lm-format-enforcer) is installed; ask for JSON in the "
                "prompt, or serve the model with vLLM (LLM('vllm', ...) supports it)",
                feature="response_format",
                provider=self.name,
            )
        if req.thinking_budget is not None:
            raise InvalidRequest("the transformers provider has no thinking_budget; use max_tokens")
        if req.n is not None and req.n > MAX_N:
            raise InvalidRequest(
                f"n={req.n} is more than the transformers provider generates in one batch "
                f"(at most {MAX_N}): make several calls"
            )
        if req.tool_choice not in (None, "auto"):
            raise InvalidRequest(
                f"tool_choice={req.tool_choice!r} is not supported by the transformers provider "
                "(only 'auto': the model decides)"
            )
        if req.extra_headers:
            raise InvalidRequest("extra_headers do not apply to a local model (no HTTP request)")
        unknown = set(req.extra_body) - EXTRA_OPTIONS
        if unknown:
            raise InvalidRequest(
                f"extra_body keys {sorted(unknown)} are not generate options of the transformers "
                f"provider (it takes {sorted(EXTRA_OPTIONS)})"
            )

    def _kwargs(
        self, engine: LocalEngine, req: ChatRequest, deadline: DeadlineCriterion | None
    ) -> dict[str, Any]:
        if req.tools and not _template_has_tools(engine.tokenizer):
            raise InvalidRequest(
                f"the chat template of {self.model!r} does not render tools; tools= cannot be used"
            )
        extra = dict(req.extra_body)
        criteria = [*self.stopping_criteria, *extra.pop("stopping_criteria", ())]
        if deadline is not None:
            criteria.append(deadline)
        return {
            "enable_thinking": req.thinking is not False,
            "tools": req.tools,
            "max_new_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": req.seed,
            "stop": req.stop,
            "logits_processor": [*self.logits_processor, *extra.pop("logits_processor", ())],
            "stopping_criteria": criteria,
            "n": req.n or 1,
            "logprobs": (req.top_logprobs or 0) if req.logprobs else None,
            **extra,
        }

    def _deadline(self, req: ChatRequest) -> DeadlineCriterion | None:
        return None if req.timeout is None else DeadlineCriterion(req.timeout, self.clock)

    @staticmethod
    def _messages(req: ChatRequest) -> list[dict[str, Any]]:
        return [_wire_message(m) for m in req.messages]

    @staticmethod
    def _choice(req: ChatRequest, index: int, out: GenerationResult) -> Choice:
        """One sequence as a choice: its own tool-call parse and finish reason."""
        content, calls = out.content, list[ToolCall]()
        if req.tools:
            content, calls = parse_tool_calls(out.content)
        finish = "tool_calls" if calls else out.finish_reason
        return Choice(index, content, out.reasoning or None, finish, calls, out.logprobs)

    def _result(self, req: ChatRequest, out: GenerationResult) -> ChatResult:
        head, *more = [self._choice(req, i, o) for i, o in enumerate((out, *out.more_choices))]
        usage = out.total_usage
        return ChatResult(
            content=head.content,
            reasoning=head.reasoning,
            finish_reason=head.finish_reason,
            usage=_usage(usage.prompt_tokens, usage.completion_tokens),
            tool_calls=head.tool_calls,
            model=self.model or "",
            raw=out,
            provider=self.name,
            logprobs=head.logprobs,
            more_choices=more,
        )

    # -- sync ------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> ChatResult:
        self._check(req)
        engine = self.engine
        deadline = self._deadline(req)
        out = engine.generate(self._messages(req), **self._kwargs(engine, req, deadline))
        if deadline is not None and deadline.error is not None:
            raise deadline.error
        return self._result(req, out)

    def stream(self, req: ChatRequest) -> ChatStream:
        """Generation starts on first iteration; closing the stream stops it."""
        self._check(req)
        messages = self._messages(req)

        def deltas() -> Iterator[ChatDelta]:
            engine = self.engine
            deadline = self._deadline(req)
            local = engine.stream(messages, **self._kwargs(engine, req, deadline))
            cutter = ToolCallCutter() if req.tools else None
            try:
                for item in local:
                    delta = _delta(item, local)
                    if cutter is None:
                        yield delta
                    else:
                        yield from cutter.feed(delta)
            finally:
                local.close()
            if deadline is not None and deadline.error is not None:
                raise deadline.error
            for final in _finals(local):
                yield from ([final] if cutter is None else cutter.finish(final))

        return ChatStream(deltas(), provider=self.name, model=self.model or "")

    def models(self) -> list[str]:
        return [self.model] if self.model else []

    # -- embeddings and token counts (the async faces: Provider's, on worker threads) -------
    def embed(
        self, texts: list[str], *, model: str | None, dimensions: int | None, batch_size: int
    ) -> EmbeddingResult:
        """Pooled, normalised hidden states of the loaded model (see ``_local_embed``)."""
        from . import _local_embed

        if model is not None and model != self.model:
            raise InvalidRequest(f"this transformers provider serves {self.model!r} only")
        engine = self.engine
        if self._pooling is None:
            self._pooling = _local_embed.pooling_of(engine.model, self.path)
        return _local_embed.embed(
            engine, texts, pooling=self._pooling, dimensions=dimensions,
            batch_size=batch_size, model_name=self.model or "", provider=self.name,
        )  # fmt: skip

    def count_tokens(self, req: ChatRequest) -> TokenCount:
        """Exact: the model's tokenizer over the prompt its chat template renders."""
        from . import _local_embed

        engine = self.engine
        count = _local_embed.count_prompt(
            engine, self._messages(req), enable_thinking=req.thinking is not False,
            tools=req.tools,
        )  # fmt: skip
        window = getattr(engine.model.config, "max_position_embeddings", None)
        return TokenCount(count, True, self.model or "", window)

    def close(self) -> None:
        """Drop the loaded model (its memory is freed once nothing else holds it)."""
        with self._lock:
            self._engine = None

    # -- async -----------------------------------------------------------------------------
    async def achat(self, req: ChatRequest) -> ChatResult:
        """``generate`` on a worker thread; cancelling the awaiting task stops generation."""
        self._check(req)
        engine = await self.aengine()
        deadline = self._deadline(req)
        out = await engine.agenerate(self._messages(req), **self._kwargs(engine, req, deadline))
        if deadline is not None and deadline.error is not None:
            raise deadline.error
        return self._result(req, out)

    def astream(self, req: ChatRequest) -> AsyncChatStream:
        self._check(req)
        messages = self._messages(req)

        async def deltas() -> AsyncIterator[ChatDelta]:
            engine = await self.aengine()
            deadline = self._deadline(req)
            local = engine.astream(messages, **self._kwargs(engine, req, deadline))
            cutter = ToolCallCutter() if req.tools else None
            try:
                async for item in local:
                    delta = _delta(item, local.stream)
                    for piece in [delta] if cutter is None else cutter.feed(delta):
                        yield piece
            finally:
                await local.aclose()
            if deadline is not None and deadline.error is not None:
                raise deadline.error
            for final in _finals(local.stream):
                for piece in [final] if cutter is None else cutter.finish(final):
                    yield piece

        return AsyncChatStream(deltas(), provider=self.name, model=self.model or "")

    async def amodels(self) -> list[str]:
        return self.models()

    async def aclose(self) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"<TransformersProvider model={self.model!r} {state}>"


def _template_has_tools(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = " ".join(str(t) for t in template.values())
    return isinstance(template, str) and "tools" in template


def _usage(prompt: int, completion: int) -> Usage:
    return Usage(prompt, completion, prompt + completion)


def _delta(item: Any, local: LocalStream | None) -> ChatDelta:
    """A stream item as a delta: ``(kind, text)``, or ``(index, (kind, text))`` when ``n > 1``."""
    index = 0
    if isinstance(item[1], tuple):
        index, item = item
    kind, text = item
    if kind == "reasoning":
        return ChatDelta(reasoning=text, index=index)
    if local is not None and local.logprobs:
        return ChatDelta(content=text, index=index, logprobs=local.take_logprobs(index))
    return ChatDelta(content=text, index=index)


def _finals(local: LocalStream | None) -> list[ChatDelta]:
    """Each sequence's finish reason (and the logprobs not handed out yet); usage on the last."""
    if local is None:
        return [ChatDelta(finish_reason="stop")]
    reasons = local.finish_reasons if isinstance(local, RowStream) else [local.finish_reason]
    usage = local.usage
    counts = None if usage is None else _usage(usage.prompt_tokens, usage.completion_tokens)
    last = len(reasons) - 1
    return [
        ChatDelta(
            finish_reason=reason or "stop",
            usage=counts if index == last else None,
            index=index,
            logprobs=local.take_logprobs(index) if local.logprobs else None,
        )
        for index, reason in enumerate(reasons)
    ]


@hookimpl(trylast=True)
def hookwire_register_providers(register: ProviderRegister) -> None:
    register("transformers", TransformersProvider)
