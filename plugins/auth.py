"""Built-in auth schemes, registered by name: basic, bearer (alias token), api-key, digest, proxy.

The flows themselves live in :mod:`hookwire.auth` (sans-IO, shared by every transport); this plugin
only makes them available by name, e.g. ``hookwire.make_auth("digest", "user", "pass")`` or the
CLI's ``--auth-type digest``.
"""

from __future__ import annotations

from hookwire import auth
from hookwire.plugin import AuthRegister, hookimpl


@hookimpl(trylast=True)
def hookwire_register_auth(register: AuthRegister) -> None:
    register("basic", auth.BasicAuth)
    register("bearer", auth.BearerAuth, aliases=("token",))
    register("api-key", auth.APIKeyAuth)
    register("proxy", auth.ProxyAuth)
    digest = getattr(auth, "DigestAuth", None)
    if digest is not None:
        register("digest", digest)
