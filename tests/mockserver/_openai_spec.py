"""Validate mock replies against the official OpenAI OpenAPI spec (skips when it is absent).

The spec is OpenAPI 3.1 but still carries some 3.0 `nullable: true` markers; a validator that
ignored them would reject a correct `"logprobs": null`, so they are folded into `type` first.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def spec_path() -> Path | None:
    env = os.environ.get("HOOKWIRE_OPENAI_SPEC")
    for candidate in (env, REPO / ".." / "shared" / "reference" / "openai-openapi.json"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _fold_nullable(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _fold_nullable(v) for k, v in node.items()}
        if out.pop("nullable", False) is True and "type" in out:
            kind = out["type"]
            out["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]  # OpenAPI 3.0: nullable admits null past enum
        return out
    if isinstance(node, list):
        return [_fold_nullable(v) for v in node]
    return node


@functools.cache
def _components() -> dict[str, Any]:
    path = spec_path()
    if path is None:
        pytest.skip(
            "OpenAI spec not found: set HOOKWIRE_OPENAI_SPEC or place openai-openapi.json in "
            "../shared/reference/ next to the repo"
        )
    return _fold_nullable(json.loads(path.read_text(encoding="utf-8"))["components"])


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema

    components = _components()
    if name not in components["schemas"]:
        raise KeyError(f"spec has no schema {name}")
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema)


def validate(name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError (with the path) when `instance` breaks schema `name`."""
    _validator(name).validate(instance)
