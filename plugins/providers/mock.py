"""The ``mock`` provider: the bundled mock server's models, in-process, for tests and demos.

On first use it starts ``mockserver`` (uvicorn in a daemon thread on a free 127.0.0.1 port; one
server per dialect, shared by every ``LLM("mock")`` of the process and stopped at exit), then
behaves exactly like ``openai-compatible`` against it: requests still travel through
``hookwire.Client`` and a real socket, and the SDK parses the SSE and reasoning itself. This is the
one place a plugin touches ``mockserver``, and only to start it; no protocol code is shared.

Options: ``dialect`` (``"openai"``, ``"vllm"`` or ``"siliconflow"``), ``model`` (default
``"mock-model"``; with ``thinking=True`` and no model, ``"mock-thinking"``), ``base_url`` (use a
mock server that is already running instead of starting one), ``mock_api_key`` (start the
server requiring that key; pass the same as ``api_key``), ``serve_models`` (more model ids the
started server serves, such as ``["text-embedding-3-small"]`` for ``llm.embed``).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from typing import Any

from hookwire.errors import ConfigError
from hookwire.llm import ChatRequest, OpenAICompatibleProvider
from hookwire.llm.openai_compatible import ThinkingStyle
from hookwire.plugin import ProviderRegister, hookimpl

DEFAULT_MODEL = "mock-model"
THINKING_MODEL = "mock-thinking"

_servers: dict[tuple[str, str | None, tuple[str, ...]], Any] = {}
_lock = threading.Lock()


def _stop_all() -> None:
    with _lock:
        for server in _servers.values():
            server.stop()
        _servers.clear()


def start_server(
    dialect: str = "openai", api_key: str | None = None, models: tuple[str, ...] = ()
) -> str:
    """The ``/v1`` URL of the process's mock server for ``dialect`` (also serving ``models``),
    started if needed."""
    key = (dialect, api_key, models)
    with _lock:
        server = _servers.get(key)
        if server is None:
            try:  # lazy: only the mock provider needs the server, and only when asked for
                from hookwire.mockserver.config import MockConfig
                from hookwire.mockserver.server import LiveServer
            except ImportError as exc:
                raise ConfigError(
                    "the mock provider runs the bundled mock server, which needs the mock "
                    f"extra ({exc.name} is not installed): pip install 'hookwire[mock]'"
                ) from exc

            if not _servers:
                atexit.register(_stop_all)
            config = MockConfig(dialect=dialect, api_key=api_key, models=models)
            server = LiveServer(config).start()
            _servers[key] = server
        return str(server.openai_base_url)


class MockProvider(OpenAICompatibleProvider):
    name = "mock"
    env_var = None
    key_required = False
    default_thinking_style: ThinkingStyle = "enable_thinking"
    tokenize_path = "/tokenize"  # vLLM's, at the server root: exact counts

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        dialect: str = "openai",
        mock_api_key: str | None = None,
        serve_models: Sequence[str] = (),
        **options: Any,
    ) -> None:
        self.dialect = dialect
        self._explicit_model = model is not None
        url = base_url or start_server(dialect, mock_api_key, tuple(serve_models))
        super().__init__(model=model or DEFAULT_MODEL, base_url=url, **options)

    def resolve_model(self, req: ChatRequest) -> str:
        if req.model is None and not self._explicit_model and req.thinking:
            return THINKING_MODEL
        return super().resolve_model(req)


@hookimpl(trylast=True)
def hookwire_register_providers(register: ProviderRegister) -> None:
    register("mock", MockProvider)
