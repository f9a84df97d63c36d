"""The layer contract of ``make lint`` holds on the tree, and a wrong import arrow breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "ledgerbot",
    "textlayer",
    "extractors",
    "classifiers",
    "rules",
    "adapters",
    "review_app",
    "robots",
)
LINT = Path(sys.executable).with_name("lint-imports")


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for package in (*PACKAGES, "sandbox"):
        shutil.copytree(
            REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.html")
        )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_tree(tmp_path_factory.mktemp("layers"))


def test_the_tree_keeps_its_layers(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import"),
    [
        ("rules/engine.py", "import ledgerbot.posting"),  # a pure library reaching up to the application
        ("ledgerbot/core/domain.py", "import extractors.values"),  # the core reaching up to a library
        ("classifiers/cascade.py", "import extractors.generic"),  # two sibling libraries
        ("textlayer/model.py", "import classifiers.features"),  # the text layer reaching up
    ],
)
def test_a_wrong_arrow_fails_the_lint(tree: Path, tmp_path: Path, module: str, wrong_import: str) -> None:
    root = _copy_tree(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # probe\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert wrong_import.split()[-1] in result.stdout
