"""One error tree for the whole SDK.

Every transport maps its backend's exceptions onto these classes at its boundary and chains the
original with ``raise ... from exc``, so no ``requests.*``, ``httpx.*`` or ``aiohttp.*`` exception
reaches a user of the SDK::

    SDKError
    ├── PluginError                  a plugin failed to import or broke its hook spec
    ├── ConfigError                  bad or missing configuration
    │   ├── MissingAPIKeyError       names the environment variable to set
    │   └── ModelLoadError           a local model or tokenizer could not be loaded
    ├── GenerationError              a local model's generate() failed; .partial kept
    ├── StructuredOutputError (ValueError)  no reply matched the schema: .attempts
    ├── NoDeploymentAvailable        every deployment of a router is cooling down: .retry_after
    ├── ToolLoopError                the automatic tool loop stopped: .tool_runs, .messages
    │   ├── MaxTurnsExceeded         the model still asked for tools after max_turns replies
    │   └── ToolExecutionError       a tool raised and tool_errors="raise": .run
    ├── InvalidRequest (ValueError)  rejected before anything was sent
    │   ├── InvalidURL
    │   ├── InvalidHeader            CR/LF in a header, method or URL
    │   ├── UnreplayableBodyError    a one-shot body would have to be sent twice
    │   ├── ContextLengthExceeded    a prompt cannot fit max_context: .tokens, .max_context
    │   └── FeatureNotSupported      the provider cannot do what was asked (embeddings...)
    ├── RequestError                 .request, .attempts
    │   ├── TransportError
    │   │   ├── TimeoutException
    │   │   │   ├── ConnectTimeout
    │   │   │   ├── ReadTimeout
    │   │   │   ├── WriteTimeout
    │   │   │   ├── PoolTimeout
    │   │   │   └── DeadlineExceeded       the total deadline passed
    │   │   ├── NetworkError
    │   │   │   ├── ConnectError
    │   │   │   ├── ReadError
    │   │   │   └── WriteError
    │   │   ├── ProxyError
    │   │   ├── TLSError
    │   │   ├── CassetteError              no recorded interaction answers a replayed request
    │   │   └── ProtocolError              malformed HTTP, SSE or JSON from the peer
    │   │       ├── DecodingError          a body is not valid JSON/text (also a ValueError)
    │   │       └── BodyTooLarge           a size limit was passed (decompression bombs too)
    │   ├── TooManyRedirects
    │   ├── AuthenticationError            credentials were refused (401 after auth)
    │   │   └── DigestChallengeError       a Digest challenge cannot be answered (also a ValueError)
    │   ├── HTTPStatusError                .response; raised by raise_for_status()
    │   │   └── APIStatusError             an LLM provider's error body, parsed
    │   │       ├── BadRequestError (400)
    │   │       ├── APIAuthenticationError (401; also an AuthenticationError)
    │   │       ├── PermissionDeniedError (403), NotFoundError (404), ConflictError (409)
    │   │       ├── UnprocessableEntityError (422), RateLimitError (429, .retry_after)
    │   │       └── InternalServerError (>= 500)
    │   └── StreamError                    .partial (what arrived before the failure)
    │       ├── StreamInterrupted          the connection broke after the first chunk
    │       ├── StreamTruncated            ended without [DONE] or a finish_reason
    │       └── StreamErrorEvent           an ``error`` event arrived mid-stream
    └── RetryError                          retries ran out: .attempts, .last_response, .__cause__

Programming errors derive from ``RuntimeError`` outside the root, so ``except SDKError`` never
swallows a bug: ``StreamConsumed``, ``ResponseNotRead``, ``ClientClosed``.

Every error pickles (``__reduce__`` keeps the message and context attributes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookwire._models import Request, Response

__all__ = [
    "APIAuthenticationError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "BodyTooLarge",
    "CassetteError",
    "ClientClosed",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "ContextLengthExceeded",
    "DeadlineExceeded",
    "DecodingError",
    "DigestChallengeError",
    "FeatureNotSupported",
    "GenerationError",
    "HTTPStatusError",
    "InternalServerError",
    "InvalidHeader",
    "InvalidRequest",
    "InvalidURL",
    "MaxTurnsExceeded",
    "MissingAPIKeyError",
    "ModelLoadError",
    "NetworkError",
    "NoDeploymentAvailable",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "RateLimitError",
    "ReadError",
    "ReadTimeout",
    "RequestError",
    "ResponseNotRead",
    "RetryError",
    "SDKError",
    "StreamConsumed",
    "StreamError",
    "StreamErrorEvent",
    "StreamInterrupted",
    "StreamTruncated",
    "StructuredOutputError",
    "TLSError",
    "TimeoutException",
    "TooManyRedirects",
    "ToolExecutionError",
    "ToolLoopError",
    "TransportError",
    "UnprocessableEntityError",
    "UnreplayableBodyError",
    "WriteError",
    "WriteTimeout",
    "status_error_class",
]


class SDKError(Exception):
    """Root of every error the SDK raises on purpose."""

    #: Keyword attributes restored by pickling; subclasses extend it.
    _context: tuple[str, ...] = ()

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(message)
        self.message = message
        for name in self._context:
            setattr(self, name, context.pop(name, None))
        if context:
            raise TypeError(f"{type(self).__name__} got unexpected context {sorted(context)}")

    def __reduce__(self) -> tuple[Any, ...]:
        state = {name: getattr(self, name, None) for name in self._context}
        return (_rebuild, (type(self), self.message, state))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[SDKError], message: str, state: dict[str, Any]) -> SDKError:
    return cls(message, **state)


class PluginError(SDKError):
    """A plugin failed to import, or its hook implementations break the spec."""

    _context = ("plugin",)


class ConfigError(SDKError):
    """Configuration is missing or invalid."""


class MissingAPIKeyError(ConfigError):
    """No API key was found; ``.env_var`` names the variable that would provide one."""

    _context = ("provider", "env_var")


class ModelLoadError(ConfigError):
    """A local model or tokenizer could not be loaded; the message names the path and why."""


class GenerationError(SDKError):
    """A local model's ``generate`` failed (out of memory, a broken model, a bad processor).

    ``.partial`` holds the text produced before the failure, when there was a stream; the
    original exception is ``__cause__``.
    """

    _context = ("partial",)


class StructuredOutputError(SDKError, ValueError):
    """No reply validated against the ``response_format`` schema, re-asks included.

    ``.attempts`` is a list of ``(text, error)``, one per reply in order: what the model wrote
    and why it was refused (not JSON, or the schema/pydantic validation message).
    """

    _context = ("attempts",)


class NoDeploymentAvailable(SDKError):
    """Every deployment a router could use is cooling down after failures; ``.retry_after``
    is the seconds until the first one is back."""

    _context = ("retry_after",)


class ToolLoopError(SDKError):
    """The automatic tool loop (``tools=[a_function]``) stopped without a final reply.

    ``.tool_runs`` lists every :class:`~hookwire.llm.types.ToolRun` so far, ``.messages`` the
    exchange after the prompt (assistant turns and tool results), ``.result`` the last reply.
    """

    _context: tuple[str, ...] = ("tool_runs", "messages", "result")


class MaxTurnsExceeded(ToolLoopError):
    """The model still asked for tools after ``max_turns`` replies."""


class ToolExecutionError(ToolLoopError):
    """A tool raised and the loop runs with ``tool_errors="raise"``: ``.run`` is its
    :class:`~hookwire.llm.types.ToolRun`, the tool's exception is ``__cause__``."""

    _context = ("tool_runs", "messages", "result", "run")


