"""Run a local chat model (Qwen3 and other thinking models) with ``transformers``.

``LocalEngine`` is the real model code behind the transformers provider: load a model directory,
render the chat template, call ``model.generate`` with every option the caller gave, and split the
output into reasoning and content at the ``</think>`` token, whose id comes from the tokenizer.

One split rule, the SDK's (``hookwire.reasoning``), for streamed and non-streamed calls alike, so a
stream's joined deltas equal ``generate``'s result:

- the output starts as reasoning when the prompt left ``<think>`` open (Thinking-2507 templates);
  otherwise the first ``<think>`` opens it (Qwen3's hybrid models write it themselves), and text
  before it is content;
- the FIRST ``</think>`` ends reasoning; everything after it is content, later tags included (as
  in vLLM; a stream cannot take back text it already sent as content). Without ``</think>`` the
  reasoning is unfinished and the content is empty (or only the text before ``<think>``);
- reasoning loses its leading and trailing newlines, content after ``</think>`` its leading
  ones; other newlines are kept, the content's trailing ones too;
- content is cut before the first stop string.

Both find the tags by token id, never in the text: a non-streamed result cuts the ids, and a
stream's streamer writes a private marker (``_OPEN_MARK``/``_CLOSE_MARK``, Unicode noncharacters
no tokenizer decodes to) where a tag id was, and splits at the markers. So a tokenizer whose think
tags are *special* tokens (which ``skip_special_tokens`` would drop from the text) still splits,
and ``</think>`` spelled out of ordinary tokens is text in both paths.

Thread safety: an engine may be shared by many threads. Generations on one engine run one at a
time (a lock around ``model.generate``: one batch, of 1 or of ``n`` sequences of one prompt, and
the memory of one generation); rendering and tokenising take a separate, short lock. Sampling
calls also take a process-wide lock while they seed and draw from torch's global RNG, so
``seed=`` reproduces the same text even when other threads, or other engines, sample at the
same moment.

Importing this module imports neither torch nor transformers; ``load`` and the first generation do.

    >>> engine = LocalEngine.load("/models/Qwen3-4B-Thinking-2507")     # doctest: +SKIP
    >>> result = engine.generate([{"role": "user", "content": "你好"}], temperature=0.6)
    >>> result.reasoning, result.content, result.finish_reason, result.usage
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from hookwire.errors import InvalidRequest
from hookwire.llm.types import TokenLogprob
from hookwire.reasoning import ReasoningSplitter, Segment, assemble_split

from ._local_load import LoadProgress, ModelLoadError, load_pretrained
from ._local_options import GenerateOptions, validate_messages
from ._local_stream import (
    AsyncLocalStream,
    FinishReason,
    GenerationError,
    GenerationJob,
    LocalStream,
    RowStream,
    Usage,
)
from ._local_text import cut_at_stop

if TYPE_CHECKING:
    import os

__all__ = [
    "AsyncLocalStream",
    "GenerationError",
    "GenerationResult",
    "LoadProgress",
    "LocalEngine",
    "LocalStream",
    "ModelLoadError",
    "RowStream",
    "Usage",
]

#: Held while a sampling generation seeds and draws from torch's process-global RNG.
_RNG_LOCK = threading.Lock()

_ENGINE_OPTIONS = frozenset({"default_max_new_tokens", "stream_timeout", "join_timeout"})

THINK_START = "<think>"
THINK_END = "</think>"
#: What the streamer writes for a ``<think>``/``</think>`` token id (see the module docstring).
_OPEN_MARK = "\ufdd0think\ufdd1"
_CLOSE_MARK = "\ufdd0/think\ufdd1"


@dataclass(frozen=True)
class GenerationResult:
    """One completed generation.

    ``raw_text`` is the whole completion decoded with ``skip_special_tokens=True`` (so it still
    holds ``</think>``, and any text past a stop string); ``reasoning`` and ``content`` are the
    split by the rule in the module docstring, content cut before the first stop string.
    """

    reasoning: str
    content: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    raw_text: str
    #: The content tokens' log probabilities (``logprobs=``), None when not asked for.
    logprobs: list[TokenLogprob] | None = None
    #: Sequences 2 to n of an ``n > 1`` call, each a result of its own (this one is the first).
    more_choices: tuple[GenerationResult, ...] = ()

    @property
    def usage(self) -> Usage:
        """This sequence's counts (``n > 1``: :attr:`total_usage` counts every sequence)."""
        return Usage(self.prompt_tokens, self.completion_tokens)

    @property
    def total_usage(self) -> Usage:
        """The prompt once, and the completion tokens of every sequence."""
        more = sum(c.completion_tokens for c in self.more_choices)
        return Usage(self.prompt_tokens, self.completion_tokens + more)


