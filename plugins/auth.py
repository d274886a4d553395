"""Built-in auth schemes, registered by name: basic, bearer (alias token), api-key, digest, proxy.

The flows themselves live in :mod:`sdk.auth` (sans-IO, shared by every transport); this plugin
only makes them available by name, e.g. ``sdk.make_auth("digest", "user", "pass")`` or the
CLI's ``--auth-type digest``.
"""

from __future__ import annotations

from sdk import auth
from sdk.hookspecs import hookimpl
from sdk.registry import Register


@hookimpl(trylast=True)
def sdk_register_auth(register: Register) -> None:
    register("basic", auth.BasicAuth)
    register("bearer", auth.BearerAuth, aliases=("token",))
    register("api-key", auth.APIKeyAuth)
    register("proxy", auth.ProxyAuth)
    digest = getattr(auth, "DigestAuth", None)
    if digest is not None:
        register("digest", digest)
