"""Configuration of one mock server instance.

A frozen dataclass, so a config can key the pytest plugin's cache of live servers:
two fixtures asking for the same dialect and key share one server.

| field             | default       | meaning                                               |
|-------------------|---------------|-------------------------------------------------------|
| host              | "127.0.0.1"   | bind address (loopback unless you ask otherwise)      |
| port              | 0             | 0 picks a free port                                   |
| dialect           | "openai"      | "openai", "vllm" or "siliconflow": error shape, models |
| api_key           | None          | when set, every /v1/* call needs `Bearer <api_key>`   |
| workers           | 1             | uvicorn worker processes (`hookwire mock serve` only) |
| ttft              | 0.0           | seconds before the first token of a reply             |
| inter_token_delay | 0.0           | seconds between streamed tokens                       |
| scenario          | None          | TOML file of scripted rules (see docs/mockserver.md)  |
| models            | ()            | extra served model ids, added to the dialect's own    |
| only_models       | False         | serve `models` alone, not the dialect's own (vllm)    |
| max_body          | 10 MiB        | larger request bodies get 413                         |
| limits            | Limits()      | per-request caps (`hookwire.mockserver.limits`)       |
| cassette          | None          | a cassette file: replay it instead of the endpoints   |
| cassette_timing   | False         | replay streamed chunks with their recorded timing     |
| server            | "uvicorn"     | or "granian" (`pip install 'hookwire[granian]'`)      |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hookwire.mockserver.limits import DEFAULT_LIMITS, Limits

DIALECTS = ("openai", "vllm", "siliconflow")
SERVERS = ("uvicorn", "granian")
MAX_BODY_DEFAULT = 10 * 1024 * 1024


class ConfigError(ValueError):
    """A mock server setting is invalid; the message names the setting."""


@dataclass(frozen=True)
class MockConfig:
    """Settings of one mock server (see the module table)."""

    host: str = "127.0.0.1"
    port: int = 0
    dialect: str = "openai"
    api_key: str | None = None
    workers: int = 1
    ttft: float = 0.0
    inter_token_delay: float = 0.0
    scenario: str | Path | None = None
    models: tuple[str, ...] = ()
    max_body: int = MAX_BODY_DEFAULT
    only_models: bool = False
    limits: Limits = DEFAULT_LIMITS
    cassette: str | Path | None = None
    cassette_timing: bool = False
    server: str = "uvicorn"

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ConfigError(f"server must be one of {', '.join(SERVERS)}, not {self.server!r}")
        if self.dialect not in DIALECTS:
            raise ConfigError(f"dialect must be one of {', '.join(DIALECTS)}, not {self.dialect!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, not {self.port}")
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, not {self.workers}")
        if self.ttft < 0 or self.inter_token_delay < 0:
            raise ConfigError("ttft and inter_token_delay must be >= 0")
        if self.max_body < 0:
            raise ConfigError("max_body must be >= 0")
        if isinstance(self.models, list):  # keep the dataclass hashable
            object.__setattr__(self, "models", tuple(self.models))
        if self.only_models and not self.models:
            raise ConfigError("only_models needs at least one model in models")
        if isinstance(self.limits, dict):  # from JSON (worker processes) or a plain mapping
            try:
                object.__setattr__(self, "limits", Limits(**self.limits))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"limits: {exc}") from None
        if not isinstance(self.limits, Limits):
            raise ConfigError(f"limits must be a Limits, not {type(self.limits).__name__}")
        if isinstance(self.cassette, Path):  # a str travels as JSON to worker processes
            object.__setattr__(self, "cassette", str(self.cassette))
        if self.cassette_timing and self.cassette is None:
            raise ConfigError("cassette_timing needs a cassette")

    def __repr__(self) -> str:
        # Never print the key itself: configs end up in logs and test ids.
        key = "None" if self.api_key is None else "'[REDACTED]'"
        changed = self.limits.changed()
        limits = f", limits=Limits({', '.join(f'{k}={v}' for k, v in changed.items())})"
        limits = limits if changed else ""
        return (
            f"MockConfig(host={self.host!r}, port={self.port}, dialect={self.dialect!r}, "
            f"api_key={key}, workers={self.workers}, ttft={self.ttft}, "
            f"inter_token_delay={self.inter_token_delay}, scenario={self.scenario!r}, "
            f"models={self.models!r}, only_models={self.only_models}{limits}"
            + (f", cassette={self.cassette!r}" if self.cassette is not None else "")
            + (f", server={self.server!r}" if self.server != "uvicorn" else "")
            + ")"
        )