@dataclass
class _Call:
    """Everything one generation needs, prepared before any thread starts."""

    inputs: dict[str, Any]
    prompt_len: int
    reasoning_open: bool
    options: GenerateOptions
    kwargs: dict[str, Any]
    cancel: Any
    stop: Any
    recorder: Any = None


class LocalEngine:
    """A loaded model and tokenizer, and the calls that generate with them.

    Build one with ``LocalEngine.load(path)``, or wrap objects you loaded yourself with
    ``LocalEngine(model, tokenizer)``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        default_max_new_tokens: int = 1024,
        stream_timeout: float | None = 300.0,
        join_timeout: float = 10.0,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.default_max_new_tokens = default_max_new_tokens
        self.stream_timeout = stream_timeout
        self.join_timeout = join_timeout
        self.think_start_id = _token_id(tokenizer, THINK_START)
        self.think_end_id = _token_id(tokenizer, THINK_END)
        self.eos_token_ids = _eos_ids(model, tokenizer)
        self._model_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()
        self._token_table: Any = None

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike[str],
        *,
        device: str | None = None,
        device_map: str | dict[str, Any] | None = None,
        dtype: str = "auto",
        progress: Callable[[LoadProgress], None] | None = None,
        trust_remote_code: bool = False,
        **engine_options: Any,
    ) -> LocalEngine:
        """Load a model directory (or a model already in the local Hugging Face cache).

        ``device`` moves the whole model (None: ``cuda`` when available, else ``cpu``);
        ``device_map`` is passed to ``from_pretrained`` instead (give one or the other). Nothing is
        ever downloaded: ``local_files_only=True``.
        """
        unknown = set(engine_options) - _ENGINE_OPTIONS
        if unknown:  # refuse before spending minutes loading weights
            raise InvalidRequest(f"unknown LocalEngine option(s): {sorted(unknown)}")
        model, tokenizer = load_pretrained(
            model_path,
            device=device,
            device_map=device_map,
            dtype=dtype,
            progress=progress,
            trust_remote_code=trust_remote_code,
        )
        return cls(model, tokenizer, **engine_options)

    @property
    def device(self) -> Any:
        return self.model.device

    # ---------------------------------------------------------------- prompts

    def render_prompt(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        enable_thinking: bool = True,
        tools: list[dict[str, Any]] | None = None,
    ) -> str:
        """The chat template applied to ``messages``, ending with the assistant's turn."""
        checked = validate_messages(messages)
        with self._tokenizer_lock:
            try:
                text = self.tokenizer.apply_chat_template(
                    checked,
                    tools=tools,
                    tokenize=False,
                    add_generation_prompt=True,
                    enable_thinking=enable_thinking,
                )
            except Exception as exc:  # jinja's TemplateError, raise_exception(), missing template
                raise InvalidRequest(f"the chat template rejected the messages: {exc}") from exc
        return str(text)

    @staticmethod
    def prompt_opens_reasoning(prompt: str) -> bool:
        """True when the prompt ends inside ``<think>``: the output then starts as reasoning."""
        return prompt.rstrip().endswith(THINK_START)

    # ---------------------------------------------------------------- generation

    def generate(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        enable_thinking: bool = True,
        tools: list[dict[str, Any]] | None = None,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        logits_processor: Iterable[Any] | None = None,
        stopping_criteria: Iterable[Any] | None = None,
        n: int = 1,
        logprobs: int | None = None,
    ) -> GenerationResult:
        """Generate a complete answer and split it into reasoning and content.

        ``n`` sequences are generated as one batch (the result is the first, ``more_choices``
        the others); ``logprobs=k`` records each content token's log probability with its
        ``k`` likeliest alternatives (``_local_logprobs``).
        """
        call = self._prepare(
            messages, enable_thinking, tools, logits_processor, stopping_criteria,
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            repetition_penalty=repetition_penalty, seed=seed, stop=stop, n=n, logprobs=logprobs,
        )  # fmt: skip
        return self._result(call, self._run(call))

    def stream(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        enable_thinking: bool = True,
        tools: list[dict[str, Any]] | None = None,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        logits_processor: Iterable[Any] | None = None,
        stopping_criteria: Iterable[Any] | None = None,
        n: int = 1,
        logprobs: int | None = None,
    ) -> LocalStream:
        """Start generating on a worker thread; iterate the result for ``(kind, text)`` deltas.

        With ``logprobs=k`` the stream's ``take_logprobs()`` hands out the content tokens'
        entries as they are generated. ``n > 1`` returns a :class:`RowStream` instead, whose
        items are ``(index, (kind, text))``: the ``n`` sequences of one batch, interleaved as
        their text becomes printable.
        """
        from transformers import TextIteratorStreamer

        call = self._prepare(
            messages, enable_thinking, tools, logits_processor, stopping_criteria,
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            repetition_penalty=repetition_penalty, seed=seed, stop=stop, n=n, logprobs=logprobs,
        )  # fmt: skip
        if call.options.n > 1:
            return self._stream_rows(call)
        marks = {self.think_start_id: _OPEN_MARK, self.think_end_id: _CLOSE_MARK}
        streamer = _tag_streamer(TextIteratorStreamer)(
            self.tokenizer,
            {i: mark for i, mark in marks.items() if i is not None},
            skip_prompt=True,
            skip_special_tokens=True,
            timeout=self.stream_timeout,
        )
        job = GenerationJob(cancel=call.cancel.event)

        def work() -> None:
            try:
                job.output_ids = self._run(call, streamer=streamer)[0]
            except BaseException as exc:
                job.error = exc
                streamer.on_finalized_text("", stream_end=True)  # wake the reader

        job.thread = threading.Thread(target=work, name="hookwire-local-generate", daemon=True)
        job.thread.start()
        return LocalStream(
            source=streamer,
            job=job,
            splitter=_MarkSplitter(
                started_in_reasoning=call.reasoning_open,
                thinking=self._splits(call.reasoning_open),
                open_tag=_OPEN_MARK,
                close_tag=_CLOSE_MARK,
            ),
            stops=list(call.options.stop),
            summarize=lambda ids: (self._finish_reason(call, ids), self._usage(call, ids)),
            join_timeout=self.join_timeout,
            recorder=call.recorder,
        )

    def _stream_rows(self, call: _Call) -> RowStream:
        """``n`` sequences streamed: one tag streamer per row, all feeding one queue."""
        from transformers import TextIteratorStreamer

        rows = call.options.n
        shared: queue.Queue[tuple[int, str | None]] = queue.Queue()
        marks = {self.think_start_id: _OPEN_MARK, self.think_end_id: _CLOSE_MARK}
        row_class = _row_streamer(_tag_streamer(TextIteratorStreamer))
        streamers = [
            row_class(
                self.tokenizer,
                {i: mark for i, mark in marks.items() if i is not None},
                skip_prompt=True,
                skip_special_tokens=True,
                timeout=self.stream_timeout,
                row=row,
                shared=shared,
            )
            for row in range(rows)
        ]
        fan = _FanOut(streamers, self.eos_token_ids, call.stop)
        job = GenerationJob(cancel=call.cancel.event)

        def work() -> None:
            try:
                job.output_rows = self._run(call, streamer=fan)
                job.output_ids = job.output_rows[0]
            except BaseException as exc:
                job.error = exc
            finally:
                fan.end()  # every row ended, whatever happened (wakes the reader)

        job.thread = threading.Thread(target=work, name="hookwire-local-generate", daemon=True)
        job.thread.start()

        def summarize(all_rows: list[list[int]]) -> list[tuple[FinishReason | None, Usage]]:
            return [
                (self._finish_reason(call, ids, index), self._usage(call, ids))
                for index, ids in enumerate(all_rows)
            ]

        return RowStream(
            source=_drain(shared, self.stream_timeout),
            job=job,
            splitters=[
                _MarkSplitter(
                    started_in_reasoning=call.reasoning_open,
                    thinking=self._splits(call.reasoning_open),
                    open_tag=_OPEN_MARK,
                    close_tag=_CLOSE_MARK,
                )
                for _ in range(rows)
            ],
            stops=list(call.options.stop),
            summarize_rows=summarize,
            join_timeout=self.join_timeout,
            recorder=call.recorder,
        )

    async def agenerate(
        self,
        messages: Sequence[dict[str, Any]],
        **options: Any,
    ) -> GenerationResult:
        """``generate`` on a worker thread; cancelling the task stops the generation.

        Takes the same keyword options as ``generate``.
        """
        call = await asyncio.to_thread(self._prepare_from, messages, options)
        task = asyncio.ensure_future(asyncio.to_thread(self._run, call))
        task.add_done_callback(_retrieve)
        try:
            rows = await asyncio.shield(task)
        except asyncio.CancelledError:
            call.cancel.event.set()
            await asyncio.wait({task}, timeout=self.join_timeout)
            raise
        return self._result(call, rows)

    def astream(self, messages: Sequence[dict[str, Any]], **options: Any) -> AsyncLocalStream:
        """An async iterator of ``(kind, text)`` deltas; same keyword options as ``stream``.

        Nothing starts until the first ``__anext__``; use ``async with`` (or ``aclose()``) to
        stop early. Cancelling the consuming task stops the generation.
        """
        return AsyncLocalStream(lambda: self.stream(messages, **options))

    # ---------------------------------------------------------------- internals

    def _prepare_from(self, messages: Sequence[dict[str, Any]], options: dict[str, Any]) -> _Call:
        options = dict(options)
        return self._prepare(
            messages,
            options.pop("enable_thinking", True),
            options.pop("tools", None),
            options.pop("logits_processor", None),
            options.pop("stopping_criteria", None),
            **options,
        )

    def _prepare(
        self,
        messages: Sequence[dict[str, Any]],
        enable_thinking: bool,
        tools: list[dict[str, Any]] | None,
        logits_processor: Iterable[Any] | None,
        stopping_criteria: Iterable[Any] | None,
        **sampling: Any,
    ) -> _Call:
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from ._local_criteria import CancelCriterion, StopStringCriterion

        try:
            options = GenerateOptions.build(
                default_max_new_tokens=self.default_max_new_tokens, **sampling
            )
        except TypeError as exc:  # an unknown keyword from agenerate/astream's **options
            raise InvalidRequest(f"unknown generation option: {exc}") from exc
        prompt = self.render_prompt(messages, enable_thinking=enable_thinking, tools=tools)
        with self._tokenizer_lock:
            encoded = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        inputs = {key: value.to(self.model.device) for key, value in encoded.items()}
        if options.n > 1:  # one batch of n rows (greedy too: transformers refuses greedy n > 1)
            inputs = {key: value.repeat(options.n, 1) for key, value in inputs.items()}
        prompt_len = int(inputs["input_ids"].shape[1])
        # Without a </think> token the output can never be split, so it is all content.
        reasoning_open = self.prompt_opens_reasoning(prompt) and self.think_end_id is not None
        cancel = CancelCriterion(threading.Event())
        criteria = [*_callables("stopping_criteria", stopping_criteria), cancel]
        stop = None
        if options.stop:
            stop = StopStringCriterion(
                self.tokenizer, options.stop, prompt_len=prompt_len, in_reasoning=reasoning_open,
                think_start_id=self.think_start_id, think_end_id=self.think_end_id,
                rows=options.n,
            )  # fmt: skip
            criteria.append(stop)
        recorder = None
        if options.logprobs is not None:
            recorder = self._recorder(options.logprobs, options.n, reasoning_open, stop)
            criteria.append(recorder)
        kwargs = {
            **options.generate_kwargs(),
            "logits_processor": LogitsProcessorList(
                _callables("logits_processor", logits_processor)
            ),
            "stopping_criteria": StoppingCriteriaList(criteria),
        }
        if recorder is not None:
            kwargs.update(output_scores=True, return_dict_in_generate=True)
        if getattr(self.model.generation_config, "pad_token_id", None) is None:
            kwargs["pad_token_id"] = next(iter(self.eos_token_ids), None)
        return _Call(inputs, prompt_len, reasoning_open, options, kwargs, cancel, stop, recorder)

    def _recorder(self, top: int, rows: int, reasoning_open: bool, stop: Any) -> Any:
        from ._local_logprobs import ContentTracker, LogprobRecorder, TokenTable

        table = self._token_table
        if table is None:
            table = self._token_table = TokenTable(self.tokenizer)
        trackers = [
            ContentTracker(
                splits=self._splits(reasoning_open),
                reasoning_open=reasoning_open,
                think_start_id=self.think_start_id,
                think_end_id=self.think_end_id,
                special=table.special,
            )
            for _ in range(rows)
        ]
        return LogprobRecorder(table, top, trackers, eos_ids=self.eos_token_ids, stop=stop)

    def _run(self, call: _Call, streamer: Any = None) -> list[list[int]]:
        """Call ``model.generate`` under the engine lock; return each sequence's token ids."""
        import torch

        with self._model_lock:
            if call.cancel.event.is_set():  # cancelled while waiting for the lock
                call.cancel.fired = True
                if streamer is not None:
                    streamer.end()
                return [[] for _ in range(call.options.n)]
            rng = _RNG_LOCK if (call.options.sampling or call.options.seed is not None) else None
            if rng is not None:
                rng.acquire()
            try:
                if call.options.seed is not None:
                    torch.manual_seed(call.options.seed)
                with torch.inference_mode():
                    out = self.model.generate(**call.inputs, **call.kwargs, streamer=streamer)
            except Exception as exc:
                raise GenerationError(f"local generation failed: {exc!r}") from exc
            finally:
                if rng is not None:
                    rng.release()
        sequences = out.sequences if call.recorder is not None else out
        rows = [[int(t) for t in row] for row in sequences[:, call.prompt_len :].tolist()]
        if len(rows) == 1:
            return rows
        return [self._trim(call, index, row) for index, row in enumerate(rows)]

    def _trim(self, call: _Call, index: int, ids: list[int]) -> list[int]:
        """A batch row without the padding after its end (its EOS, or its stop string)."""
        end = len(ids)
        stop_end = call.stop.ends[index] if call.stop is not None else None
        if stop_end is not None:
            end = min(end, stop_end - call.prompt_len)
        for pos, token in enumerate(ids[:end]):
            if token in self.eos_token_ids:
                return ids[: pos + 1]
        return ids[:end]

    def _result(self, call: _Call, rows: list[list[int]]) -> GenerationResult:
        first, *more = [self._one(call, index, ids) for index, ids in enumerate(rows)]
        if more:
            first = replace(first, more_choices=tuple(more))
        return first

    def _one(self, call: _Call, index: int, ids: list[int]) -> GenerationResult:
        def decode(part: list[int]) -> str:
            return str(self.tokenizer.decode(part, skip_special_tokens=True))

        prefix, reasoning_ids, rest = self._split_ids(ids, call.reasoning_open)
        reasoning, content = assemble_split(decode(prefix), decode(reasoning_ids), decode(rest))
        content, _ = cut_at_stop(content, call.options.stop)
        recorder = call.recorder
        return GenerationResult(
            reasoning=reasoning,
            content=content,
            finish_reason=self._finish_reason(call, ids, index) or "stop",
            prompt_tokens=call.prompt_len,
            completion_tokens=len(ids),
            raw_text=decode(ids),
            logprobs=None if recorder is None else recorder.content_of(index, len(ids)),
        )

    def _splits(self, reasoning_open: bool) -> bool:
        """Whether outputs can hold reasoning at all: the tokenizer must have the tag tokens.

        Without a ``</think>`` token nothing can end reasoning; without a ``<think>`` token only a
        prompt that left the block open can start it. Otherwise all of the output is content.
        """
        if self.think_end_id is None:
            return False
        return reasoning_open or self.think_start_id is not None

    def _split_ids(
        self, ids: list[int], reasoning_open: bool
    ) -> tuple[list[int], list[int], list[int]]:
        """``(prefix, reasoning, rest)``: ``ids`` cut at the tag token ids, by the module's rule.

        ``prefix`` is content before the first ``<think>`` (empty when the prompt opened the
        block), ``rest`` the content after the first ``</think>`` (empty when it never came).
        """
        if not self._splits(reasoning_open):
            return ids, [], []
        prefix: list[int] = []
        body = ids
        if not reasoning_open:
            if self.think_start_id not in ids:
                return ids, [], []
            opened = ids.index(self.think_start_id)
            prefix, body = ids[:opened], ids[opened + 1 :]
        if self.think_end_id in body:
            closed = body.index(self.think_end_id)
            return prefix, body[:closed], body[closed + 1 :]
        return prefix, body, []

    def _finish_reason(self, call: _Call, ids: list[int], index: int = 0) -> FinishReason | None:
        """``stop`` for EOS or a stop string, ``length`` at the limit; None when cancelled."""
        if call.stop is not None and call.stop.matches[index] is not None:
            return "stop"
        if ids and ids[-1] in self.eos_token_ids:
            return "stop"
        if call.cancel.fired:
            return None
        if len(ids) >= call.options.max_new_tokens:
            return "length"
        return "stop"  # a caller's own stopping criterion ended it

    @staticmethod
    def _usage(call: _Call, ids: list[int]) -> Usage:
        return Usage(call.prompt_len, len(ids))


