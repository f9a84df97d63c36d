"""Trains the generic extractor's candidate ranker on a labelled corpus (``ledgerbot train extractor``).

Every candidate the generic extractor generates for a labelled document becomes one example:
its features, and whether its value equals the truth. A gradient-boosting classifier learns
which relations, labels and positions make a candidate the answer. Only the ``dev`` split is
ever used (held-out layouts are for evaluation), and the artifact records which data it saw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extractors.evaluation import PAYABLE, same_value
from extractors.generic.extractor import GenericExtractor
from extractors.generic.ranking import FEATURES, RANKER_NAME, LearnedScorer, feature_vector
from ledgerbot.errors import BusinessError

TEXT_VARIANTS = ("digital", "scan_png", "scan_pdf")


class TrainingDataError(BusinessError):
    code = "E420"


def _examples(corpus: Path, split: str, variants: tuple[str, ...]) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for truth_path in sorted(corpus.rglob("*.json")):
        if truth_path.name == "manifest.json":
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("doc_type") not in PAYABLE or not truth.get("fields"):
            continue
        if split and truth.get("split") != split:
            continue
        if truth.get("variant", "digital") not in variants:
            continue
        docs = [p for p in truth_path.parent.glob(truth_path.stem + ".*") if p.suffix.lower() != ".json"]
        if len(docs) == 1:
            out.append((docs[0], truth))
    return out


def build_training_set(
    corpus: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    log: Callable[[str], None] = print,
) -> tuple[list[list[float]], list[int], str]:
    """(features, labels, sha256 of the documents used)."""
    from extractors.textlayer import TextLayerReader
    from extractors.textlayer.errors import TextLayerError

    examples = _examples(corpus, split, variants)
    if not examples:
        raise TrainingDataError(f"no labelled invoices or credit notes of split {split!r} under {corpus}")
    log(f"reading {len(examples)} labelled documents")
    digest = hashlib.sha256()
    generic = GenericExtractor()
    xs: list[list[float]] = []
    ys: list[int] = []
    with TextLayerReader() as reader:
        documents = reader.read_many([path for path, _ in examples])
        for (path, truth), document in zip(examples, documents, strict=True):
            digest.update(path.read_bytes())
            if isinstance(document, TextLayerError):
                log(f"skipped {path.name}: {document}")
                continue
            cands, _ = generic.candidates(document)
            for name, candidates in cands.items():
                expected = truth["fields"].get(name)
                for cand in candidates:
                    value = cand.value
                    if name in ("subtotal", "tax_amount", "total") and truth["doc_type"] == "credit_note":
                        value = -abs(value)
                    got = value.isoformat() if hasattr(value, "isoformat") else str(value)
                    xs.append(feature_vector(cand))
                    ys.append(int(same_value(name, expected, got)))
    return xs, ys, digest.hexdigest()


def train_ranker(
    corpus: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    models_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train and save the ranker; returns its reference and training figures."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from classifiers.artifacts import ArtifactStore

    if split != "dev":
        log(f"warning: training on split {split!r}; held-out layouts must stay unseen to measure honestly")
    xs, ys, sha = build_training_set(corpus, split=split, variants=variants, log=log)
    positives = sum(ys)
    if positives == 0 or positives == len(ys):
        raise TrainingDataError(f"{len(ys)} candidates, {positives} correct: nothing to learn from")
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=31, random_state=0)
    model.fit(xs, ys)
    accuracy = float(model.score(xs, ys))
    if models_dir is None:
        from ledgerbot.settings import get_settings

        models_dir = get_settings().models_dir
    store = ArtifactStore(models_dir)
    version = store.new_version(RANKER_NAME, sha)
    scorer = LearnedScorer(model, version)
    artifact = store.save(
        RANKER_NAME,
        version,
        scorer.save,
        {
            "corpus": str(corpus),
            "split": split,
            "variants": list(variants),
            "data_sha256": sha,
            "candidates": len(ys),
            "positives": positives,
            "train_accuracy": round(accuracy, 4),
            "features": [*FEATURES, "field one-hot", "heuristic score"],
        },
    )
    log(f"saved {artifact.ref} ({len(ys)} candidates, {positives} correct)")
    return {"model": artifact.ref, "path": str(artifact.path), "candidates": len(ys), "positives": positives}
