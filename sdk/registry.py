"""The plugin manager and the name registries it fills (auth schemes, transports, providers).

Every plugin, built-in ones included, arrives through the ``hookwire`` entry-point group. A plugin
that fails to import or breaks the hook specs is recorded as a :class:`~hookwire.errors.PluginError`
naming it, logged, and left out; the SDK keeps working without it. Plugins are blocked by name
with ``PluginHost(disable=[...])`` or the ``HOOKWIRE_DISABLE_PLUGINS`` environment variable
(comma-separated).

When two plugins register the same name, the first registration wins. Hooks run in pluggy
order, so a plugin overrides a built-in (whose hooks are ``trylast``) just by registering it.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

from hookwire import hookspecs
from hookwire.errors import InvalidRequest, PluginError

if TYPE_CHECKING:
    from hookwire.auth import Auth
    from hookwire.llm.provider import Provider
    from hookwire.transports import (
        AsyncBaseTransport,
        AsyncTransportFactory,
        BaseTransport,
        TransportFactory,
        TransportOptions,
    )

log = logging.getLogger("hookwire.plugins")

DISABLE_ENV = "HOOKWIRE_DISABLE_PLUGINS"


class AuthRegister(Protocol):
    """What ``hookwire_register_auth`` receives: ``register("digest", DigestAuth)``.

    ``factory(*args, **kwargs)`` builds the :class:`~hookwire.auth.Auth`;
    ``hookwire.make_auth(name, *args, **kwargs)`` calls it.
    """

    def __call__(
        self, name: str, factory: Callable[..., Auth], /, *, aliases: Sequence[str] = ()
    ) -> None: ...


class TransportRegister(Protocol):
    """What ``hookwire_register_transports`` receives: ``register("h", sync=F, async_=AF)``.

    Either face may be left out. Each factory is called as ``factory(options=..., host=...)``
    with the client's :class:`~hookwire.transports.TransportOptions` and the
    :class:`PluginHost` it was looked up on (a wrapper resolves its inner transport there).
    """

    def __call__(
        self,
        name: str,
        /,
        *,
        sync: TransportFactory | None = None,
        async_: AsyncTransportFactory | None = None,
    ) -> None: ...


class ProviderRegister(Protocol):
    """What ``hookwire_register_providers`` receives: ``register("openai", factory)``.

    ``factory(**options)`` returns a :class:`~hookwire.llm.Provider`; when it accepts
    ``plugins=``, it is given the host whose hooks its clients should run.
    """

    def __call__(
        self, name: str, factory: Callable[..., Provider], /, *, aliases: Sequence[str] = ()
    ) -> None: ...


@dataclass(frozen=True)
class Entry:
    """One registered name: what it maps to, and which plugin registered it."""

    name: str
    value: Any
    plugin: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransportEntry:
    """One registered transport with its two faces (either may be ``None``)."""

    name: str
    sync: TransportFactory | None
    async_: AsyncTransportFactory | None
    plugin: str

    def face(self, *, is_async: bool) -> TransportFactory | AsyncTransportFactory | None:
        return self.async_ if is_async else self.sync


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    registers: tuple[str, ...] = ()


class PluginHost:
    """A pluggy manager with the SDK's specs, its plugins loaded, and lazy registries."""

    def __init__(
        self,
        *,
        disable: Iterable[str] = (),
        load_entrypoints: bool = True,
        plugins: Iterable[tuple[str, object]] = (),
        environ: dict[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.blocked = {n.strip() for n in env.get(DISABLE_ENV, "").split(",") if n.strip()}
        self.blocked.update(disable)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.errors: list[PluginError] = []
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        self._registries: dict[str, dict[str, Entry]] = {}
        self._transports: dict[str, TransportEntry] | None = None
        self._lock = threading.RLock()
        if load_entrypoints:
            self._load_entrypoints()
        for name, plugin in plugins:
            self.register(plugin, name)

    # -- loading ------------------------------------------------------------------------
    def _load_entrypoints(self) -> None:
        for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
            if ep.name in self.blocked or self.pm.has_plugin(ep.name):
                continue
            dist = getattr(ep, "dist", None)
            self._dists[ep.name] = (
                getattr(dist, "name", None),
                getattr(dist, "version", None),
            )
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, f"failed to import ({type(exc).__name__}: {exc})", exc)
                continue
            self.register(plugin, ep.name)

    def register(self, plugin: object, name: str) -> bool:
        """Register ``plugin`` under ``name``; record a PluginError instead of raising."""
        if name in self.blocked:
            return False
        with self._lock:
            try:
                self.pm.register(plugin, name=name)
                self.pm.check_pending()
            except Exception as exc:
                if self.pm.has_plugin(name):
                    self.pm.unregister(name=name)
                self._fail(name, f"breaks the hook specs ({exc})", exc)
                return False
            self._registries.clear()
            self._transports = None
        return True

    def _fail(self, name: str, why: str, exc: BaseException) -> None:
        error = PluginError(f"plugin {name!r} {why}", plugin=name)
        error.__cause__ = exc
        self.errors.append(error)
        log.warning("%s", error)

    # -- registries -----------------------------------------------------------------------
    def _collect(self, hook_name: str) -> dict[str, Entry]:
        with self._lock:
            if hook_name in self._registries:
                return self._registries[hook_name]
            entries: dict[str, Entry] = {}
            caller = getattr(self.pm.hook, hook_name)
            for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last one first
                plugin_name = impl.plugin_name

                def register(
                    name: str, *args: Any, _plugin: str = plugin_name, **kwargs: Any
                ) -> None:
                    if name in entries:
                        return
                    value = args[0] if len(args) == 1 else (args or None)
                    entries[name] = Entry(name, value, _plugin, dict(kwargs))
                    for alias in kwargs.get("aliases", ()):
                        entries.setdefault(alias, Entry(alias, value, _plugin, dict(kwargs)))

                try:
                    impl.function(register=register)
                except Exception as exc:
                    self._fail(plugin_name, f"raised in {hook_name} ({exc})", exc)
            self._registries[hook_name] = entries
            return entries

    def transports(self) -> dict[str, TransportEntry]:
        """Every registered transport by name, each with its sync and async factory."""
        with self._lock:
            cached = self._transports
            if cached is None:
                cached = {
                    name: TransportEntry(
                        name, e.options.get("sync"), e.options.get("async_"), e.plugin
                    )
                    for name, e in self._collect("hookwire_register_transports").items()
                }
                self._transports = cached
            return cached

    def transport(self, name: str) -> TransportEntry:
        """The transport registered as ``name``; a PluginError naming the known ones if none."""
        entries = self.transports()
        if name not in entries:
            self._unknown("transport", name, entries)
        return entries[name]

    def transport_factory(
        self, name: str, *, is_async: bool
    ) -> Callable[[TransportOptions], BaseTransport | AsyncBaseTransport]:
        """``make(options)`` building the ``name`` transport's sync or async face.

        The factory is handed this host (``host=``), so a transport that wraps another looks
        its inner transport up on the same host rather than the process-wide one.
        """
        entry = self.transport(name)
        face = entry.face(is_async=is_async)
        if face is None:
            kind, other = ("async", "Client") if is_async else ("sync", "AsyncClient")
            raise InvalidRequest(
                f"transport {name!r} has no {kind} implementation; "
                f"use {other} or another transport"
            )

        def make(options: TransportOptions) -> BaseTransport | AsyncBaseTransport:
            made: BaseTransport | AsyncBaseTransport = face(options=options, host=self)
            return made

        return make

    def auth_schemes(self) -> dict[str, Entry]:
        return self._collect("hookwire_register_auth")

    def providers(self) -> dict[str, Entry]:
        return self._collect("hookwire_register_providers")

    def lookup(self, kind: str, name: str) -> Entry:
        """The ``auth`` scheme or ``provider`` registered as ``name`` (transports:
        :meth:`transport`)."""
        table = {"auth": self.auth_schemes, "provider": self.providers}[kind]()
        if name not in table:
            self._unknown(kind, name, table)
        return table[name]

    def _unknown(self, kind: str, name: str, table: dict[str, Any]) -> None:
        known = ", ".join(sorted(table)) or "none"
        hint = ""
        if any(getattr(e, "plugin", None) == name for e in self.errors):
            hint = f" (plugin {name!r} failed to load: see PluginHost.errors)"
        raise PluginError(f"no {kind} named {name!r}; available: {known}{hint}", plugin=name)

    def default_transport(self, *, is_async: bool) -> str:
        name = self.pm.hook.hookwire_default_transport(is_async=is_async)
        if name:
            return str(name)
        for entry in self.transports().values():
            if entry.face(is_async=is_async) is not None:
                return entry.name
        raise PluginError(f"no {'async' if is_async else 'sync'} transport is installed")

    # -- observation ----------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        return self.pm.hook

    def plugins(self) -> list[PluginInfo]:
        """What loaded, with versions and what each registered (for ``hookwire plugins``)."""
        registered: dict[str, list[str]] = {}
        for kind, table in (
            ("auth", self.auth_schemes()),
            ("transport", self.transports()),
            ("provider", self.providers()),
        ):
            for entry in table.values():
                registered.setdefault(entry.plugin, []).append(f"{kind}:{entry.name}")
        infos = []
        for name, _plugin in self.pm.list_name_plugin():
            if name is None:
                continue
            dist, version = self._dists.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, tuple(registered.get(name, ()))))
        return sorted(infos, key=lambda i: i.name)


_host: PluginHost | None = None
_host_lock = threading.Lock()


def get_plugin_host() -> PluginHost:
    """The process-wide host, built on first use (so ``import hookwire`` stays cheap)."""
    global _host
    if _host is None:
        with _host_lock:
            if _host is None:
                _host = PluginHost()
    return _host


def set_plugin_host(host: PluginHost | None) -> None:
    """Replace the process-wide host (``None`` rebuilds it on next use); for tests and apps."""
    global _host
    with _host_lock:
        _host = host

