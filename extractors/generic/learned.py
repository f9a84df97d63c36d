"""The learned candidate ranker and the calibration of the confidences it leads to.

A candidate becomes a vector of what a reader would look at: how it relates to a label (right
of it, below it, by pattern), where it stands on the page, how big it is printed, how its value
compares with its rivals (the largest amount, the latest date, printed twice), and the meaning
of the phrases around it (the label, the words left of it, the words over it, its own text) as
distilled MiniLM vectors (``embeddings.py``), with their similarity to a short description of
the candidate's field. One gradient-boosted tree model over all fields (the field is a feature)
gives the chance that a candidate is the answer; the arithmetic checks then choose between
combinations (``consistency.py``). Extraction reads the trees compiled to arrays (``trees.py``),
so it needs neither scikit-learn nor SciPy. Confidences are mapped per field, and per field and
reading kind (text layer or OCR), by isotonic regression fitted on documents the ranker was not
trained on, so a value reported at 0.9 is right about 90 % of the time.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from extractors.generic.candidates import HEADER_OUTPUT, Candidate
from extractors.generic.embeddings import PhraseEmbedder
from extractors.generic.ranking import FEATURES
from extractors.generic.settings import DEFAULT, GenericSettings
from extractors.generic.trees import CompiledTrees
from textlayer.model import Document

RANKER_NAME = "extractor-ranker"
# 3: gradient-boosted trees over context and phrase-meaning features, calibrated per field.
RANKER_FORMAT = 3
# What extraction reads: the trees as arrays.
TREES_FILE = "ranker-trees.npz"
# The fitted scikit-learn model the trees were compiled from, kept beside them (a test holds the
# two to the same answers); read only for an artifact saved before compiled trees existed.
MODEL_FILE = "ranker.pkl"
CALIBRATION_FILE = "calibration.json"

# What each field is, in words: the phrase a label's meaning is compared with. One
# description per field, not a list of labels: the embedding carries the synonyms.
FIELD_DESCRIPTIONS: dict[str, str] = {
    "vendor_name": "supplier company name",
    "vendor_tax_id": "VAT registration number tax id",
    "vendor_iban": "IBAN bank account",
    "invoice_number": "invoice number",
    "invoice_date": "invoice date",
    "due_date": "due date payment deadline",
    "po_number": "purchase order number",
    "currency": "currency",
    "subtotal": "net amount subtotal",
    "tax_amount": "tax amount VAT",
    "total": "total amount due",
}
# Candidate features beyond the geometric ones of ``ranking.FEATURES`` (see ``context.py``).
CONTEXT_FEATURES = (
    "value_count", "value_share", "n_candidates", "value_rank", "size_all", "row_words",
    "largest_amount", "amount_share", "has_cents", "letter_date", "debit_date", "iban_unchecked",
    "rate_base", "address", "wrapped", "window", "page1", "rate_rows", "unlabelled",
    "field_labelled", "labelled", "row_legal_form",
)  # fmt: skip
# Cues that can only make a candidate less likely, whatever else holds: a value in the buyer's
# block or after a buyer's label is the buyer's, an amount after "auf"/"on" is a tax base, a
# line of the address window is the recipient. Trees are held to that (monotonic constraints),
# so a cue rare in the training data cannot turn into a reason for a candidate.
ONLY_AGAINST = ("in_buyer", "buyer_label", "rate_base", "window")
PHRASES = ("label", "left", "above", "value")


def _phrases(c: Candidate) -> tuple[str, str, str, str]:
    n = c.neighbourhood
    return (c.label_text, n.left if n else "", n.above if n else "", c.text)


def feature_names(settings: GenericSettings = DEFAULT) -> list[str]:
    names = [*FEATURES, *CONTEXT_FEATURES, *(f"field={f}" for f in HEADER_OUTPUT)]
    for phrase in PHRASES:
        names += [f"{phrase}~own", f"{phrase}~other", f"{phrase}~gap"]
        names += [f"{phrase}[{i}]" for i in range(settings.embedding_features)]
    return names


class Featurizer:
    """Candidates -> feature matrix, with the field descriptions embedded once."""

    def __init__(self, embedder: PhraseEmbedder, settings: GenericSettings = DEFAULT) -> None:
        self.embedder = embedder
        self.settings = settings
        self.fields = list(HEADER_OUTPUT)
        self.descriptions = embedder.many([FIELD_DESCRIPTIONS[f] for f in self.fields])
        self.numeric = [*FEATURES, *CONTEXT_FEATURES]

    def matrix(self, candidates: Sequence[Candidate]) -> np.ndarray:
        """One row per candidate, columns in the order of ``feature_names``."""
        n, k = len(candidates), self.settings.embedding_features
        if n == 0:
            return np.zeros((0, len(feature_names(self.settings))), dtype=np.float32)
        numeric = np.array([[c.features.get(name, 0.0) for name in self.numeric] for c in candidates])
        own = np.array([self.fields.index(c.field) for c in candidates])
        onehot = np.zeros((n, len(self.fields)))
        onehot[np.arange(n), own] = 1.0
        # (candidates, phrases, dimensions): each phrase's vector is cached per distinct string.
        vectors = np.stack([np.stack([self.embedder.embed(p) for p in _phrases(c)]) for c in candidates])
        sims = vectors @ self.descriptions.T  # (candidates, phrases, fields)
        rows = np.arange(n)
        own_sim = sims[rows, :, own]  # (candidates, phrases)
        sims[rows, :, own] = -np.inf
        other = sims.max(axis=2)
        blocks = [numeric, onehot]
        for p in range(len(PHRASES)):
            blocks += [own_sim[:, p : p + 1], other[:, p : p + 1], (own_sim - other)[:, p : p + 1]]
            blocks.append(vectors[:, p, :k])
        return np.hstack(blocks).astype(np.float32)


def one_thread() -> Any:
    """OpenMP pinned to one thread: a model this small gains nothing from more, and on a busy
    machine (workers, CI) spinning OpenMP threads made fitting sixteen times slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def new_model(settings: GenericSettings = DEFAULT) -> Any:
    """Gradient-boosted trees: they combine cues (a label's meaning and where it stands) that a
    linear model can only add up, and need no feature scaling."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    names = feature_names(settings)
    return HistGradientBoostingClassifier(
        monotonic_cst=[-1 if name in ONLY_AGAINST else 0 for name in names],
        max_iter=settings.boosting_rounds,
        max_leaf_nodes=settings.boosting_leaves,
        learning_rate=settings.boosting_learning_rate,
        l2_regularization=settings.boosting_l2,
        min_samples_leaf=settings.boosting_min_leaf,
        random_state=0,
    )


def reading_kind(document: Document) -> str:
    """How a document's words were read: ``ocr`` when any page was, else ``digital``. A value
    read through OCR is right less often at the same ranker score (a name loses its accents, a
    receipt's letterhead is a logo), so confidences are calibrated per field and per kind."""
    return "ocr" if document.is_scanned else "digital"


def calibration_key(name: str, kind: str) -> str:
    """The calibration map of field ``name`` on documents read as ``kind``."""
    return f"{name}@{kind}"


@dataclass(frozen=True)
class Calibration:
    """Per field, and per field and reading kind where there was enough to fit one, an isotonic
    map from the extractor's raw confidence to the chance of being right."""

    points: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)

    def __call__(self, name: str, raw: float, kind: str | None = None) -> float:
        """The map of ``name`` read as ``kind`` when one was fitted, else the field's own map."""
        key = calibration_key(name, kind) if kind is not None else name
        if key not in self.points:
            key = name
        if key not in self.points:
            return raw
        xs, ys = self.points[key]
        return round(float(np.interp(raw, xs, ys)), 3)

    @classmethod
    def fit(
        cls, observations: Mapping[str, Sequence[tuple[float, bool]]], min_observations: int = 10
    ) -> Calibration:
        """One isotonic map per key of ``observations`` with at least ``min_observations``."""
        from sklearn.isotonic import IsotonicRegression

        points: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        for name, obs in observations.items():
            if len(obs) < min_observations:
                continue  # too few to say anything; the field's map or the raw confidence stands
            xs = np.array([x for x, _ in obs])
            ys = np.array([float(y) for _, y in obs])
            iso = IsotonicRegression(y_min=0.01, y_max=0.99, out_of_bounds="clip").fit(xs, ys)
            px, py = iso.X_thresholds_, iso.y_thresholds_
            points[name] = (tuple(float(x) for x in px), tuple(round(float(y), 4) for y in py))
        return cls(points)

    def to_json(self) -> dict[str, Any]:
        return {name: {"raw": list(xs), "calibrated": list(ys)} for name, (xs, ys) in self.points.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        return cls({n: (tuple(v["raw"]), tuple(v["calibrated"])) for n, v in data.items()})


def expected_calibration_error(
    obs: Sequence[tuple[float, bool]], bins: int = DEFAULT.ece_bins
) -> float | None:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by their size."""
    if not obs:
        return None
    conf = np.array([c for c, _ in obs])
    right = np.array([float(r) for _, r in obs])
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(conf[mask].mean() - right[mask].mean())
    return round(total / len(obs), 4)


def compile_trees(model: Any, rows: np.ndarray) -> CompiledTrees:
    """The fitted model's trees as arrays, checked to give the model's own answers on ``rows``."""
    trees = CompiledTrees.from_sklearn(model)
    with one_thread():
        expected = model.predict_proba(rows)
    if not np.allclose(trees.predict_proba(rows), expected, rtol=0.0, atol=1e-12):
        raise AssertionError("the compiled trees do not reproduce the fitted model")  # a bug in trees.py
    return trees


class LearnedRanker:
    """Scorer protocol (``name``, ``version``, ``score``) plus ``score_all`` and ``calibration``.

    ``model`` is the compiled trees; ``fitted``, only while training, the scikit-learn model they
    were compiled from (saved beside them).
    """

    name = RANKER_NAME

    def __init__(
        self,
        model: CompiledTrees | None,
        embedder: PhraseEmbedder,
        version: str = "untrained",
        calibration: Calibration | None = None,
        settings: GenericSettings = DEFAULT,
        fitted: Any = None,
    ) -> None:
        self.model = model
        self.fitted = fitted
        self.embedder = embedder
        self.version = version
        self.calibration = calibration or Calibration()
        self.settings = settings
        self.featurizer = Featurizer(embedder, settings)

    def score(self, candidates: Sequence[Candidate]) -> list[float]:
        if not candidates:
            return []
        if self.model is None:
            raise ValueError("an untrained ranker scores nothing")
        proba = self.model.predict_proba(self.featurizer.matrix(candidates))
        return [float(p) for p in proba[:, 1]]

    def score_all(self, cands: Mapping[str, Sequence[Candidate]]) -> None:
        """Score every field's candidates in one call to the model (one call costs the same as 1000 rows)."""
        flat = [c for cs in cands.values() for c in cs]
        for c, s in zip(flat, self.score(flat), strict=True):
            c.score = s

    def save(self, folder: Path) -> None:
        import json

        if self.model is None:
            raise ValueError("an untrained ranker cannot be saved")
        self.model.save(folder / TREES_FILE)
        if self.fitted is not None:
            (folder / MODEL_FILE).write_bytes(pickle.dumps(self.fitted))
        self.embedder.save(folder)
        (folder / CALIBRATION_FILE).write_text(json.dumps(self.calibration.to_json(), indent=1))

    @classmethod
    def load(cls, folder: Path, version: str, meta: Mapping[str, Any]) -> LearnedRanker | None:
        """The ranker saved in ``folder``; None when it was trained on other features (retrain)."""
        import json

        if list(meta.get("features", [])) != feature_names(DEFAULT):
            return None
        if (folder / TREES_FILE).exists():
            model = CompiledTrees.load(folder / TREES_FILE)
        else:  # saved before compiled trees existed: compiled here, once per process
            # Artifacts are written by our own `train extractor` (or shipped with the code).
            model = CompiledTrees.from_sklearn(pickle.loads((folder / MODEL_FILE).read_bytes()))
        calibration = Calibration.from_json(json.loads((folder / CALIBRATION_FILE).read_text()))
        embedder = PhraseEmbedder.load(folder, str(meta.get("phrase_table", "")))
        return cls(model, embedder, version, calibration)
