"""The hooks a hookwire plugin can implement (pluggy project name ``hookwire``).

A plugin is a module or object with functions marked ``@hookimpl`` whose names match these
specs. Declare it as an entry point in the ``hookwire`` group of your package::

    [project.entry-points.hookwire]
    myplugin = "mypackage.myplugin"

Hook arguments are passed by keyword, and an implementation may accept a subset of them, so
these specs can gain arguments without breaking plugins. pluggy is synchronous: collection
hooks run at setup time; observation hooks must be pure and fast (nothing awaited, no I/O
that can block).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from hookwire._models import Request, Response
    from hookwire.llm.observe import LLMCall
    from hookwire.llm.tools import Tool
    from hookwire.llm.types import ToolCall, ToolRun
    from hookwire.registry import AuthRegister, ProviderRegister, TransportRegister

PROJECT = "hookwire"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- collections: register callbacks ------------------------------------------------------


@hookspec
def hookwire_register_auth(register: AuthRegister) -> None:
    """Register auth schemes: ``register("digest", factory, aliases=(...))``.

    ``factory(*args, **kwargs)`` returns a :class:`hookwire.auth.Auth`; users build one by
    name with ``hookwire.make_auth("digest", "user", "pass")`` and pass it as ``auth=``.
    """


@hookspec
def hookwire_register_transports(register: TransportRegister) -> None:
    """Register transports: ``register("httpx", sync=Factory, async_=AsyncFactory)``.

    Either face may be omitted. Each factory is called as ``factory(options=..., host=...)``:
    a :class:`hookwire.transports.TransportOptions` and the
    :class:`~hookwire.registry.PluginHost` the transport was looked up on.
    """


@hookspec
def hookwire_register_providers(register: ProviderRegister) -> None:
    """Register LLM providers: ``register("openai", factory, aliases=(...))``.

    ``factory(**options)`` returns an :class:`hookwire.llm.Provider`.
    """


# -- choosing defaults: first non-None result wins ----------------------------------------


@hookspec(firstresult=True)
def hookwire_default_transport(is_async: bool) -> str | None:
    """Name the default transport; stops at the first non-None result.

    The built-in answer is ``trylast``, so any plugin returning a name overrides it.
    """


# -- observation: pure and fast -------------------------------------------------------------


@hookspec
def hookwire_request_prepared(request: Request) -> None:
    """A request is about to be sent (after auth, before the transport); may add headers."""


@hookspec
def hookwire_response_received(request: Request, response: Response) -> None:
    """Response headers arrived (the body may still be streaming)."""


@hookspec
def hookwire_retry_scheduled(request: Request, attempt: int, delay: float, reason: str) -> None:
    """The client will retry ``request`` after ``delay`` seconds; ``attempt`` is the next try."""


@hookspec
def hookwire_request_failed(request: Request, error: BaseException) -> None:
    """A request failed for good (retries exhausted or not retryable)."""


# -- observation of LLM calls (every provider, local ones included) ---------------------------


@hookspec
def hookwire_llm_request(call: LLMCall) -> None:
    """An LLM call is about to be sent: ``call.operation`` is ``"chat"``, ``"stream"`` or
    ``"embeddings"``; each reply of a tool loop is its own call (``call.turn``)."""


@hookspec
def hookwire_llm_first_token(call: LLMCall, seconds: float) -> None:
    """A stream's first content, reasoning or tool-call delta arrived, ``seconds`` after the
    request."""


@hookspec
def hookwire_llm_tool_call(call: LLMCall | None, run: ToolRun) -> None:
    """A tool of the automatic loop ran, failed or was refused (``run.approved``), for the reply
    of ``call``."""


@hookspec
def hookwire_llm_response(call: LLMCall, result: object) -> None:
    """The call completed: ``result`` is the ``ChatResult`` (or ``EmbeddingResult``). A stream
    closed before its end gives its partial result, with ``call.outcome == "closed"``."""


@hookspec
def hookwire_llm_error(call: LLMCall, error: BaseException) -> None:
    """The call failed with ``error`` (a stream's carries ``.partial``)."""


@hookspec(firstresult=True)
def hookwire_approve_tool_call(
    call: LLMCall | None, tool_call: ToolCall, tool: Tool | None
) -> bool | None:
    """Whether the tool loop may run ``tool_call``: return ``False`` to veto it (the model is
    told it was refused), ``None`` to leave the decision to others (and to ``approve=``)."""


@hookspec
def hookwire_llm_route(
    router: object, deployment: str | None, event: str, error: BaseException | None
) -> None:
    """A router's decision: ``event`` is ``"attempt"`` (a call goes to ``deployment``),
    ``"success"``, ``"fallback"`` (it failed with ``error`` and the next one is tried),
    ``"error"`` (it failed with an error that does not fall back), ``"cooldown"`` (the
    deployment is skipped for a while) or ``"exhausted"`` (no deployment left)."""