class InvalidRequest(SDKError, ValueError):
    """The request was rejected before anything was sent."""


class InvalidURL(InvalidRequest):
    """The URL cannot be sent (bad scheme, no host, control characters)."""


class InvalidHeader(InvalidRequest):
    """A header name or value, the method or the URL holds CR, LF or NUL."""


class UnreplayableBodyError(InvalidRequest):
    """A one-shot body (a generator) would have to be sent a second time.

    Raised instead of silently sending an empty body after a digest challenge, a redirect that
    keeps the body, or a retry.
    """


class ContextLengthExceeded(InvalidRequest):
    """The prompt (plus ``max_tokens``) cannot fit the context window, found before sending.

    ``tokens`` is the prompt's count, ``reserved`` the reply's ``max_tokens`` (0 if unset),
    ``max_context`` the limit and ``exact`` whether the count came from the model's tokenizer
    (False: an estimate)."""

    _context = ("tokens", "reserved", "max_context", "exact")


class FeatureNotSupported(InvalidRequest):
    """The provider has no such feature (embeddings on a chat-only backend...): ``.feature``."""

    _context = ("feature", "provider")


class RequestError(SDKError):
    """Something went wrong while sending ``.request``; ``.attempts`` counts tries made."""

    _context: tuple[str, ...] = ("request", "attempts")
    request: Request | None
    attempts: int | None


