"""What the README and docs promise stays true: every setting documented, contracts as shared."""

from __future__ import annotations

import pytest

from ledgerbot.core.settings import SECTIONS, variable_name
from tests.conftest import REPO, SHARED


def test_every_setting_has_one_row_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    names = [variable_name(section, field) for section in SECTIONS.values() for field in section.model_fields]
    assert len(names) == len(set(names)), "two settings read the same variable"
    missing = [name for name in names if f"| `{name}` |" not in readme]
    assert missing == []


def test_every_top_level_folder_has_a_readme() -> None:
    folders = ["ledgerbot", "textlayer", "extractors", "classifiers", "rules", "adapters", "review_app"]
    folders += ["robots", "sandbox", "templates", "tests", "benchmarks", "docs"]
    assert [f for f in folders if not (REPO / f / "README.md").is_file()] == []


@pytest.mark.skipif(not (SHARED / "contracts").is_dir(), reason="no shared contracts beside this checkout")
def test_contracts_in_the_repo_are_the_shared_ones() -> None:
    shared = {p.name: p.read_text() for p in (SHARED / "contracts").glob("*.md")}
    ours = {p.name: p.read_text() for p in (REPO / "docs" / "contracts").glob("*.md")}
    assert ours == shared