class _FanOut:
    """A ``generate`` streamer for a batch: each row's new token goes to that row's streamer.

    A row ends after its end-of-turn token or the token that completed its stop string (the
    padding ``generate`` appends to a finished row is never streamed); ``end()`` ends the rest.
    """

    def __init__(self, streamers: list[Any], eos_ids: frozenset[int], stop: Any) -> None:
        self.streamers = streamers
        self.eos_ids = eos_ids
        self.stop = stop
        self.ended = [False] * len(streamers)
        self._lock = threading.Lock()

    def put(self, value: Any) -> None:
        if value.dim() > 1:  # the prompt, once, as (rows, length)
            for row, streamer in enumerate(self.streamers):
                streamer.put(value[row : row + 1])
            return
        for row, token in enumerate(value.tolist()):
            if self.ended[row]:
                continue
            self.streamers[row].put(value[row : row + 1])
            matched = self.stop is not None and self.stop.matches[row] is not None
            if int(token) in self.eos_ids or matched:
                self._end_row(row)

    def _end_row(self, row: int) -> None:
        with self._lock:
            if self.ended[row]:
                return
            self.ended[row] = True
        self.streamers[row].end()

    def end(self) -> None:
        for row in range(len(self.streamers)):
            self._end_row(row)


_ROW_STREAMERS: dict[Any, Any] = {}


