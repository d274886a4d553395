"""What differs between dialects: served models, reasoning field, error shape, model cards."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

CREATED = 1_700_000_000  # fixed, so replies are deterministic
MAX_MODEL_LEN = 32_768

# openai's `type` per status, as its API sends them.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
_OPENAI_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
# vLLM names the type after the HTTP status's exception class.
_VLLM_TYPES = {
    400: "BadRequestError",
    401: "Unauthorized",
    404: "NotFoundError",
    413: "RequestEntityTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True)
class Dialect:
    """One server flavour. `reasoning_field` is where thinking text goes in message/delta."""

    name: str
    models: tuple[str, ...]
    thinking_models: frozenset[str]
    reasoning_field: str
    owned_by: str
    # chat logprobs carry `"refusal": null` next to `content` (vLLM's object has content only)
    logprobs_refusal: bool = True
    # the most `logprobs` a /v1/completions request may ask for (OpenAI 5; vLLM max_logprobs 20)
    completion_logprobs: int = 5

    def error_body(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        """The dialect's error object (`{"error": {...}}`) for `status`."""
        if self.name == "vllm":
            kind = _VLLM_TYPES.get(status) or _status_class(status)
            return {"error": {"message": message, "type": kind, "param": param, "code": status}}
        kind = _OPENAI_TYPES.get(status) or ("server_error" if status >= 500 else "api_error")
        return {
            "error": {
                "message": message,
                "type": kind,
                "param": param,
                "code": code if code is not None else _OPENAI_CODES.get(status),
            }
        }

    def model_card(self, model_id: str) -> dict[str, Any]:
        card: dict[str, Any] = {
            "id": model_id,
            "object": "model",
            "created": CREATED,
            "owned_by": self.owned_by,
        }
        if self.name == "vllm":
            card.update(
                root=model_id,
                parent=None,
                max_model_len=MAX_MODEL_LEN,
                permission=[
                    {
                        "id": f"modelperm-{model_id}",
                        "object": "model_permission",
                        "created": CREATED,
                        "allow_create_engine": False,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ],
            )
        return card


def _status_class(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "InternalServerError" if status >= 500 else "BadRequestError"
    return "".join(w.capitalize() for w in phrase.replace("-", " ").split()) + (
        "Error" if status >= 400 and not phrase.endswith("Error") else ""
    )


_BASE = ("mock-model", "mock-thinking")

DIALECTS: dict[str, Dialect] = {
    "openai": Dialect("openai", _BASE, frozenset({"mock-thinking"}), "reasoning_content", "mock"),
    "vllm": Dialect(
        "vllm",
        (*_BASE, "Qwen/Qwen3-4B"),
        frozenset({"mock-thinking", "Qwen/Qwen3-4B"}),
        "reasoning",
        "vllm",
        logprobs_refusal=False,
        completion_logprobs=20,
    ),
    "siliconflow": Dialect(
        "siliconflow",
        (*_BASE, "Qwen/Qwen3-8B"),
        frozenset({"mock-thinking", "Qwen/Qwen3-8B"}),
        "reasoning_content",
        "siliconflow",
    ),
}
