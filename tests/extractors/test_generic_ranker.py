"""The candidate ranker: trained on a labelled folder, versioned, then used; older artifacts ignored."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from invoice_fixtures import Invoice

from extractors.generic import GenericExtractor
from extractors.generic.candidates import Candidate
from extractors.generic.learned import LearnedRanker, feature_names
from extractors.generic.ranking import (
    FEATURE_COUNT,
    RANKER_FORMAT,
    RANKER_NAME,
    SHIPPED_MODEL,
    HeuristicScorer,
    LearnedScorer,
    heuristic_score,
)
from extractors.generic.training import TrainingDataError, train_ranker
from ledgerbot.core.domain import DocType
from textlayer import read_document


def _corpus(folder: Path, split: str = "dev") -> None:
    for i, (lang, credit) in enumerate([("en", False), ("de", False), ("fr", False), ("de", True)]):
        invoice = Invoice(lang=lang, credit=credit, number=f"R-{i}-2026", po=f"PO-{4500 + i}")
        (folder / f"doc-{i}.pdf").write_bytes(invoice.pdf())
        truth = {**invoice.truth(), "split": split, "variant": "digital", "layout": "X"}
        (folder / f"doc-{i}.json").write_text(json.dumps(truth))


@pytest.mark.slow
def test_trained_ranker_is_versioned_and_used(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _corpus(corpus)
    models = tmp_path / "models"
    report = train_ranker(corpus, models_dir=models, log=lambda _: None)
    assert report["model"].startswith(f"{RANKER_NAME}@") and report["positives"] > 0
    meta = json.loads((Path(report["path"]) / "meta.json").read_text())
    assert meta["split"] == "dev" and meta["candidates"] == report["candidates"]
    assert meta["documents"] == {"corpus": 4} and "cent" in meta["settings"]

    extractor = GenericExtractor.load(models)
    assert isinstance(extractor.scorer, LearnedRanker)
    assert extractor.lineage.endswith(report["model"])
    invoice = Invoice(lang="en", number="NEW-77", po="PO-77")
    result = extractor.extract(read_document(invoice.pdf(), name="new.pdf"), DocType.INVOICE)
    assert result.model_dump(mode="json")["fields"] == invoice.truth()["fields"]


def test_without_a_trained_ranker_the_shipped_one_is_used(tmp_path: Path) -> None:
    extractor = GenericExtractor.load(tmp_path / "no-models")
    assert isinstance(extractor.scorer, LearnedRanker) and "@shipped-" in extractor.lineage
    assert isinstance(GenericExtractor.load(None).scorer, HeuristicScorer)


def test_the_shipped_ranker_fits_the_code_and_says_how_it_was_made() -> None:
    meta = json.loads((SHIPPED_MODEL / "meta.json").read_text())
    assert meta["features"] == feature_names()  # else: `make extractor-model`
    assert meta["rebuild"] == "make extractor-model" and meta["code_version"] and meta["data_sha256"]
    assert sum(p.stat().st_size for p in SHIPPED_MODEL.iterdir()) < 25 * 2**20
    calibration = json.loads((SHIPPED_MODEL / "calibration.json").read_text())
    assert {"total", "invoice_number", "invoice_date", "vendor_name"} <= set(calibration)


def test_held_out_documents_are_never_training_data(tmp_path: Path) -> None:
    _corpus(tmp_path, split="heldout")
    with pytest.raises(TrainingDataError):
        train_ranker(tmp_path, models_dir=tmp_path / "models", log=lambda _: None)


def test_a_ranker_trained_on_another_feature_set_is_not_used(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ledgerbot.core.artifacts import ArtifactStore

    stale = HistGradientBoostingClassifier(max_iter=5).fit([[0.0, 1.0], [1.0, 0.0]] * 4, [0, 1] * 4)
    store = ArtifactStore(tmp_path)
    meta = {"ranker_format": RANKER_FORMAT, "ranked_fields": ["total"]}
    store.save(RANKER_NAME, store.new_version(RANKER_NAME, "0" * 64), LearnedScorer(stale, "old").save, meta)
    extractor = GenericExtractor.load(tmp_path)
    assert not isinstance(extractor.scorer, LearnedScorer)
    assert "@shipped-" in extractor.lineage


def test_fields_the_ranker_does_not_answer_for_keep_the_hand_set_scores() -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0] * FEATURE_COUNT, [1.0] * FEATURE_COUNT], [0, 1])
    scorer = LearnedScorer(model, "v1", frozenset({"total"}))
    total = Candidate("total", Decimal("119.00"), "119,00", 1, (0.0, 0.0, 1.0, 1.0), "right")
    name = Candidate("vendor_name", "Acme GmbH", "Acme GmbH", 1, (0.0, 0.0, 1.0, 1.0), "layout")
    assert scorer.score([name]) == [heuristic_score(name)]
    (probability,) = scorer.score([total])
    assert 0.0 <= probability <= 1.0 and probability != heuristic_score(total)


def test_a_ranker_artifact_without_its_field_list_is_not_used(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from ledgerbot.core.artifacts import ArtifactStore

    model = LogisticRegression().fit([[0.0] * FEATURE_COUNT, [1.0] * FEATURE_COUNT], [0, 1])
    store = ArtifactStore(tmp_path)
    store.save(RANKER_NAME, store.new_version(RANKER_NAME, "0" * 64), LearnedScorer(model, "old").save, {})
    assert not isinstance(GenericExtractor.load(tmp_path).scorer, LearnedScorer)
    store.save(
        RANKER_NAME,
        store.new_version(RANKER_NAME, "1" * 64),
        LearnedScorer(model, "new").save,
        {"ranker_format": RANKER_FORMAT, "ranked_fields": ["total"]},
    )
    scorer = GenericExtractor.load(tmp_path).scorer
    assert isinstance(scorer, LearnedScorer) and scorer.fields == frozenset({"total"})
