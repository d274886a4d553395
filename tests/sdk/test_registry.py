"""The plugin host: entry-point loading, blocking, failures, and third-party registration."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from typing import Any

import pytest

import hookwire
from hookwire.errors import PluginError
from hookwire.hookspecs import hookimpl
from hookwire.registry import PluginHost
from hookwire.transports import BaseTransport, TransportOptions


def _fake_entry_points(
    monkeypatch: pytest.MonkeyPatch, modules: dict[str, types.ModuleType | None]
) -> None:
    """Add entry points in the ``hookwire`` group without installing anything."""
    real = importlib.metadata.entry_points
    extra = []
    for name, module in modules.items():
        mod_name = f"fake_hookwire_plugin_{name.replace('-', '_')}"
        if module is not None:
            monkeypatch.setitem(sys.modules, mod_name, module)
        extra.append(importlib.metadata.EntryPoint(name=name, value=mod_name, group="hookwire"))

    def entry_points(**kwargs: Any) -> Any:
        found = real(**kwargs)
        if kwargs.get("group") == "hookwire":
            return list(found) + extra
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


class EchoTransport(BaseTransport):
    def __init__(self, *, options: TransportOptions, host: PluginHost) -> None:
        self.options = options
        self.host = host

    def handle_request(self, request: hookwire.Request) -> hookwire.Response:
        return hookwire.Response(299, content=request.url.encode(), request=request)


class StampAuth(hookwire.Auth):
    def __init__(self, stamp: str) -> None:
        self.stamp = stamp

    def auth_flow(self, request):  # type: ignore[no-untyped-def]
        request.headers["X-Stamp"] = self.stamp
        yield request


def _third_party() -> types.ModuleType:
    mod = types.ModuleType("third_party")

    @hookimpl
    def hookwire_register_transports(register: Any) -> None:
        register("echo", sync=EchoTransport)

    @hookimpl
    def hookwire_register_auth(register: Any) -> None:
        register("stamp", StampAuth)

    @hookimpl
    def hookwire_register_providers(register: Any) -> None:
        register("echo-llm", dict, aliases=("echo2",))

    mod.hookwire_register_transports = hookwire_register_transports  # type: ignore[attr-defined]
    mod.hookwire_register_auth = hookwire_register_auth  # type: ignore[attr-defined]
    mod.hookwire_register_providers = hookwire_register_providers  # type: ignore[attr-defined]
    return mod


def test_third_party_plugin_is_picked_up_and_usable_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_entry_points(monkeypatch, {"third-party": _third_party()})
    host = PluginHost()
    assert "echo" in host.transports() and "stamp" in host.auth_schemes()
    assert host.providers()["echo2"].value is dict
    with hookwire.Client(
        transport="echo", plugins=host, auth=hookwire.make_auth("stamp", "s1", plugins=host)
    ) as c:
        r = c.get("http://example.invalid/x", params={"a": 1})
    assert r.status_code == 299 and r.content == b"http://example.invalid/x?a=1"
    assert r.request.headers["x-stamp"] == "s1"
    info = {p.name: p for p in host.plugins()}
    assert "transport:echo" in info["third-party"].registers


def test_broken_plugins_become_plugin_errors_and_sdk_keeps_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad_spec = types.ModuleType("bad_spec")

    def hookwire_register_transports(wrong_argument: Any) -> None:  # breaks the spec
        pass

    bad_spec.hookwire_register_transports = hookimpl(hookwire_register_transports)  # type: ignore[attr-defined]
    _fake_entry_points(
        monkeypatch, {"missing-module": None, "bad-spec": bad_spec, "third-party": _third_party()}
    )
    host = PluginHost()
    failed = {e.plugin: str(e) for e in host.errors}
    assert "missing-module" in failed and "failed to import" in failed["missing-module"]
    assert "bad-spec" in failed and "hook specs" in failed["bad-spec"]
    assert all(isinstance(e, PluginError) for e in host.errors)
    assert "echo" in host.transports()  # the good plugin still loaded


def test_plugin_raising_inside_register_hook_is_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    raiser = types.ModuleType("raiser")

    @hookimpl
    def hookwire_register_auth(register: Any) -> None:
        raise RuntimeError("boom")

    raiser.hookwire_register_auth = hookwire_register_auth  # type: ignore[attr-defined]
    _fake_entry_points(monkeypatch, {"raiser": raiser, "third-party": _third_party()})
    host = PluginHost()
    assert "stamp" in host.auth_schemes()
    assert any(e.plugin == "raiser" and "boom" in str(e) for e in host.errors)


def test_disable_by_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, {"third-party": _third_party()})
    assert "echo" not in PluginHost(disable=["third-party"]).transports()
    monkeypatch.setenv("HOOKWIRE_DISABLE_PLUGINS", "auth, third-party")
    host = PluginHost()
    assert "echo" not in host.transports() and "basic" not in host.auth_schemes()
    with pytest.raises(PluginError, match="no transport named 'echo'"):
        host.transport("echo")


def test_first_registration_wins_so_plugins_override_builtins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    override = types.ModuleType("override")

    @hookimpl
    def hookwire_register_auth(register: Any) -> None:
        register("basic", StampAuth)

    override.hookwire_register_auth = hookwire_register_auth  # type: ignore[attr-defined]
    _fake_entry_points(monkeypatch, {"override": override})
    host = PluginHost()
    entry = host.auth_schemes()["basic"]
    assert entry.value is StampAuth and entry.plugin == "override"


class WrapTransport(BaseTransport):
    """Wraps the transport named in ``transport_options={"inner": ...}`` on its own host."""

    def __init__(self, *, options: TransportOptions, host: PluginHost) -> None:
        self.host = host
        self.inner = host.transport_factory(options.extra["inner"], is_async=False)(options)

    def handle_request(self, request: hookwire.Request) -> hookwire.Response:
        request.headers["X-Wrapped"] = "yes"
        return self.inner.handle_request(request)


def _wrapper_plugin() -> types.ModuleType:
    mod = types.ModuleType("wrapper")

    @hookimpl
    def hookwire_register_transports(register: Any) -> None:
        register("wrap", sync=WrapTransport)
        register("echo", sync=EchoTransport)

    mod.hookwire_register_transports = hookwire_register_transports  # type: ignore[attr-defined]
    return mod


def test_a_wrapper_on_a_private_host_finds_its_inner_transport_on_that_host() -> None:
    private = PluginHost(load_entrypoints=False, plugins=[("wrapper", _wrapper_plugin())])
    assert "echo" not in hookwire.get_plugin_host().transports()  # only the private host has it
    options = {"inner": "echo"}
    with hookwire.Client(plugins=private, transport="wrap", transport_options=options) as c:
        response = c.get("http://example.invalid/x")
        wrapper = c._transport
    assert response.status_code == 299 and response.text == "http://example.invalid/x"
    assert isinstance(wrapper, WrapTransport) and wrapper.host is private
    assert isinstance(wrapper.inner, EchoTransport) and wrapper.inner.host is private


def test_transport_entries_hold_both_faces_and_name_a_missing_one() -> None:
    host = PluginHost(load_entrypoints=False, plugins=[("wrapper", _wrapper_plugin())])
    entry = host.transport("echo")
    assert (entry.name, entry.sync, entry.async_, entry.plugin) == (
        "echo", EchoTransport, None, "wrapper",
    )
    with pytest.raises(hookwire.InvalidRequest, match="'echo' has no async implementation"):
        host.transport_factory("echo", is_async=True)
    with pytest.raises(PluginError, match="no transport named 'nope'; available: echo, wrap"):
        host.transport_factory("nope", is_async=False)
