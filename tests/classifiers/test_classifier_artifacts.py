from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifiers.errors import ModelNotFound
from ledgerbot.core.artifacts import ArtifactStore

NOW = datetime(2026, 11, 22, 5, 12, tzinfo=UTC)


def _write(folder: Path) -> None:
    (folder / "weights.bin").write_bytes(b"w")


def test_version_names_time_and_data_and_never_collides(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    v1 = store.new_version("baseline", "ab12cd" + "0" * 58, now=NOW)
    assert v1 == "2026-11-22T0512-ab12cd"
    store.save("baseline", v1, _write, {"data_sha256": "ab12cd"})
    v2 = store.new_version("baseline", "ab12cd" + "0" * 58, now=NOW)
    assert v2 == "2026-11-22T0512-ab12cd-2"


def test_meta_holds_what_was_given_plus_creation_time_and_library_versions(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    art = store.save("cascade", "v1", _write, {"thresholds": {"accept_baseline": 0.9, "review": 0.5}})
    meta = json.loads((tmp_path / "cascade" / "v1" / "meta.json").read_text())
    assert meta["thresholds"] == {"accept_baseline": 0.9, "review": 0.5}
    assert meta["name"] == "cascade" and meta["version"] == "v1"
    assert meta["created_at"].startswith(str(datetime.now(UTC).year))
    assert "scikit-learn" in meta["libraries"] and "torch" in meta["libraries"]
    assert art.ref == "cascade@v1"


def test_latest_follows_the_pointer_and_named_versions_resolve(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.save("baseline", "2026-01-01T0000-aaaaaa", _write, {})
    store.save("baseline", "2026-02-01T0000-bbbbbb", _write, {}, make_latest=False)
    assert store.resolve("baseline").version == "2026-01-01T0000-aaaaaa"
    assert store.resolve("baseline", "2026-02-01T0000-bbbbbb").path.is_dir()
    store.set_latest("baseline", "2026-02-01T0000-bbbbbb")
    assert store.resolve("baseline").version == "2026-02-01T0000-bbbbbb"
    (tmp_path / "baseline" / "LATEST").unlink()  # without a pointer: the newest complete folder
    assert store.resolve("baseline").version == "2026-02-01T0000-bbbbbb"


def test_a_failed_save_leaves_nothing_that_latest_could_pick(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)

    def broken(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.save("transformer", "v1", broken, {})
    assert store.versions("transformer") == []
    assert list((tmp_path / "transformer").iterdir()) == []
    with pytest.raises(ModelNotFound):
        store.resolve("transformer")


def test_missing_model_error_is_coded_and_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        ArtifactStore(tmp_path / "nothing").resolve("cascade")
    assert caught.value.code == "E501"
    assert "ledgerbot train classifier" in str(caught.value)
    with pytest.raises(ModelNotFound, match="ledgerbot train classifier"):
        ArtifactStore(tmp_path).resolve("cascade", "2020-01-01T0000-000000")
