"""The plugin guide really works: install the example package into a fresh virtual
environment, see it listed by `hookwire plugins`, and use its auth, transport and provider by name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
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
    import sdk
    from sdk.llm import LLM

    url = sys.argv[1]
    auth = sdk.make_auth("hmac", "key-1", "s3cret")
    with sdk.Client(auth=auth, transport="logging", transport_options={"inner": "httpx"}) as c:
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
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=180, check=False, **kwargs
    )


@pytest.mark.slow
def test_example_plugin_in_a_fresh_venv(tmp_path: Path, mock_server) -> None:
    venv = tmp_path / "venv"
    # --without-pip: the outer pip and setuptools (seen through --system-site-packages) do the
    # install, so no stale bundled setuptools shadows them and no network is needed
    made = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run(
        python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
        "--quiet", PACKAGE,
    )
    assert installed.returncode == 0, installed.stderr

    listed = run(python, "-m", "sdk.cli", "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    [example] = [p for p in doc["plugins"] if p["name"] == "example"]
    assert example["distribution"] == "hookwire-example-plugin"
    assert example["version"] == "0.1.0"
    assert set(example["registers"]) == {"auth:hmac", "transport:logging", "provider:shout"}
    table = run(python, "-m", "sdk.cli", "plugins", env={**os.environ, "COLUMNS": "200"})
    assert "hookwire-example-plugin" in table.stdout

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
    assert headers["X-Signature"] == expected  # the auth scheme signed what was sent
    assert result["chat"] == "HELLO PLUGIN"
    assert result["stream"] == "STREAM ME"
    assert result["models"] == ["shout-1"]

    # the plugin lives in the venv only: the outer interpreter does not see it
    outer = run(sys.executable, "-m", "sdk.cli", "plugins", "--json")
    assert "example" not in {p["name"] for p in json.loads(outer.stdout)["plugins"]}
