"""Stopping criteria the local engine adds to every ``model.generate`` call.

This module imports ``torch`` and ``transformers`` at import time; the engine imports it lazily,
so ``import hookwire.plugins.providers._local_engine`` stays free of torch.

- ``CancelCriterion`` stops generation when a ``threading.Event`` is set. It is how a stream that
  is closed, abandoned or cancelled from asyncio stops the worker thread: without it the thread
  would run on to ``max_new_tokens`` with nobody reading.
- ``StopStringCriterion`` stops when one of the caller's ``stop`` strings appears in the *content*
  (text after ``</think>``). Reasoning is never matched: a stop string such as ``"\\n"`` must not
  end a model's thinking. It decodes only a short tail of tokens per step, so its cost does not
  grow with the length of the output.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import torch
from transformers import StoppingCriteria

__all__ = ["CancelCriterion", "StopStringCriterion"]


class CancelCriterion(StoppingCriteria):
    """Stop as soon as ``event`` is set; ``fired`` records that the stop came from here."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event
        self.fired = False

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> Any:
        if self.event.is_set():
            self.fired = True
            return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class StopStringCriterion(StoppingCriteria):
    """Stop a sequence when a stop string shows up in the content part of its completion.

    ``in_reasoning`` says whether the completion starts inside a reasoning block (the prompt
    ended with an open ``<think>``). A completion that begins with the ``<think>`` token enters
    reasoning too, as Qwen3's hybrid models do. Content starts after the ``</think>`` token.
    Each row of a batch (``n`` sequences of one prompt) is tracked apart: ``matches[i]`` is the
    stop row ``i`` met and ``ends[i]`` its length then (``matched``: row 0's).
    """

    def __init__(
        self,
        tokenizer: Any,
        stops: Sequence[str],
        *,
        prompt_len: int,
        in_reasoning: bool,
        think_start_id: int | None,
        think_end_id: int | None,
        rows: int = 1,
    ) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self.prompt_len = prompt_len
        self.in_reasoning = in_reasoning and think_end_id is not None
        self.think_start_id = think_start_id
        self.think_end_id = think_end_id
        # A token holds at least one byte, so a stop of B bytes lies within the last B tokens;
        # a few more let a window that starts mid-character still decode the stop intact.
        self.window = max(len(s.encode("utf-8")) for s in self.stops) + 4
        start = None if self.in_reasoning else prompt_len
        self.content_starts: list[int | None] = [start] * rows
        self.seen = [prompt_len] * rows
        self.matches: list[str | None] = [None] * rows
        self.ends: list[int | None] = [None] * rows

    @property
    def matched(self) -> str | None:
        return self.matches[0]

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> Any:
        done = [self._check(row, input_ids[row]) for row in range(int(input_ids.shape[0]))]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    def _check(self, index: int, row: torch.Tensor) -> bool:
        if self.matches[index] is not None:
            return True
        end = int(row.shape[0])
        self._track_reasoning(index, row, end)
        self.seen[index] = end
        content_start = self.content_starts[index]
        if content_start is None or end <= content_start:
            return False
        start = max(content_start, end - self.window)
        text = self.tokenizer.decode(row[start:end].tolist(), skip_special_tokens=True)
        if start == content_start:
            # The engine strips the conventional newlines that open the content; match the same.
            text = text.lstrip("\n")
        for stop in self.stops:
            if stop in text:
                self.matches[index], self.ends[index] = stop, end
                return True
        return False

    def _track_reasoning(self, index: int, row: torch.Tensor, end: int) -> None:
        """Move the content start past ``</think>``; enter reasoning on a leading ``<think>``."""
        for pos in range(self.seen[index], end):
            token = int(row[pos])
            if (
                pos == self.prompt_len
                and token == self.think_start_id
                and self.think_end_id is not None
            ):
                self.content_starts[index] = None
            elif self.content_starts[index] is None and token == self.think_end_id:
                self.content_starts[index] = pos + 1
