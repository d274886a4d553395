"""Cost of ``LocalEngine`` over the raw ``transformers`` code it wraps, on the tiny model.

The raw peer is the seed tutorial's code: ``apply_chat_template`` -> tokenizer -> ``model.generate``
-> slice the new ids -> find ``</think>`` -> decode both parts, under ``torch.inference_mode()``
as the engine runs it (without it the raw side is ~10% slower, which would flatter the engine).
The engine does the same work plus option validation, locks, its stopping criteria and the split.
Same prompt, same ``max_new_tokens``, greedy; the random tiny model never emits EOS on this
prompt, so both sides generate exactly ``--tokens`` tokens (checked).

===========================================  ===========================================  ======
engine                                       raw peer                                     target
===========================================  ===========================================  ======
``engine.generate(messages, ...)``           template + ``model.generate`` + decode       <= 1.05x
``list(engine.stream(messages, ...))``       ``TextIteratorStreamer`` + thread, drained   <= 1.05x
===========================================  ===========================================  ======

Each pair runs ``--rounds`` rounds of ``--calls`` call pairs; the two sides alternate call by call
(and which goes first alternates too), so load drift hits both alike. Reported: the median over
rounds of the mean time per call, the ratio of the medians, and the median per-round ratio.

Usage: ``python benchmarks/bench_transformers.py [--rounds 15] [--calls 10] [--tokens 32]
[--threads 1]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import torch

from hookwire.plugins.providers._local_engine import LocalEngine
from hookwire.plugins.providers.tiny_model import build_tiny_model

MESSAGES = [{"role": "user", "content": "你好，请介绍一下自己"}]


def raw_generate(model: Any, tokenizer: Any, tokens: int) -> tuple[str, str, int]:
    text = tokenizer.apply_chat_template(
        MESSAGES, tokenize=False, add_generation_prompt=True, enable_thinking=True
    )
    inputs = tokenizer([text], return_tensors="pt").to(model.device)
    with torch.inference_mode():  # as the engine does, so the ratio is the wrapper's own cost
        generated = model.generate(**inputs, max_new_tokens=tokens, do_sample=False)
    output_ids = generated[0][len(inputs.input_ids[0]) :].tolist()
    think_end = tokenizer.convert_tokens_to_ids("</think>")
    try:
        index = len(output_ids) - output_ids[::-1].index(think_end)
    except ValueError:
        index = 0
    thinking = tokenizer.decode(output_ids[:index], skip_special_tokens=True).strip("\n")
    content = tokenizer.decode(output_ids[index:], skip_special_tokens=True).strip("\n")
    return thinking, content, len(output_ids)


def raw_stream(model: Any, tokenizer: Any, tokens: int) -> list[str]:
    from transformers import TextIteratorStreamer

    text = tokenizer.apply_chat_template(
        MESSAGES, tokenize=False, add_generation_prompt=True, enable_thinking=True
    )
    inputs = tokenizer([text], return_tensors="pt").to(model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = {**inputs, "max_new_tokens": tokens, "do_sample": False, "streamer": streamer}

    def work() -> None:
        with torch.inference_mode():
            model.generate(**kwargs)

    thread = threading.Thread(target=work)
    thread.start()
    chunks = list(streamer)
    thread.join()
    return chunks


def timed_pair(first: Callable[[], object], second: Callable[[], object], calls: int):
    """Mean ms per call of each, calling them alternately."""
    spent = [0.0, 0.0]
    for _ in range(calls):
        for slot, fn in enumerate((first, second)):
            start = time.perf_counter()
            fn()
            spent[slot] += time.perf_counter() - start
    return spent[0] / calls * 1000.0, spent[1] / calls * 1000.0


def compare(name: str, engine_fn: Callable[[], object], raw_fn: Callable[[], object], args: Any):
    engine_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(2):  # warm-up
        engine_fn()
        raw_fn()
    for i in range(args.rounds):
        if i % 2:
            raw, eng = timed_pair(raw_fn, engine_fn, args.calls)
        else:
            eng, raw = timed_pair(engine_fn, raw_fn, args.calls)
        engine_ms.append(eng)
        raw_ms.append(raw)
    engine_med, raw_med = statistics.median(engine_ms), statistics.median(raw_ms)
    ratio = engine_med / raw_med
    per_round = statistics.median(e / r for e, r in zip(engine_ms, raw_ms, strict=True))
    verdict = "meets" if ratio <= 1.05 else "MISSES"
    print(
        f"{name:<10} engine {engine_med:7.2f} ms  raw {raw_med:7.2f} ms  ratio {ratio:.3f}x "
        f"(per-round {per_round:.3f}x)  target <= 1.05x: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (0: leave torch's default)"
    )
    args = parser.parse_args()
    if args.threads:
        # The tiny model gains nothing from intra-op parallelism, and on a busy 2-core machine
        # OpenMP's spinning workers make main-thread calls 10x slower and very noisy.
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine.load(build_tiny_model(tmp), device="cpu")
    model, tokenizer = engine.model, engine.tokenizer

    result = engine.generate(MESSAGES, max_new_tokens=args.tokens)
    raw = raw_generate(model, tokenizer, args.tokens)
    assert result.completion_tokens == raw[2] == args.tokens, "both sides must run to the limit"
    assert (result.reasoning, result.content) == raw[:2], "engine and raw code disagree"

    print(f"tiny Qwen3 model on CPU, {args.tokens} new tokens per call, greedy")
    compare(
        "generate",
        lambda: engine.generate(MESSAGES, max_new_tokens=args.tokens),
        lambda: raw_generate(model, tokenizer, args.tokens),
        args,
    )
    compare(
        "stream",
        lambda: list(engine.stream(MESSAGES, max_new_tokens=args.tokens)),
        lambda: raw_stream(model, tokenizer, args.tokens),
        args,
    )


if __name__ == "__main__":
    main()
