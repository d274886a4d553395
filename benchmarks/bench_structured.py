"""Structured output parse time: a 50-field pydantic model, hookwire's path vs pydantic's own.

What ``LLM.chat(..., response_format=Model)`` adds on top of the model's own validation, per
reply, with no network in the way (the HTTP side is bench_llm.py's business):

* ``pydantic``: ``Model.model_validate_json(text)``, the floor;
* ``hookwire parse``: ``OutputSpec.parse(text)`` (the ```json-fence check, then the same call);
* ``hookwire apply``: ``OutputSpec.apply(result, attempts)``, what the re-ask loop runs per reply;
* ``dict schema``: the same reply checked against the model's JSON schema as a dict
  (``jsonschema`` when installed, and hookwire's small validator), for scale.

Each row is the best of ``--rounds`` rounds of ``--number`` parses, in µs per parse, with its
ratio to the pydantic floor measured in the same run. Run::

    python benchmarks/bench_structured.py [--rounds 7] [--number 20000]
"""

from __future__ import annotations

import argparse
import json
import timeit
from typing import Any

from pydantic import create_model

from hookwire.llm._jsonschema import first_error
from hookwire.llm._structured import _validator_for, output_spec
from hookwire.llm.types import ChatResult

FIELDS = 50


def model_and_reply() -> tuple[Any, str]:
    """A flat model of 50 fields (int, float, str, bool, list[int] in turn) and a valid reply."""
    kinds: list[tuple[type, Any]] = [
        (int, 7), (float, 2.5), (str, "hello world"), (bool, True), (list[int], [1, 2, 3]),
    ]  # fmt: skip
    fields = {f"field_{i}": (kinds[i % 5][0], ...) for i in range(FIELDS)}
    model = create_model("Wide", **fields)  # type: ignore[call-overload]
    reply = json.dumps({f"field_{i}": kinds[i % 5][1] for i in range(FIELDS)})
    return model, reply


def best_us(fn: Any, number: int, rounds: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    model, reply = model_and_reply()
    spec = output_spec(model)
    assert spec is not None
    assert spec.parse(reply) == model.model_validate_json(reply)
    result = ChatResult(reply)
    attempts: list[tuple[str, str]] = []
    schema = model.model_json_schema()
    checker = _validator_for(schema)
    data = json.loads(reply)
    assert checker(data) is None and first_error(data, schema) is None

    rows = [
        ("pydantic model_validate_json", lambda: model.model_validate_json(reply)),
        ("hookwire OutputSpec.parse", lambda: spec.parse(reply)),
        ("hookwire OutputSpec.apply", lambda: spec.apply(result, attempts)),
        ("dict schema: json.loads + jsonschema", lambda: checker(json.loads(reply))),
        (
            "dict schema: json.loads + small validator",
            lambda: first_error(json.loads(reply), schema),
        ),
    ]
    floor = None
    print(f"{FIELDS}-field model, reply {len(reply)} bytes, best of {args.rounds} x {args.number}")
    for name, fn in rows:
        us = best_us(fn, args.number, args.rounds)
        floor = floor or us
        print(f"  {name:<44} {us:8.2f} µs/parse   {us / floor:5.2f}x pydantic")


if __name__ == "__main__":
    main()
