"""The demo trains its models again when the ones on disk would be refused or ignored."""

from __future__ import annotations

from pathlib import Path

from classifiers.features import FEATURE_VERSION
from ledgerbot.core.artifacts import ArtifactStore
from sandbox.demo import _usable_cascade, _usable_ranker


def test_no_models_means_training(tmp_path: Path) -> None:
    assert not _usable_cascade(tmp_path / "models")
    # The extractor's ranker ships with the code: a fresh machine need not train one.
    assert _usable_ranker(tmp_path / "models")


def test_a_cascade_of_older_features_is_trained_again(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "models")
    store.save("cascade", "2026-01-01T0000-aaaaaa", lambda _folder: None, {"feature_version": 1})
    assert not _usable_cascade(tmp_path / "models")
    store.save(
        "cascade", "2026-01-02T0000-bbbbbb", lambda _folder: None, {"feature_version": FEATURE_VERSION}
    )
    assert _usable_cascade(tmp_path / "models")
