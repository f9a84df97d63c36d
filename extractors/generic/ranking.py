"""Scores header-field candidates: hand-set weights by default, a learned ranker when one is trained.

The learned ranker is a scikit-learn logistic regression over the candidate features
(relation to the label, label weight, position, type size, ...), one model for all fields with
the field as a one-hot feature, trained on the labelled corpus (``ledgerbot train extractor``)
and stored as a versioned artifact under ``<models>/extractor-ranker/<version>/``. It answers
only for the fields where it beat the hand-set weights on layouts it was not trained on
(leave-one-layout-out during training); the artifact lists them as ``ranked_fields``.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from extractors.generic.candidates import HEADER_OUTPUT, Candidate

RANKER_NAME = "extractor-ranker"
# 2: the artifact names the fields the ranker answers for; an older one is ignored (retrain).
RANKER_FORMAT = 2
# 3: the learned ranker of ``learned.py`` (context, phrase meaning, calibrated confidences).
LEARNED_FORMAT = 3
FEATURES = (
    "rel_right", "rel_right_gap", "rel_below", "rel_pattern", "rel_layout", "label_weight", "label_len",
    "x", "y", "order", "from_right", "gap", "words_between", "in_buyer", "depth", "buyer_label",
    "in_table", "legal_form", "size_ratio", "bold", "vendor_label", "footer", "whole_segment", "n_words",
    "digits", "only_legal_form", "upper", "capitalised", "id_row", "repaired",
    "sender_line", "domain_name",
)  # fmt: skip


class Scorer(Protocol):
    name: str
    version: str

    def score(self, candidates: Sequence[Candidate]) -> list[float]: ...


class HeuristicScorer:
    """Hand-set weights: works without any training and is the ranker's fallback."""

    name = "heuristic"
    version = "1"

    def score(self, candidates: Sequence[Candidate]) -> list[float]:
        return [heuristic_score(c) for c in candidates]


def heuristic_score(c: Candidate) -> float:
    f = c.features
    if c.field == "vendor_name":
        s = (
            0.35 * f.get("legal_form", 0)
            + 0.3 * min(max(f.get("size_ratio", 1) - 1, 0), 1)
            + 0.15 * f.get("bold", 0)
            + 0.4 * f.get("vendor_label", 0)
            + 0.2 * (f.get("y", 1) < 0.2)
            + 0.1 * f.get("footer", 0)
            + 0.05 * f.get("whole_segment", 0)
            - 0.05 * min(f.get("digits", 0), 4)
            - 0.03 * max(f.get("n_words", 0) - 4, 0)
            - 0.05 * f.get("y", 0)
            - 1.0 * f.get("only_legal_form", 0)
            - 0.5 * (1 - f.get("capitalised", 1))
            + 0.15 * f.get("id_row", 0) * f.get("legal_form", 0)
            + 0.25 * f.get("sender_line", 0) * f.get("legal_form", 0)
            - 0.6 * f.get("address", 0)
            + 0.1 * f.get("wrapped", 0)
            - 0.35 * f.get("window", 0)
            + 0.3 * f.get("domain_name", 0)
        )
        return s
    if f.get("letter_date"):
        # Unlabelled, so below any labelled date ("Datum" 0.55, "vom" 0.3 hints rank under it).
        return 0.35
    if f.get("debit_date"):
        return 0.45  # below a labelled due date and the "bis zum" hint (0.6)
    relation = {"right": 1.0, "right_gap": 0.85, "below": 0.8, "pattern": 0.35}.get(c.relation, 0.2)
    s = relation * (f.get("label_weight", 0) if c.label else 1.0)
    if c.field in ("subtotal", "tax_amount", "total"):
        s -= 0.1 * f.get("from_right", 0)
    else:
        s -= 0.15 * f.get("order", 0)
    s -= 0.5 * f.get("in_buyer", 0) + 0.6 * f.get("buyer_label", 0) + 0.2 * f.get("in_table", 0)
    s -= 0.3 * f.get("gap", 0) + 0.1 * max(f.get("depth", 1) - 1, 0)
    s -= 0.03 * f.get("words_between", 0)
    s -= 0.6 * f.get("rate_base", 0)
    return s


