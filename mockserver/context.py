"""Per-request context the app hands to endpoints via `request.scope["mock"]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookwire.mockserver.config import MockConfig
    from hookwire.mockserver.faults import Rule
    from hookwire.mockserver.journal import Journal, JournalEntry
    from hookwire.mockserver.openai.dialects import Dialect


class RequestContext:
    """What an endpoint may need beyond the request: settings, the applied rule, the journal."""

    __slots__ = (
        "body",
        "config",
        "dialect",
        "entry",
        "extra",
        "journal",
        "models",
        "reply_tokens",
        "rule",
    )

    def __init__(
        self,
        config: MockConfig,
        dialect: Dialect,
        models: frozenset[str],
        journal: Journal,
        entry: JournalEntry | None,
        body: bytes = b"",
        rule: Rule | None = None,
        reply_tokens: int | None = None,
    ) -> None:
        self.config = config
        self.dialect = dialect
        self.models = models
        self.journal = journal
        self.entry = entry
        self.body = body  # the whole request body, already read by the app
        self.rule = rule
        self.reply_tokens = reply_tokens
        self.extra: dict[str, Any] = {}
