"""The header label index is built once and loaded by later processes, never stale or partial."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.generic import labels
from extractors.generic.labels import LabelFinder


@pytest.fixture
def index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pycache"
    monkeypatch.setattr(labels, "_BUILT_DIR", folder)
    return folder


def _built() -> LabelFinder:
    finder = LabelFinder.__new__(LabelFinder)
    finder._kinds, finder._starts, finder._glued, finder._table_mode = {}, set(), {}, False
    finder._build()
    return finder


def test_a_saved_index_loads_equal_to_a_fresh_build(index_dir: Path) -> None:
    first = LabelFinder()  # builds and saves
    saved = list(index_dir.glob("label-index.*.marshal"))
    assert len(saved) == 1
    second = LabelFinder()  # loads
    fresh = _built()
    assert second._kinds == fresh._kinds == first._kinds
    assert second._starts == fresh._starts
    row = ["Invoice", "No.", "4711", "Due", "date", "01.02.2026"]
    assert [m.kind for m in second.find(row)] == [m.kind for m in fresh.find(row)]


def test_a_broken_index_file_is_rebuilt(index_dir: Path) -> None:
    LabelFinder()
    (path,) = index_dir.glob("label-index.*.marshal")
    path.write_bytes(b"\x00not marshal")
    assert labels._load_built() is None
    finder = LabelFinder()
    assert finder._kinds == _built()._kinds
    assert labels._load_built() is not None  # saved again, whole


def test_an_edited_vocabulary_never_loads_the_old_index(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    LabelFinder()
    before = labels._built_path()
    real_read = Path.read_bytes

    def edited(self: Path) -> bytes:
        data = real_read(self)
        return data + b"# edited" if self.name == "label_words.py" else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert labels._built_path() != before
    assert labels._load_built() is None


def test_an_unwritable_folder_costs_only_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(labels, "_BUILT_DIR", blocker / "pycache")  # cannot be made
    finder = LabelFinder()
    assert finder._kinds == _built()._kinds
    assert not list(tmp_path.glob("**/label-index.*"))


def test_table_labels_are_built_apart(index_dir: Path) -> None:
    table = LabelFinder(table_mode=True)
    assert table._kinds and all(kind.startswith("col_") for e in table._kinds.values() for kind, _ in e)
    assert not index_dir.exists()  # the small table index is never saved
