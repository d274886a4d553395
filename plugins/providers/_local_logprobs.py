"""Token log probabilities of a local generation (``logprobs=True`` / ``top_logprobs=k``).

Which distribution: the one each token was **sampled from**, i.e. ``log_softmax`` of the scores
``generate`` drew the token with, after every logits processor (the caller's, repetition
penalty) and, when sampling, after temperature, ``top_k`` and ``top_p``. That is vLLM's
``--logprobs-mode processed_logprobs``; vLLM's default, ``raw_logprobs``, reports the model's
own distribution before any of that. With greedy decoding and no processors the two agree. A
token the processing ruled out (``-inf``) is reported as ``-9999.0``, as vLLM's OpenAI server
clamps it.

How: ``generate(output_scores=True, return_dict_in_generate=True)`` hands every step's
processed scores to the stopping criteria; :class:`LogprobRecorder` (one of them) turns the
step into a :class:`~hookwire.llm.types.TokenLogprob` per sequence right away and then frees
that step's score tensor, so a long generation holds O(k) numbers per token, not a vocabulary
row. The no-logprobs path never builds a recorder and never asks ``generate`` for scores.

Which tokens: the reply's **content** tokens only, like OpenAI's ``logprobs.content``: not the
reasoning between ``<think>`` and ``</think>``, not the tags, not special tokens (end of turn),
not the newlines the content loses after ``</think>``. :class:`ContentTracker` decides this
token by token, by the engine's split rule, so a stream and a non-streamed call report the same
list. With ``stop=``, the tokens that spelled the stop string are still reported (they were
generated; the content text is cut before them), and a reply parsed into ``tool_calls`` keeps
the entries of the tokens that wrote the ``<tool_call>`` block.

``token`` is the token decoded alone; ``bytes`` its own bytes (from the byte-level vocabulary,
so a token holding part of a character has the raw part; UTF-8 of ``token`` for other
tokenizers).

This module imports ``torch`` and ``transformers``; the engine imports it lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import torch
from transformers import StoppingCriteria

from hookwire.llm.types import TokenLogprob

__all__ = ["FLOOR", "ContentTracker", "LogprobRecorder", "TokenTable"]

#: What a token with no probability at all (``-inf``) is reported as (vLLM's clamp).
FLOOR = -9999.0


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-to-unicode table, inverted: the vocabulary's characters back to bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]  # fmt: skip
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


class TokenTable:
    """Each token id's text (decoded alone) and bytes, worked out once per id."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[str, tuple[int, ...]]] = {}
        self._bytes_of = _byte_decoder()
        decoder = getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder", None)
        self.byte_level = type(decoder).__name__ == "ByteLevel"
        self.special = frozenset(int(i) for i in getattr(tokenizer, "all_special_ids", ()) or ())

    def __call__(self, token_id: int) -> tuple[str, tuple[int, ...]]:
        found = self._cache.get(token_id)
        if found is None:
            with self._lock:
                text = str(self.tokenizer.decode([token_id], skip_special_tokens=False))
                raw = self._raw(token_id)
            found = self._cache[token_id] = (text, raw if raw is not None else
                                             tuple(text.encode("utf-8")))  # fmt: skip
        return found

    def _raw(self, token_id: int) -> tuple[int, ...] | None:
        if not self.byte_level or token_id in self.special:
            return None
        piece = self.tokenizer.convert_ids_to_tokens(token_id)
        if not isinstance(piece, str) or not all(c in self._bytes_of for c in piece):
            return None  # an added token (``</think>``): its text is its bytes
        return tuple(self._bytes_of[c] for c in piece)

    def entry(self, token_id: int, logprob: float) -> TokenLogprob:
        text, raw = self(token_id)
        return TokenLogprob(text, logprob, raw)


class ContentTracker:
    """Says, token by token, whether a generated token belongs to the reply's content.

    The engine's split rule, by token id: the output starts in reasoning when the prompt left
    ``<think>`` open, else the first ``<think>`` opens it (text before it is content); the first
    ``</think>`` closes it, and content follows, less its leading newlines. Special tokens are
    never content. ``splits=False`` (a tokenizer without the tags): everything is content.
    """

    __slots__ = ("_end", "_leading", "_special", "_start", "_state")

    def __init__(
        self,
        *,
        splits: bool,
        reasoning_open: bool,
        think_start_id: int | None,
        think_end_id: int | None,
        special: Iterable[int],
    ) -> None:
        self._state = "prefix" if not splits else ("reasoning" if reasoning_open else "before")
        self._start, self._end = think_start_id, think_end_id
        self._special = frozenset(special)
        self._leading = False

    def feed(self, token_id: int, text: str) -> bool:
        state = self._state
        if state == "before" and token_id == self._start:
            self._state = "reasoning"
            return False
        if state == "reasoning":
            if token_id == self._end:
                self._state, self._leading = "after", True
            return False
        if token_id in self._special:
            return False
        if self._leading:
            if text and not text.strip("\n"):
                return False  # a newline the content loses after </think>
            self._leading = False
        return True


