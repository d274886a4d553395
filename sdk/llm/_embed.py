"""Embeddings and token counts: argument checks, batching and the OpenAI wire format (pure).

Providers share these so that ``llm.embed`` refuses the same bad input everywhere, before any
request, and so that every HTTP provider reads ``/embeddings`` and vLLM's ``/tokenize`` alike.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hookwire.errors import DecodingError, InvalidRequest
from hookwire.llm.types import EmbeddingResult, Usage

#: OpenAI takes up to 2,048 inputs a request; 256 keeps each body small enough to stream fast
#: and lets the async face send several batches at once.
DEFAULT_BATCH_SIZE = 256


def embed_inputs(texts: Any) -> list[str]:
    """``texts`` as a list: one string is one input; anything but strings is refused by name."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (list, tuple)) and texts:
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is None:
            return list(texts)
        raise InvalidRequest(f"texts[{bad}] must be a string, not {type(texts[bad]).__name__}")
    if isinstance(texts, (list, tuple)):
        raise InvalidRequest("texts is empty: give a string or a non-empty list of strings")
    raise InvalidRequest(f"texts must be a string or a list of strings, not {type(texts).__name__}")


def positive(name: str, value: Any) -> int | None:
    """``value`` if it is None or an int >= 1; otherwise an InvalidRequest naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"{name} must be a positive integer, not {value!r}")
    return value


def batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def embedding_body(batch: Sequence[str], model: str, dimensions: int | None) -> dict[str, Any]:
    # base64 as openai-python asks for it: a quarter of the bytes of JSON floats, and decoded
    # in C by array.frombytes (the vectors are the float32 values the server computed)
    body: dict[str, Any] = {"model": model, "input": list(batch), "encoding_format": "base64"}
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):
        floats = array("f")
        floats.frombytes(base64.b64decode(value))
        if sys.byteorder == "big":  # the wire is little-endian float32
            floats.byteswap()
        return floats.tolist()
    if isinstance(value, list):  # a server that ignored encoding_format sends JSON floats
        return [float(v) for v in value]
    raise DecodingError(f"an embedding is neither base64 nor a list of numbers: {value!r:.80}")


def parse_embeddings(data: Any, expected: int) -> tuple[list[list[float]], str, Usage | None]:
    """Vectors in input order (by ``index``), the model and the usage of one response."""
    try:
        items = sorted(data["data"], key=lambda item: int(item["index"]))
        vectors = [_vector(item["embedding"]) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodingError(f"the embeddings response has no data[].embedding ({exc})") from exc
    if len(vectors) != expected:
        raise DecodingError(f"asked for {expected} embeddings, the server sent {len(vectors)}")
    usage = data.get("usage") if isinstance(data, Mapping) else None
    model = data.get("model") if isinstance(data, Mapping) else None
    return vectors, str(model or ""), Usage.from_wire(usage)


def merge(
    parts: Sequence[tuple[list[list[float]], str, Usage | None, Any]], model: str, provider: str
) -> EmbeddingResult:
    """One result from the batches' ``(vectors, model, usage, raw)``, kept in batch order."""
    vectors = [v for part in parts for v in part[0]]
    usage = Usage.total(part[2] for part in parts)
    served = next((part[1] for part in parts if part[1]), model)
    return EmbeddingResult(vectors, served, usage, provider, [part[3] for part in parts])


def root_url(base_url: str) -> str:
    """vLLM's ``/tokenize`` sits at the server root, beside ``/v1``."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def tokenize_body(messages: Sequence[Mapping[str, Any]], model: str) -> dict[str, Any]:
    """The chat form of ``/tokenize``: the server applies the chat template, as for a chat."""
    return {"model": model, "messages": list(messages), "add_generation_prompt": True}


def parse_tokenize(data: Any) -> tuple[int, int | None]:
    try:
        count = int(data["count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodingError(f"the /tokenize response has no count ({exc})") from exc
    window = data.get("max_model_len")
    return count, int(window) if isinstance(window, int) else None