def _row_streamer(base: Any) -> Any:
    """``base`` (a tag streamer) writing ``(row, text)`` to a queue shared by every row, and
    ``(row, None)`` when the row ends."""
    if base in _ROW_STREAMERS:
        return _ROW_STREAMERS[base]

    class RowStreamer(base):  # type: ignore[misc]
        def __init__(self, *args: Any, row: int, shared: queue.Queue[Any], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._row = row
            self._shared = shared

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                self._shared.put((self._row, text))
            if stream_end:
                self._shared.put((self._row, None))

    _ROW_STREAMERS[base] = RowStreamer
    return RowStreamer


def _drain(shared: queue.Queue[Any], timeout: float | None) -> Iterator[Any]:
    """The shared queue's items; ``queue.Empty`` when none comes within ``timeout``."""
    while True:
        yield shared.get(timeout=timeout)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark an abandoned task's exception as seen, so asyncio does not log it at exit."""
    if not task.cancelled():
        task.exception()


class _MarkSplitter(ReasoningSplitter):
    """The SDK's splitter on the streamer's markers; a marker it does not consume (a tag after
    the first ``</think>``, which is content) is given back as the tag's own text."""

    _TEXT = ((_OPEN_MARK, THINK_START), (_CLOSE_MARK, THINK_END))

    def feed(self, text: str) -> list[Segment]:
        return [self._restore(s) for s in super().feed(text)]

    def flush(self) -> list[Segment]:
        return [self._restore(s) for s in super().flush()]

    def _restore(self, segment: Segment) -> Segment:
        text = segment.text
        if "\ufdd0" in text:
            for mark, tag in self._TEXT:
                text = text.replace(mark, tag)
        return Segment(segment.kind, text)


_STREAMERS: dict[Any, Any] = {}


def _tag_streamer(base: Any) -> Any:
    """``base`` (transformers' ``TextIteratorStreamer``) taught to write a marker for each tag id.

    Text before a tag is flushed first, so the marker lands exactly where the token was; every
    other id goes through ``base`` unchanged (its decoding, its printable-text rules).
    """
    if base in _STREAMERS:
        return _STREAMERS[base]

    class TagStreamer(base):  # type: ignore[misc]
        token_cache: list[int]  # the base's own state (transformers' TextStreamer)
        print_len: int

        def __init__(self, tokenizer: Any, marks: dict[int, str], **kwargs: Any) -> None:
            super().__init__(tokenizer, **kwargs)
            self._marks = marks

        def put(self, value: Any) -> None:
            if self.skip_prompt and self.next_tokens_are_prompt:
                super().put(value)
                return
            flat = value.reshape(-1)
            if not any(int(i) in self._marks for i in flat.tolist()):
                super().put(value)
                return
            for index, token in enumerate(flat.tolist()):
                mark = self._marks.get(int(token))
                if mark is None:
                    super().put(flat[index : index + 1])
                    continue
                self._flush_cache()
                self.on_finalized_text(mark)

        def _flush_cache(self) -> None:
            cache = self.token_cache
            if cache:
                text: str = self.tokenizer.decode(cache, **self.decode_kwargs)
                printable = text[self.print_len :]
                self.token_cache = []
                self.print_len = 0
                if printable:
                    self.on_finalized_text(printable)

    _STREAMERS[base] = TagStreamer
    return TagStreamer


def _token_id(tokenizer: Any, token: str) -> int | None:
    """The id of ``token`` when the vocabulary has it as one token, else None."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or tokenizer.convert_ids_to_tokens(token_id) != token:
        return None
    return int(token_id)


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    ids = [*ids, tokenizer.eos_token_id]
    return frozenset(int(i) for i in ids if i is not None)


def _callables(name: str, items: Iterable[Any] | None) -> list[Any]:
    if items is None:
        return []
    found = list(items)
    for item in found:
        if not callable(item):
            raise InvalidRequest(f"{name} must hold callables, got {type(item).__name__}")
    return found
