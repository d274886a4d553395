"""Building an ``LLM`` from the flags; ``hookwire.LLM`` itself merges the config file and keys.

Precedence is flags > environment > config file: a flag is passed explicitly, and the facade
and provider fill in the rest (``HOOKWIRE_PROVIDER``/``HOOKWIRE_MODEL``, ``[providers.<name>]``
settings, ``<PROVIDER>_API_KEY`` or a stored key).

With no provider anywhere the bundled mock answers. That is said once per command, and only
when stderr is a terminal: a person trying hookwire out learns why the answers echo, while
scripts and logs stay clean. Choosing the mock (``-p mock``, ``provider = "mock"``) or any
other provider silences it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from hookwire.cli._errors import CLIError, describe
from hookwire.cli._output import is_tty, notice
from hookwire.cli._redact import public_url
from hookwire.config import env_var_for, load_config
from hookwire.errors import ConnectError, ConnectTimeout, SDKError

MOCK = "mock"
MOCK_NOTICE = (
    "hookwire: no provider configured, using the bundled mock model "
    "(pick one with --provider, HOOKWIRE_PROVIDER or `provider =` in the config file)"
)


def build_llm(
    provider: str | None, model: str | None = None, base_url: str | None = None, **options: Any
) -> Any:
    """The ``hookwire.LLM`` for the flags, falling back to the mock (see the module doc)."""
    from hookwire.llm import LLM

    if provider is None and load_config().default_provider is None:
        if is_tty(sys.stderr):
            notice(MOCK_NOTICE)
        provider = MOCK
    if provider == "transformers" and "progress" not in options:
        from hookwire.cli._progress import LoadProgress

        options["progress"] = LoadProgress()  # loading weights can take minutes: show it
    explicit = {"model": model, "base_url": base_url}
    options.update({k: v for k, v in explicit.items() if v is not None})
    return LLM(provider, **options)


def base_url_of(llm: Any) -> str | None:
    """The server URL the provider talks to (credentials and query removed), if it has one."""
    return public_url(getattr(llm.provider, "base_url", None))


def unreachable(exc: BaseException, llm: Any) -> CLIError | None:
    """For a refused or timed-out connection, the error with what to do about it."""
    if not isinstance(exc, (ConnectError, ConnectTimeout)):
        return None
    tried = base_url_of(llm)
    if tried is None:
        return None
    name = str(llm.name)
    start = " (`hookwire vllm serve MODEL` starts one)" if name == "vllm" else ""
    return CLIError(
        f"{describe(exc)}. Nothing answers at {tried}: start the server{start}, or point "
        f"--base-url (or {env_var_for(name, 'BASE_URL')}) at the one you run"
    )


@contextlib.contextmanager
def hinting(llm: Any) -> Iterator[None]:
    """Re-raise an unreachable server's error with :func:`unreachable`'s advice."""
    try:
        yield
    except SDKError as exc:
        hint = unreachable(exc, llm)
        if hint is None:
            raise
        raise hint from exc
