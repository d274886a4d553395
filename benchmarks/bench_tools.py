"""The tool loop's cost per turn: ``llm.chat(prompt, tools=[fn])`` vs a hand-written openai loop.

One mock server process (its own CPU). Each loop is two replies: the mock asks for
``get_weather`` (named in the prompt, arguments made from the schema), the tool runs, its result
goes back, the mock answers. The two candidates do the same work:

* hookwire: ``llm.chat(PROMPT, tools=[get_weather])`` (schema from the signature, the call, the
  result sent back, ``result.tool_runs``), and ``await llm.achat(...)`` for the async row;
* openai: the loop an openai-python user writes by hand: ``chat.completions.create`` with the
  tool's schema dict, ``json.loads`` of each call's arguments, the function called, a ``tool``
  message appended, ``create`` again until no call is asked for (``AsyncOpenAI`` likewise).

Reported: time per turn (a model reply plus its tool work) for each, and the ratio
hookwire/openai (lower is better; target <= 0.5x, issue 11). Each candidate's best of
``--rounds`` rounds of ``--loops`` loops, alternated. Run::

    python benchmarks/bench_tools.py [--rounds 5] [--loops 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from _servers import best_of, mock_server

import hookwire

MODEL = "mock-model"
PROMPT = "What is the weather? Please call get_weather."
TURNS = 2  # the call, then the answer


def get_weather(city: str, unit: str = "c") -> dict[str, Any]:
    """The current weather of a city.

    Args:
        city: The city's name.
        unit: c or f.
    """
    return {"city": city, "unit": unit, "temp": 21}


SCHEMA = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    },
}
FUNCTIONS = {"get_weather": get_weather}


def openai_loop(client: Any) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    while True:
        reply = client.chat.completions.create(model=MODEL, messages=messages, tools=[SCHEMA])
        message = reply.choices[0].message
        if not message.tool_calls:
            return str(message.content)
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": json.dumps(result)})


async def aopenai_loop(client: Any) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    while True:
        reply = await client.chat.completions.create(model=MODEL, messages=messages,
                                                     tools=[SCHEMA])
        message = reply.choices[0].message
        if not message.tool_calls:
            return str(message.content)
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": json.dumps(result)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loops", type=int, default=200)
    args = parser.parse_args()

    import openai

    with mock_server("--model", MODEL) as base_url:
        llm = hookwire.LLM("openai-compatible", base_url=base_url, model=MODEL, api_key="sk-b")
        client = openai.OpenAI(base_url=base_url, api_key="sk-b")
        aclient = openai.AsyncOpenAI(base_url=base_url, api_key="sk-b")
        ours = llm.chat(PROMPT, tools=[get_weather]).content
        theirs = openai_loop(client)
        assert ours == theirs, f"the loops disagree: {ours!r} != {theirs!r}"

        def sdk() -> None:
            for _ in range(args.loops):
                llm.chat(PROMPT, tools=[get_weather])

        def peer() -> None:
            for _ in range(args.loops):
                openai_loop(client)

        loop = asyncio.new_event_loop()

        def asdk() -> None:
            async def run() -> None:
                for _ in range(args.loops):
                    await llm.achat(PROMPT, tools=[get_weather])

            loop.run_until_complete(run())

        def apeer() -> None:
            async def run() -> None:
                for _ in range(args.loops):
                    await aopenai_loop(aclient)

            loop.run_until_complete(run())

        sync = best_of(args.rounds, {"hookwire": sdk, "openai": peer})
        async_ = best_of(args.rounds, {"hookwire": asdk, "openai": apeer})
        loop.run_until_complete(llm.aclose())
        loop.run_until_complete(aclient.close())
        loop.close()
        llm.close()
        client.close()

    turns = args.loops * TURNS
    print(f"python {sys.version.split()[0]}, openai {openai.__version__}, "
          f"{args.loops} loops of {TURNS} turns, best of {args.rounds}")  # fmt: skip
    for name, result in (("sync tool loop", sync), ("async tool loop", async_)):
        ratio = result["hookwire"] / result["openai"]
        verdict = "meets" if ratio <= 0.5 else "MISSES"
        print(f"{name:16s} hookwire {result['hookwire'] / turns * 1e6:7.0f} µs/turn  "
              f"openai {result['openai'] / turns * 1e6:7.0f} µs/turn  "
              f"ratio {ratio:.2f}x ({verdict} target <= 0.5x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
