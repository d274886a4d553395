"""Building an ``LLM`` from flags, environment and config (flags > environment > file)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from sdk.cli._errors import CLIError
from sdk.cli._output import notice
from sdk.config import Config, env_var_for, load_config

MOCK = "mock"
#: Config settings that are per-call defaults rather than provider-factory options.
CHAT_SETTINGS = ("temperature", "top_p", "max_tokens", "thinking", "thinking_budget", "seed")
FACTORY_EXCLUDED = ("model", "base_url", "api_key", "system", *CHAT_SETTINGS)


@dataclass
class Resolved:
    """What the flags, environment and config file decided, before any provider is built."""

    provider: str
    model: str | None
    base_url: str | None
    api_key: str | None
    options: dict[str, Any] = field(default_factory=dict)
    chat_defaults: dict[str, Any] = field(default_factory=dict)
    system: str | None = None
    defaulted: bool = False


def resolve(
    provider: str | None, model: str | None, base_url: str | None, config: Config | None = None
) -> Resolved:
    config = config or load_config()
    defaulted = False
    if provider is None:
        provider = config.default_provider
        if provider is None:
            provider, defaulted = MOCK, True
    settings = config.provider_settings(provider)
    if model is None:
        model = settings.get("model")
    if model is None and provider == (config.default_provider or MOCK):
        model = config.default_model
    return Resolved(
        provider=provider,
        model=model,
        base_url=base_url or settings.get("base_url"),
        api_key=config.get_key(provider, settings.get("api_key_env") or env_var_for(provider)),
        options={k: v for k, v in settings.items() if k not in (*FACTORY_EXCLUDED, "api_key_env")},
        chat_defaults={k: settings[k] for k in CHAT_SETTINGS if k in settings},
        system=settings.get("system"),
        defaulted=defaulted,
    )


def build_llm(resolved: Resolved, **extra: Any) -> Any:
    """The ``sdk.LLM`` for ``resolved``; says so on stderr when it fell back to the mock."""
    try:
        from sdk.llm import LLM
    except ImportError as exc:  # pragma: no cover - only while sdk.llm is incomplete
        raise CLIError(f"the LLM layer is not available ({exc})") from exc
    if resolved.defaulted:
        notice(
            "hookwire: no provider configured; using the bundled mock model "
            "(choose one with --provider, HOOKWIRE_PROVIDER or `hookwire config path`)"
        )
    options = {**resolved.options, **extra}
    if resolved.model is not None:
        options["model"] = resolved.model
    if resolved.base_url is not None:
        options["base_url"] = resolved.base_url
    if resolved.api_key is not None:
        options["api_key"] = resolved.api_key
    return LLM(resolved.provider, **options)


def accepts(func: Any, name: str) -> bool:
    """Whether ``func`` takes keyword ``name`` (or any keyword at all)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
