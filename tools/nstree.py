"""Lay the repository's folders out as the installed ``hookwire`` package, for static tools.

The wheel maps ``sdk/`` to ``hookwire``, ``plugins/`` to ``hookwire.plugins`` and
``mockserver/`` to ``hookwire.mockserver`` (``[tool.setuptools.package-dir]``); the editable
install does the same with an import hook. Tools that read source without importing it (mypy,
mkdocstrings) cannot follow that hook, so this builds ``build/ns/hookwire/``: a folder of
symlinks to the real files, rebuilt from scratch on every run so it never goes stale.

Run it as a script (``python tools/nstree.py``, what ``.ci/run`` does before mypy) or as a
mkdocs hook (``hooks:`` in mkdocs.yml), which builds the tree before the docs are read.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "ns"
#: package -> folder, as in pyproject.toml's [tool.setuptools.package-dir]
LAYOUT = {"hookwire": "sdk", "hookwire/plugins": "plugins", "hookwire/mockserver": "mockserver"}
_SKIP = {"__pycache__"}


def build(root: Path = ROOT, tree: Path = TREE) -> Path:
    """(Re)build the link tree under ``tree``; returns ``tree`` (the folder to put on a path)."""
    if tree.exists():
        shutil.rmtree(tree)
    nested = {Path(package).name for package in LAYOUT if "/" in package}
    for package, folder in LAYOUT.items():
        target = tree / package
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted((root / folder).iterdir()):
            if entry.name in _SKIP or (package == "hookwire" and entry.name in nested):
                continue
            (target / entry.name).symlink_to(entry)
    return tree


def on_startup(**_: Any) -> None:
    """mkdocs hook: the tree exists before mkdocstrings looks for ``hookwire``."""
    build()


if __name__ == "__main__":
    print(build(), file=sys.stdout)
