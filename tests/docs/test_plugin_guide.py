"""The plugin guide really works: install the example package into a fresh virtual
environment, see it listed by `hookwire plugins`, and use its auth, transport and provider by name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "docs" / "examples" / "hookwire-example-plugin"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import hookwire
    from hookwire.llm import LLM

    url = sys.argv[1]
    auth = hookwire.make_auth("hmac", "key-1", "s3cret")
    with hookwire.Client(auth=auth, transport="logging", transport_options={"inner": "httpx"}) as c:
        echoed = c.post(url + "/anything/sign", json={"a": 1}).json()
    llm = LLM("shout")
    streamed = "".join(d.content for d in llm.stream("stream me"))
    print(json.dumps({
        "headers": echoed["headers"], "data": echoed["data"],
        "chat": llm.chat("hello plugin").content, "stream": streamed, "models": llm.models(),
    }))
    """
)


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
        **kwargs,
    )


def hookwire_dists(python: str | Path) -> list[dict[str, str]]:
    """``pip list`` rows of ``python``'s environment named hookwire* (with editable locations)."""
    listed = run(python, "-m", "pip", "list", "--format=json")
    assert listed.returncode == 0, listed.stderr
    return [row for row in json.loads(listed.stdout) if row["name"].startswith("hookwire")]


def pip_install(python: Path, *args: str | Path) -> None:
    flags = ["-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    installed = run(python, *flags, *args)
    assert installed.returncode == 0, installed.stderr


@pytest.mark.slow
def test_example_plugin_in_a_fresh_venv(tmp_path: Path, mock_server) -> None:
    outer_before = hookwire_dists(sys.executable)
    assert [row["name"] for row in outer_before] == ["hookwire"]

    venv = tmp_path / "venv"
    # --without-pip: the outer pip and setuptools (seen through --system-site-packages) do the
    # installs, so no stale bundled setuptools shadows them and no network is needed
    made = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python, hookwire = venv / "bin" / "python", venv / "bin" / "hookwire"
    # hookwire itself, editable and without deps (they come from the outer site-packages):
    # this is what gives the venv its own `hookwire` console script
    pip_install(python, "-e", ROOT)
    assert hookwire.read_text().splitlines()[0] == f"#!{python}"  # the venv's, not the outer one
    # the example from a copy, so its build leftovers land in tmp_path and not in docs/
    package = tmp_path / "hookwire-example-plugin"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip_install(python, package)
    inner = {row["name"]: row["version"] for row in hookwire_dists(python)}
    assert inner["hookwire-example-plugin"] == "0.1.0"  # the same check sees it in the venv

    listed = run(hookwire, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    [example] = [p for p in doc["plugins"] if p["name"] == "example"]
    assert example["distribution"] == "hookwire-example-plugin"
    assert example["version"] == "0.1.0"
    assert set(example["registers"]) == {"auth:hmac", "transport:logging", "provider:shout"}
    table = run(hookwire, "plugins")
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if "hookwire-example-plugin" in line]
    assert "0.1.0" in row and "auth:hmac" in row

    # the auth scheme and the transport by name, from the command line
    options = ["--auth", "key-1:s3cret", "--auth-type", "hmac", "--transport", "logging", "--body"]
    sent = run(hookwire, "http", *options, "POST", mock_server.url + "/anything/sign", "a:=1")
    assert sent.returncode == 0, sent.stderr
    echoed = json.loads(sent.stdout)
    assert echoed["json"] == {"a": 1}
    headers = echoed["headers"]
    assert headers["X-Example-Plugin"] == "logging+requests"  # the wrapper's default inner
    assert headers["X-Key-Id"] == "key-1"
    body = echoed["data"].encode()
    expected = hmac.new(b"s3cret", b"POST\n/anything/sign\n" + body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected  # the auth scheme signed what was sent
    assert "s3cret" not in sent.stdout + sent.stderr

    # the provider by name, from the command line
    chat = run(hookwire, "chat", "--provider", "shout", "hello plugin")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip() == "HELLO PLUGIN"

    # and from a script in the venv: transport options, streaming, model listing
    script = tmp_path / "use_plugin.py"
    script.write_text(SCRIPT)
    used = run(python, script, mock_server.url)
    assert used.returncode == 0, used.stderr
    result = json.loads(used.stdout)
    headers = result["headers"]
    assert headers["X-Example-Plugin"] == "logging+httpx"  # the wrapper ran, around httpx
    assert headers["X-Key-Id"] == "key-1"
    body = result["data"].encode()
    expected = hmac.new(b"s3cret", b"POST\n/anything/sign\n" + body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert result["chat"] == "HELLO PLUGIN"
    assert result["stream"] == "STREAM ME"
    assert result["models"] == ["shout-1"]

    # everything lives in the venv only: the outer interpreter neither lists nor loads it
    assert hookwire_dists(sys.executable) == outer_before
    outer = run(sys.executable, "-m", "hookwire.cli", "plugins", "--json")
    assert outer.returncode == 0, outer.stderr
    assert "example" not in {p["name"] for p in json.loads(outer.stdout)["plugins"]}


def test_the_guide_lists_every_hook_with_its_spec_signature() -> None:
    import inspect

    from hookwire import hookspecs

    guide = (ROOT / "docs" / "plugins.md").read_text()
    rows = {
        line.split("`")[1].split("(")[0]: line.split("`")[1]
        for line in guide.splitlines()
        if line.startswith("| `hookwire_")
    }
    specs = {
        name: fn for name, fn in vars(hookspecs).items()
        if name.startswith("hookwire_") and callable(fn)
    }
    assert set(rows) == set(specs)
    for name, fn in specs.items():
        params = inspect.signature(fn).parameters
        # the guide's row names the same arguments, with the typed register where there is one
        shown = rows[name].split("(", 1)[1].rstrip(")")
        assert [p.split(":")[0].strip() for p in shown.split(",")] == list(params), name
        annotation = str(params["register"].annotation) if "register" in params else None
        if annotation:
            assert f"register: {annotation}" in rows[name], name
            assert annotation in (fn.__doc__ or "") or "register(" in (fn.__doc__ or ""), name


def test_the_example_package_is_what_the_guide_shows() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text()
    for name in ("plugin.py", "transport.py"):
        # shown through a snippet include, so the guide cannot drift from the tested package
        assert f'--8<-- "docs/examples/hookwire-example-plugin/hookwire_example/{name}"' in guide
