"""Building an ``LLM`` from the flags; ``hookwire.LLM`` itself merges the config file and keys.

Precedence is flags > environment > config file: a flag is passed explicitly, and the facade
and provider fill in the rest (``HOOKWIRE_PROVIDER``/``HOOKWIRE_MODEL``, ``[providers.<name>]``
settings, ``<PROVIDER>_API_KEY`` or a stored key).
"""

from __future__ import annotations

from typing import Any

from hookwire.cli._output import notice
from hookwire.config import load_config

MOCK = "mock"


def build_llm(
    provider: str | None, model: str | None = None, base_url: str | None = None, **options: Any
) -> Any:
    """The ``hookwire.LLM`` for the flags; one dim stderr line when it falls back to the mock."""
    from hookwire.llm import LLM

    if provider is None and load_config().default_provider is None:
        notice(
            "hookwire: no provider configured, using the bundled mock model "
            "(pick one with --provider, HOOKWIRE_PROVIDER or `provider =` in the config file)"
        )
        provider = MOCK
    if provider == "transformers" and "progress" not in options:
        from hookwire.cli._progress import LoadProgress

        options["progress"] = LoadProgress()  # loading weights can take minutes: show it
    explicit = {"model": model, "base_url": base_url}
    options.update({k: v for k, v in explicit.items() if v is not None})
    return LLM(provider, **options)