class LogprobRecorder(StoppingCriteria):
    """A stopping criterion that never stops: it records each step's chosen-token logprob.

    ``generate`` calls stopping criteria after sampling, with ``input_ids`` holding the chosen
    token last and, under ``output_scores=True``, the tuple of processed scores so far. Each row
    (sequence) gets its :class:`TokenLogprob` entries in ``rows[i]``, one per step, with the
    ``top`` likeliest alternatives (descending; the chosen token first when it ties the top).
    A ``tracker`` per row marks the content entries, which also go to ``content[i]``. A row
    ends with its end-of-turn token (``eos_ids``) or the token that completed its stop string
    (``stop``, the engine's ``StopStringCriterion``, which runs first): the padding ``generate``
    appends to a finished row of a batch is not recorded.
    """

    def __init__(
        self,
        table: TokenTable,
        top: int,
        trackers: list[ContentTracker],
        *,
        eos_ids: frozenset[int] = frozenset(),
        stop: Any = None,
    ) -> None:
        self.table = table
        self.top = top
        self.trackers = trackers
        self.eos_ids = eos_ids
        self.stop = stop
        self.finished = [False] * len(trackers)
        self.rows: list[list[TokenLogprob]] = [[] for _ in trackers]
        self.content: list[list[TokenLogprob]] = [[] for _ in trackers]
        self.content_steps: list[list[int]] = [[] for _ in trackers]
        self._lock = threading.Lock()

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> Any:
        if isinstance(scores, tuple) and scores:
            self._record(input_ids[:, -1], scores[-1])
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    def _record(self, chosen: torch.Tensor, step_scores: torch.Tensor) -> None:
        logprobs = torch.log_softmax(step_scores.float(), dim=-1)
        picked = logprobs.gather(1, chosen.view(-1, 1)).view(-1)
        if self.top:
            values, indices = torch.topk(logprobs, self.top, dim=-1)
            top_values, top_ids = values.tolist(), indices.tolist()
        else:
            top_values, top_ids = [[] for _ in self.rows], [[] for _ in self.rows]
        chosen_ids, chosen_values = chosen.tolist(), picked.tolist()
        # The step is recorded: free its vocabulary-sized row (generate keeps a reference).
        step_scores.untyped_storage().resize_(0)
        for row, token_id in enumerate(chosen_ids):
            if self.finished[row]:
                continue
            value = _clamp(chosen_values[row])
            alternatives = [(int(t), _clamp(v)) for t, v in zip(top_ids[row], top_values[row],
                                                                 strict=True)]  # fmt: skip
            if alternatives and value == alternatives[0][1] and alternatives[0][0] != token_id:
                alternatives = _chosen_first(alternatives, int(token_id), value)
            text, raw = self.table(int(token_id))
            entry = TokenLogprob(
                text, value, raw, tuple(self.table.entry(t, v) for t, v in alternatives)
            )
            with self._lock:
                step = len(self.rows[row])
                self.rows[row].append(entry)
                if self.trackers[row].feed(int(token_id), text):
                    self.content[row].append(entry)
                    self.content_steps[row].append(step)
            stopped = self.stop is not None and self.stop.matches[row] is not None
            if int(token_id) in self.eos_ids or stopped:
                self.finished[row] = True

    def content_of(self, row: int, length: int) -> list[TokenLogprob]:
        """Row ``row``'s content entries among its first ``length`` steps (its real tokens)."""
        with self._lock:
            steps, entries = self.content_steps[row], self.content[row]
            return [e for s, e in zip(steps, entries, strict=True) if s < length]

    def take(self, row: int, start: int) -> list[TokenLogprob]:
        """Content entries of ``row`` from index ``start`` on (a stream drains them in order)."""
        with self._lock:
            return list(self.content[row][start:])


def _clamp(value: float) -> float:
    return value if value > FLOOR else FLOOR


def _chosen_first(
    alternatives: list[tuple[int, float]], token_id: int, value: float
) -> list[tuple[int, float]]:
    """The chosen token moved to the front of the tokens that tie it at the top."""
    rest = [a for a in alternatives if a[0] != token_id]
    if len(rest) == len(alternatives):
        rest = rest[:-1]  # it was not in the list: it takes the last slot's place
    return [(token_id, value), *rest]
