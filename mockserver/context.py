"""Per-request context the app hands to endpoints via `request.scope["mock"]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.config import MockConfig
    from mockserver.faults import Rule
    from mockserver.journal import Journal, JournalEntry
    from mockserver.openai.dialects import Dialect


@dataclass
class RequestContext:
    """What an endpoint may need beyond the request: settings, the applied rule, the journal."""

    config: MockConfig
    dialect: Dialect
    models: frozenset[str]
    journal: Journal
    entry: JournalEntry | None
    rule: Rule | None = None
    reply_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
