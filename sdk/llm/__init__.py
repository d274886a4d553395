"""The LLM layer: one chat API over cloud, local and mock providers.

Light on purpose: importing it loads no HTTP library, no torch and no ``openai`` package.
See ``docs/llm.md`` for the guide; :class:`LLM` is the entry point.
"""

from __future__ import annotations

from hookwire.llm._stream import AsyncChatStream, ChatStream
from hookwire.llm.conversation import Conversation
from hookwire.llm.facade import LLM, Router, list_providers
from hookwire.llm.openai_compatible import OpenAICompatibleProvider
from hookwire.llm.provider import AsyncFromSync, Provider
from hookwire.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    Message,
    StreamTimeout,
    TokenCount,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__all__ = [
    "LLM",
    "AsyncChatStream",
    "AsyncFromSync",
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "Conversation",
    "EmbeddingResult",
    "Message",
    "OpenAICompatibleProvider",
    "Provider",
    "Router",
    "StreamTimeout",
    "TokenCount",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "list_providers",
]
