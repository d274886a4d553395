"""The OpenAI/vLLM endpoints by exact path (the app dispatches them with one dict lookup)."""

from __future__ import annotations

from hookwire.mockserver.openai.chat import chat_completions
from hookwire.mockserver.openai.completions import completions
from hookwire.mockserver.openai.errors import Endpoint
from hookwire.mockserver.openai.misc import (
    detokenize,
    embeddings,
    health,
    list_models,
    retrieve_model,
    tokenize,
    version,
)

# (method, endpoint) per exact path.
STATIC: dict[str, tuple[str, Endpoint]] = {
    "/v1/chat/completions": ("POST", chat_completions),
    "/v1/completions": ("POST", completions),
    "/v1/embeddings": ("POST", embeddings),
    "/v1/models": ("GET", list_models),
    "/tokenize": ("POST", tokenize),
    "/detokenize": ("POST", detokenize),
    "/health": ("GET", health),
    "/version": ("GET", version),
}
MODEL_PREFIX = "/v1/models/"
RETRIEVE_MODEL = retrieve_model
