"""hookwire installs as one package and can be embedded in any application.

A wheel is built from a copy of the repository, checked to hold exactly one top-level package
(every source file at its mapped place), installed (not editable) into a fresh virtual
environment, and used from an application folder whose own ``sdk``, ``plugins``, ``mockserver``,
``tests`` and ``cli`` packages come first on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = {"sdk": "hookwire", "plugins": "hookwire/plugins", "mockserver": "hookwire/mockserver"}
GENERIC = ("sdk", "plugins", "mockserver", "tests", "cli")

APP = """
import json, sys
import sdk, plugins, mockserver, tests, cli      # the application's own packages, first
import hookwire
from hookwire.llm import LLM

url = sys.argv[1]
status = {}
for transport in ("requests", "httpx"):
    with hookwire.Client(transport=transport) as client:
        status[transport] = client.get(url + "/get", params={"a": "1"}).json()["args"]
with LLM("mock") as llm:
    reply = llm.chat("hello from the app").content
print(json.dumps({
    "hookwire": hookwire.__file__,
    "plugins_module": sys.modules["hookwire.plugins.transports.httpx_transport"].__file__,
    "own": [m.OWNER for m in (sdk, plugins, mockserver, tests, cli)],
    "status": status,
    "reply": reply,
    "errors": [str(e) for e in hookwire.get_plugin_host().errors],
}))
"""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HOOKWIRE_PROVIDER")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("sdk", "plugins", "mockserver"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    flags = ["--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", out]
    built = run(sys.executable, "-m", "pip", "wheel", *flags, src)
    assert built.returncode == 0, built.stderr
    [whl] = out.glob("hookwire-*.whl")
    return whl


def test_the_wheel_holds_one_top_level_package_with_every_source_file(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"hookwire", "hookwire-0.1.0.dist-info"}
    expected = {
        f"{package}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, package in LAYOUT.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")
    }
    assert expected - set(names) == set()  # no subpackage left out of pyproject's list
    meta = zipfile.ZipFile(wheel).read("hookwire-0.1.0.dist-info/entry_points.txt").decode()
    assert "[hookwire]" in meta and "[sdk]" not in meta


def test_installed_into_a_fresh_venv_it_runs_beside_generic_app_packages(
    wheel: Path, tmp_path: Path, mock_server
) -> None:
    venv = tmp_path / "venv"
    # the interpreter's packages stand in for the dependencies (no network); hookwire itself
    # comes from the wheel, and the venv's own site-packages is searched first
    made = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    flags = ["--no-deps", "--no-index", "--no-build-isolation", "-q"]
    installed = run(python, "-m", "pip", "install", *flags, wheel)
    assert installed.returncode == 0, installed.stderr

    app = tmp_path / "app"
    for name in GENERIC:
        (app / name).mkdir(parents=True)
        (app / name / "__init__.py").write_text(f"OWNER = 'app-{name}'\n")
    (app / "main.py").write_text(APP)
    used = run(python, "main.py", mock_server.url, cwd=app)
    assert used.returncode == 0, used.stderr
    result = json.loads(used.stdout)
    site = str(venv / "lib")
    assert result["hookwire"].startswith(site), result["hookwire"]
    assert result["plugins_module"].startswith(site)
    assert result["own"] == [f"app-{name}" for name in GENERIC]
    assert result["status"] == {"requests": {"a": "1"}, "httpx": {"a": "1"}}
    assert "hello from the app" in result["reply"]
    assert result["errors"] == []

    # the venv's console script, from the same folder
    chat = run(venv / "bin" / "hookwire", "chat", "--provider", "mock", "hi there", cwd=app)
    assert chat.returncode == 0, chat.stderr
    assert "hi there" in chat.stdout


def test_nothing_imports_the_folders_by_their_folder_names() -> None:
    """The folders are only ever ``hookwire``, ``hookwire.plugins``, ``hookwire.mockserver``:
    an import of ``sdk``/``plugins``/``mockserver`` would work from the repository root (it is on
    ``sys.path`` for the tests) and nowhere else, and load a second copy of the module."""
    import re

    bad = re.compile(
        r"^\s*(?:from|import)\s+(?:sdk|plugins|mockserver)\b|-m\s+(?:sdk|mockserver)\b"
    )
    scripts = [p for p in (ROOT / "tests" / "fixtures" / "bin").glob("*") if p.is_file()]
    files = [
        *ROOT.glob("*/**/*.py"), *ROOT.glob("**/*.md"), *scripts, ROOT / ".ci" / "run",
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        # (this file's APP script imports an application's own sdk/plugins/mockserver on purpose)
        if path.is_file() and path != Path(__file__) and path.relative_to(ROOT).parts[0] != "build"
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if bad.search(line)
    ]
    assert found == []