class TransportError(RequestError):
    """The transport could not complete the exchange."""


class TimeoutException(TransportError):
    """Base of every timeout (never named ``TimeoutError``, which is a builtin)."""


class ConnectTimeout(TimeoutException):
    """No connection was made within the connect timeout."""


class ReadTimeout(TimeoutException):
    """The peer sent nothing within the read (or idle) timeout."""


class WriteTimeout(TimeoutException):
    """The request body could not be sent within the write timeout."""


class PoolTimeout(TimeoutException):
    """No connection became free in the pool in time."""


class DeadlineExceeded(TimeoutException):
    """The total deadline of the call (every attempt and wait included) passed."""


class NetworkError(TransportError):
    """The network failed underneath an exchange."""


class ConnectError(NetworkError):
    """The connection was refused or could not be made."""


class ReadError(NetworkError):
    """The connection broke while reading the response."""


class WriteError(NetworkError):
    """The connection broke while sending the request."""


class ProxyError(TransportError):
    """The proxy refused or failed the connection."""


class TLSError(TransportError):
    """TLS handshake or certificate verification failed."""


class CassetteError(TransportError):
    """A cassette has no recorded interaction for this request and may not record it.

    The message names the closest recorded request and how it differs; ``.closest`` is that
    request as ``{"method", "uri"}`` (or None), ``.differences`` the differences, one each.
    Never retried: a replay gives the same answer every time.
    """

    _context = (*RequestError._context, "closest", "differences")


class ProtocolError(TransportError):
    """The peer broke HTTP, SSE or JSON framing; the message says where."""


class DecodingError(ProtocolError, ValueError):
    """A body could not be decoded (invalid JSON, for instance)."""


class BodyTooLarge(ProtocolError):
    """A body (after decompression) passed its size limit."""

    _context = (*RequestError._context, "limit")


class TooManyRedirects(RequestError):
    """More redirects than ``max_redirects``, or a loop."""

    _context = (*RequestError._context, "history")


class AuthenticationError(RequestError):
    """The server refused the credentials the auth flow sent (a second 401)."""

    _context = (*RequestError._context, "response")


class HTTPStatusError(RequestError):
    """A 4xx/5xx response, raised by ``raise_for_status()``; carries ``.response``."""

    _context = (*RequestError._context, "response")
    response: Response | None

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None


class APIStatusError(HTTPStatusError):
    """An LLM provider's error, with the provider's ``error`` body parsed."""

    _context = (*HTTPStatusError._context, "body", "code", "type", "param")


class BadRequestError(APIStatusError):
    """400."""


class APIAuthenticationError(APIStatusError, AuthenticationError):
    """401 from a provider: the API key is missing or wrong.

    Also an :class:`AuthenticationError`, so one ``except hookwire.AuthenticationError``
    catches every refused credential, from a plain HTTP call or an LLM provider.
    """

    _context = APIStatusError._context


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404 (an unknown model, typically)."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429; ``.retry_after`` is the server's wait in seconds when it sent one."""

    _context = (*APIStatusError._context, "retry_after")


class InternalServerError(APIStatusError):
    """Any status >= 500."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: APIAuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The ``APIStatusError`` subclass for a status code."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


class StreamError(RequestError):
    """A stream failed after it began; ``.partial`` holds what had arrived."""

    _context = (*RequestError._context, "partial")


class StreamInterrupted(StreamError):
    """The connection broke after the first chunk; no retry is attempted past that point."""


class StreamTruncated(StreamError):
    """The stream ended cleanly but without ``[DONE]`` or a finish_reason."""


class StreamErrorEvent(StreamError):
    """The server sent an ``error`` event in the middle of the stream."""

    _context = (*StreamError._context, "body")


class RetryError(SDKError):
    """Every attempt failed; the last failure is ``__cause__`` and ``.last_response``."""

    _context = ("request", "attempts", "last_response", "retry_after")


class StreamConsumed(RuntimeError):
    """A streamed body was iterated twice."""


class ResponseNotRead(RuntimeError):
    """``.content`` was used on a streamed response before ``read()``."""


class ClientClosed(RuntimeError):
    """The client was used after ``close()``."""


# -- appended by the sans-IO core (sdk/_digest.py) --------------------------------------------
class DigestChallengeError(AuthenticationError, ValueError):
    """A ``WWW-Authenticate: Digest`` challenge cannot be answered: it is malformed (no nonce),
    or offers only algorithms or qop values this SDK does not implement (the message names them).

    An authentication failure rather than a transport error, so the retry policy never repeats it.
    """
