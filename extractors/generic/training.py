"""Trains the generic extractor's candidate ranker on a labelled corpus (``ledgerbot train extractor``).

Every candidate the generic extractor generates for a labelled document becomes one example:
its features, and whether its value equals the truth. A logistic regression learns how much
each relation, label and position counts towards a candidate being the answer. Only the
``dev`` split is ever used (held-out layouts are for evaluation), and the artifact records
which data it saw.

A ranker fitted to a handful of layouts learns where those layouts print things, which helps
nothing on a new vendor's layout. So before the final fit, each layout in turn is left out, the
ranker is fitted on the others, and on the left-out layout its top candidate per document and
field is compared with the hand-set weights' top candidate. The ranker answers only for the
fields where it was right clearly more often (by at least three documents and 1 %); the table
is stored with the artifact. Generated layouts alike in style make a weak test of how a
ranker carries over to real vendors, hence the margin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.evaluation import PAYABLE, same_value
from extractors.generic.extractor import GenericExtractor
from extractors.generic.ranking import FEATURES, RANKER_FORMAT, RANKER_NAME, LearnedScorer, feature_vector
from ledgerbot.core.errors import BusinessError

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


@dataclass
class TrainingSet:
    """Candidates as examples: features, whether each is right, and where it comes from."""

    xs: list[list[float]] = field(default_factory=list)
    ys: list[int] = field(default_factory=list)
    # (document number, field, layout) of each example: one top-1 choice per document and field.
    groups: list[tuple[int, str, str]] = field(default_factory=list)
    sha256: str = ""


def build_training_set(
    corpus: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    log: Callable[[str], None] = print,
) -> TrainingSet:
    """Every candidate of every labelled invoice and credit note, with the sha256 of the documents."""
    from textlayer import TextLayerReader
    from textlayer.errors import TextLayerError

    examples = _examples(corpus, split, variants)
    if not examples:
        raise TrainingDataError(f"no labelled invoices or credit notes of split {split!r} under {corpus}")
    log(f"reading {len(examples)} labelled documents")
    digest = hashlib.sha256()
    generic = GenericExtractor()
    out = TrainingSet()
    with TextLayerReader() as reader:
        documents = reader.read_many([path for path, _ in examples])
        for number, ((path, truth), document) in enumerate(zip(examples, documents, strict=True)):
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
                    out.xs.append(feature_vector(cand))
                    out.ys.append(int(same_value(name, expected, got)))
                    out.groups.append((number, name, str(truth.get("layout") or path.stem)))
    out.sha256 = digest.hexdigest()
    return out


# How much more often the ranker must be right on left-out layouts before it replaces the
# hand-set weights for a field: one or two documents either way is noise.
MIN_GAIN_DOCUMENTS = 3
MIN_GAIN_SHARE = 0.01


def _clearly_better(row: dict[str, int]) -> bool:
    gain = row["ranker"] - row["heuristic"]
    return gain >= MIN_GAIN_DOCUMENTS and gain >= MIN_GAIN_SHARE * row["documents"]


def _model() -> Any:
    """A linear model on standardised features.

    Left-out-layout validation on the development corpus preferred it to gradient-boosted trees
    (2694 against 2687 right top candidates over 250 documents x 11 fields): trees learn where
    the training layouts print things, a linear model how strongly each cue counts.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))


def validate_by_layout(data: TrainingSet, *, folds: int = 5) -> dict[str, dict[str, int]]:
    """Per field: documents whose top candidate was right, by the ranker and by the hand-set weights.

    Each layout is left out in turn (with fewer than three layouts, groups of documents are), so
    every figure is measured on documents the ranker was not fitted to.
    """
    import numpy as np

    layouts = sorted({layout for _, _, layout in data.groups})
    if len(layouts) >= 3:
        fold_of = {layout: i for i, layout in enumerate(layouts)}
        key = [fold_of[layout] for _, _, layout in data.groups]
    else:
        key = [doc % folds for doc, _, _ in data.groups]
    xs, ys, keys = np.asarray(data.xs), np.asarray(data.ys), np.asarray(key)
    learned = np.zeros(len(ys))
    for fold in sorted(set(key)):
        train = keys != fold
        if ys[train].min() == ys[train].max():
            continue  # nothing to learn without both right and wrong candidates
        model = _model().fit(xs[train], ys[train])
        learned[~train] = model.predict_proba(xs[~train])[:, 1]
    heuristic = xs[:, -1]  # feature_vector ends with the hand-set score
    best: dict[tuple[int, str], dict[str, tuple[float, int]]] = {}
    for i, (doc, name, _) in enumerate(data.groups):
        picks = best.setdefault((doc, name), {})
        for scorer, score in (("ranker", learned[i]), ("heuristic", heuristic[i])):
            if scorer not in picks or score > picks[scorer][0]:
                picks[scorer] = (float(score), int(ys[i]))
    table: dict[str, dict[str, int]] = {}
    for (_, name), picks in best.items():
        row = table.setdefault(name, {"documents": 0, "ranker": 0, "heuristic": 0})
        row["documents"] += 1
        row["ranker"] += picks["ranker"][1]
        row["heuristic"] += picks["heuristic"][1]
    return dict(sorted(table.items()))


def train_ranker(
    corpus: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    models_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train and save the ranker; returns its reference and training figures."""
    from ledgerbot.core.artifacts import ArtifactStore

    if split != "dev":
        log(f"warning: training on split {split!r}; held-out layouts must stay unseen to measure honestly")
    data = build_training_set(corpus, split=split, variants=variants, log=log)
    xs, ys, sha = data.xs, data.ys, data.sha256
    positives = sum(ys)
    if positives == 0 or positives == len(ys):
        raise TrainingDataError(f"{len(ys)} candidates, {positives} correct: nothing to learn from")
    validation = validate_by_layout(data)
    ranked = sorted(name for name, row in validation.items() if _clearly_better(row))
    for name, row in validation.items():
        chosen = "ranker" if name in ranked else "hand-set"
        ranker, hand_set, documents = row["ranker"], row["heuristic"], row["documents"]
        log(f"  {name:15} ranker {ranker:4}  hand-set {hand_set:4}  of {documents:4} -> {chosen}")
    model = _model().fit(xs, ys)
    accuracy = float(model.score(xs, ys))
    if models_dir is None:
        from ledgerbot.core.settings import get_settings

        models_dir = get_settings().models_dir
    store = ArtifactStore(models_dir)
    version = store.new_version(RANKER_NAME, sha)
    scorer = LearnedScorer(model, version, frozenset(ranked))
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
            "ranker_format": RANKER_FORMAT,
            "ranked_fields": ranked,
            "validation": {
                "method": "leave one layout out, top candidate per document",
                "fields": validation,
            },
        },
    )
    fields = ", ".join(ranked) or "no field"
    log(f"saved {artifact.ref} ({len(ys)} candidates, {positives} correct; ranks {fields})")
    return {
        "model": artifact.ref,
        "path": str(artifact.path),
        "candidates": len(ys),
        "positives": positives,
        "ranked_fields": ranked,
    }
