"""Generation options for the local engine: validate them once, map them onto ``model.generate``.

The seed tutorial's helper took ``temperature`` and ``max_new_tokens`` and then silently used its
own constants. Here every option the caller sets becomes a ``generate`` keyword (or, for ``seed``
and ``stop``, an action the engine takes around ``generate``), and a bad value is refused before
any work starts with an ``InvalidRequest`` naming the option.

========================  =================================================================
caller sets               ``model.generate`` receives
========================  =================================================================
``max_new_tokens=n``      ``max_new_tokens=n`` (None: the engine's default)
``temperature=None|0``    ``do_sample=False`` (greedy)
``temperature=t > 0``     ``do_sample=True, temperature=t``
``top_p`` / ``top_k``     ``top_p=`` / ``top_k=`` (transformers ignores them when greedy)
``repetition_penalty``    ``repetition_penalty=``
``seed=s``                ``torch.manual_seed(s)`` just before, under the process RNG lock
``stop=[...]``            a ``StoppingCriteria`` on the content's decoded tail
``n=k``                   the prompt repeated ``k`` times as one batch (``k`` sequences)
``logprobs=k``            ``output_scores=True, return_dict_in_generate=True`` and a recorder
                          (``_local_logprobs``); ``None``: neither, the plain path
========================  =================================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hookwire.errors import InvalidRequest

__all__ = ["MAX_N", "MAX_TOP", "GenerateOptions", "validate_messages"]

#: The most sequences one call generates (``n``): they run as one batch, in one memory.
MAX_N = 64
#: The most alternatives per token (``top_logprobs``), the OpenAI API's ceiling.
MAX_TOP = 20


@dataclass(frozen=True)
class GenerateOptions:
    """One call's validated options (``None`` means "not set by the caller")."""

    max_new_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    logprobs: int | None = None

    @classmethod
    def build(
        cls,
        *,
        default_max_new_tokens: int,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        n: int | None = None,
        logprobs: int | None = None,
    ) -> GenerateOptions:
        """Validate the caller's values; raise ``InvalidRequest`` naming the first bad one."""
        limit = default_max_new_tokens if max_new_tokens is None else max_new_tokens
        if not _is_int(limit) or limit < 1:
            raise InvalidRequest(f"max_new_tokens must be an integer >= 1, got {limit!r}")
        _check_number("temperature", temperature, low=0.0, low_open=False)
        _check_number("top_p", top_p, low=0.0, low_open=True, high=1.0)
        _check_number("repetition_penalty", repetition_penalty, low=0.0, low_open=True)
        if top_k is not None and (not _is_int(top_k) or top_k < 0):
            raise InvalidRequest(f"top_k must be an integer >= 0, got {top_k!r}")
        if seed is not None and not _is_int(seed):
            raise InvalidRequest(f"seed must be an integer, got {seed!r}")
        count = 1 if n is None else n
        if not _is_int(count) or count < 1 or count > MAX_N:
            raise InvalidRequest(f"n must be an integer from 1 to {MAX_N}, got {n!r}")
        if logprobs is not None and (not _is_int(logprobs) or not 0 <= logprobs <= MAX_TOP):
            raise InvalidRequest(
                f"logprobs (the number of top alternatives) must be an integer from 0 to "
                f"{MAX_TOP} or None, got {logprobs!r}"
            )
        return cls(
            max_new_tokens=int(limit),
            temperature=None if temperature is None else float(temperature),
            top_p=None if top_p is None else float(top_p),
            top_k=top_k,
            repetition_penalty=None if repetition_penalty is None else float(repetition_penalty),
            seed=seed,
            stop=_stops(stop),
            n=int(count),
            logprobs=logprobs,
        )

    @property
    def sampling(self) -> bool:
        return bool(self.temperature)

    def generate_kwargs(self) -> dict[str, Any]:
        """The keywords for ``model.generate``; greedy unless temperature > 0."""
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.sampling:
            kwargs.update(do_sample=True, temperature=self.temperature)
        else:
            kwargs["do_sample"] = False
        for name in ("top_p", "top_k", "repetition_penalty"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number(
    name: str,
    value: object,
    *,
    low: float,
    low_open: bool,
    high: float | None = None,
) -> None:
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRequest(f"{name} must be a finite number, got {value!r}")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        bound = f"> {low}" if low_open else f">= {low}"
        upper = f" and <= {high}" if high is not None else ""
        raise InvalidRequest(f"{name} must be {bound}{upper}, got {value!r}")


def _stops(stop: str | Sequence[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else list(stop)
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidRequest(f"stop must hold non-empty strings, got {item!r}")
    return tuple(items)


def validate_messages(messages: object) -> list[dict[str, Any]]:
    """Check the chat messages' shape; return them as a list of plain dicts."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence) or not messages:
        raise InvalidRequest("messages must be a non-empty list of {'role', 'content'} dicts")
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{index}] must be a dict, got {type(message).__name__}")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise InvalidRequest(f"messages[{index}] has no 'role' string")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise InvalidRequest(f"messages[{index}]['content'] must be a string or None")
        out.append(dict(message))
    return out