FEATURE_COUNT = len(FEATURES) + len(HEADER_OUTPUT) + 1


def feature_vector(c: Candidate) -> list[float]:
    vec = [float(c.features.get(name, 0.0)) for name in FEATURES]
    vec.extend(float(c.field == name) for name in HEADER_OUTPUT)
    vec.append(heuristic_score(c))
    return vec


class LearnedScorer:
    """A trained candidate ranker; its score is the probability that a candidate is the answer.

    Candidates of a field outside ``fields`` get the hand-set score: one field's candidates are
    always scored by one scorer, so their order never mixes two scales.
    """

    name = RANKER_NAME

    def __init__(
        self, model: object, version: str, fields: frozenset[str] = frozenset(HEADER_OUTPUT)
    ) -> None:
        self.model = model
        self.version = version
        self.fields = fields

    def score(self, candidates: Sequence[Candidate]) -> list[float]:
        if not candidates:
            return []
        if candidates[0].field not in self.fields:
            return [heuristic_score(c) for c in candidates]
        proba = self.model.predict_proba([feature_vector(c) for c in candidates])  # type: ignore[attr-defined]
        return [float(p[1]) for p in proba]

    def save(self, folder: Path) -> None:
        (folder / "ranker.pkl").write_bytes(pickle.dumps(self.model))

    @classmethod
    def load(cls, folder: Path, version: str, fields: Sequence[str]) -> LearnedScorer:
        # Artifacts are written by our own `train extractor` under the local models folder.
        return cls(pickle.loads((folder / "ranker.pkl").read_bytes()), version, frozenset(fields))


# The ranker shipped with the code (``make extractor-model`` rebuilds it).
SHIPPED_MODEL = Path(__file__).parent / "model"


def shipped_scorer() -> Scorer:
    """The ranker committed with the code, or the hand-set weights when it does not fit the code."""
    import json

    from extractors.generic.learned import LearnedRanker

    meta_file = SHIPPED_MODEL / "meta.json"
    if not meta_file.exists():
        return HeuristicScorer()
    meta = json.loads(meta_file.read_text())
    ranker = LearnedRanker.load(SHIPPED_MODEL, f"shipped-{meta.get('version', '?')}", meta)
    return ranker if ranker is not None else HeuristicScorer()


def load_scorer(models_dir: Path | None, version: str = "latest") -> Scorer:
    """The ranker trained under ``models_dir`` (``latest``: the registry's active one), else the
    shipped one, else hand-set weights.

    ``models_dir`` None means the hand-set weights (tests, and the ranker's own training).
    """
    if models_dir is None:
        return HeuristicScorer()
    try:
        from ledgerbot.core.artifacts import ArtifactStore

        artifact = ArtifactStore(models_dir).resolve(RANKER_NAME, version)
    except Exception:  # no ranker trained here (or unreadable): the shipped one answers
        return shipped_scorer()
    fmt = artifact.meta.get("ranker_format")
    if fmt == LEARNED_FORMAT:
        from extractors.generic.learned import LearnedRanker

        trained = LearnedRanker.load(artifact.path, artifact.version, artifact.meta)
        # Trained on other features (an older extractor): the shipped ranker fits this code.
        return trained if trained is not None else shipped_scorer()
    if fmt != RANKER_FORMAT:
        return shipped_scorer()  # an older kind of artifact: retrain with `ledgerbot train extractor`
    scorer = LearnedScorer.load(artifact.path, artifact.version, artifact.meta.get("ranked_fields", []))
    if getattr(scorer.model, "n_features_in_", FEATURE_COUNT) != FEATURE_COUNT:
        # Trained on another feature set (an older extractor): its scores would be garbage, so
        # the shipped ranker answers (the lineage says so) until `ledgerbot train extractor` is re-run.
        return shipped_scorer()
    return scorer
