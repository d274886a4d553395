"""What ``verify=`` and ``cert=`` accept, per client and per request, and which CA bundle the
environment names: decided here once, so every transport gets the same :class:`TLSSettings`.

The habits users carry over: requests reads ``REQUESTS_CA_BUNDLE`` then ``CURL_CA_BUNDLE``,
httpx reads ``SSL_CERT_FILE`` then ``SSL_CERT_DIR``; both only when ``trust_env`` and only
while ``verify`` is left True, and requests takes ``verify=``/``cert=`` on every call. An
``ssl.SSLContext`` is taken as the whole decision (what to trust, hostname checks, a client
certificate loaded into it), so ``cert=`` beside one is refused rather than silently dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hookwire.errors import ConfigError, InvalidRequest
from hookwire.transports import CertTypes, TLSSettings, VerifyTypes

#: Variables naming a CA bundle (file or directory), first set wins: requests' order, then
#: httpx's.
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def ca_bundle_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle the environment names, or None; a name that points nowhere is a
    ``ConfigError`` naming the variable (requests fails too, later and less clearly)."""
    env = os.environ if environ is None else environ
    for name in CA_BUNDLE_ENV:
        path = env.get(name)
        if path:
            if not os.path.exists(path):
                raise ConfigError(
                    f"{name} names a CA bundle that does not exist: {path} "
                    "(fix or unset it, or pass verify= or trust_env=False)"
                )
            return path
    return None


def _path(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fsdecode(os.fspath(value))
    return None


def check_verify(verify: object) -> VerifyTypes:
    if isinstance(verify, bool):
        return verify
    path = _path(verify)
    if path is not None:
        if not path:
            raise InvalidRequest("verify= got an empty path; pass True, False or a CA bundle")
        return path
    import ssl  # here: only a caller that handed over something else pays for the import

    if isinstance(verify, ssl.SSLContext):
        return verify
    raise InvalidRequest(
        "verify= takes True, False, a CA bundle path or an ssl.SSLContext, "
        f"not {type(verify).__name__}"
    )


def check_cert(cert: object) -> CertTypes:
    if cert is None:
        return None
    path = _path(cert)
    if path is not None and path:
        return path
    if isinstance(cert, tuple) and len(cert) == 2:
        pair = (_path(cert[0]), _path(cert[1]))
        if pair[0] and pair[1]:
            return (pair[0], pair[1])
    raise InvalidRequest(
        f"cert= takes a PEM file path or a (cert path, key path) pair, not {type(cert).__name__}"
    )


def settings(verify: object, cert: object) -> TLSSettings:
    """Checked ``(verify, cert)``: wrong types are an ``InvalidRequest`` naming the argument."""
    checked = TLSSettings(check_verify(verify), check_cert(cert))
    if checked.cert is not None and not isinstance(checked.verify, (bool, str)):
        raise InvalidRequest(
            "cert= cannot go with verify=ssl.SSLContext: the context decides the whole TLS "
            "setup, so load the client certificate into it (context.load_cert_chain(...))"
        )
    return checked


def check_files(tls: TLSSettings) -> None:
    """A per-request CA bundle or certificate that does not exist: ``InvalidRequest`` now,
    not a TLS failure later."""
    paths: list[tuple[str, str]] = []
    if isinstance(tls.verify, str):
        paths.append(("verify=", tls.verify))
    if isinstance(tls.cert, str):
        paths.append(("cert=", tls.cert))
    elif tls.cert is not None:
        paths += [("cert=", tls.cert[0]), ("cert= key", tls.cert[1])]
    for what, path in paths:
        if not os.path.exists(path):
            raise InvalidRequest(f"{what} names a file that does not exist: {path}")
