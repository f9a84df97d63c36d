"""Confidence routing: the baseline decides when it is sure, the transformer otherwise, a clerk below that.

``Cascade.load`` reads the newest (or a named) ``cascade`` artifact, which pins the exact
baseline and transformer versions and the two thresholds chosen on the validation split; every
``Classification`` carries those versions for the lineage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from classifiers.artifacts import Artifact, ArtifactStore
from classifiers.baseline import BaselineClassifier
from classifiers.errors import ArtifactError
from classifiers.features import DocFeatures, extract_features
from classifiers.labels import LABELS
from classifiers.transformer import TransformerClassifier
from extractors.textlayer.model import Document
from ledgerbot.domain import APException, DocType

Route = Literal["baseline", "transformer"]
LOW_CONFIDENCE = "LOW_CONFIDENCE"
CASCADE = "cascade"

# Floors under the thresholds found on validation. The validation split comes from the training
# layouts, where both models are near perfect, so the data alone would happily accept anything;
# the floors keep a margin for layouts and scans the models have never seen.
ACCEPT_FLOOR = 0.90
REVIEW_FLOOR = 0.50


@dataclass(frozen=True)
class Thresholds:
    accept_baseline: float  # baseline confidence at or above this: take the baseline's answer
    review: float  # transformer confidence below this: LOW_CONFIDENCE, a clerk decides

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.accept_baseline <= 1.0:
            raise ArtifactError(f"inconsistent thresholds {self}: need 0 <= review <= accept_baseline <= 1")


@dataclass(frozen=True)
class Classification:
    """One document's type, how sure the cascade is, and which model decided."""

    doc_type: DocType
    confidence: float
    route: Route
    low_confidence: bool
    model: str  # the deciding model, ``baseline@<version>`` or ``transformer@<version>``
    version: str  # the cascade, ``cascade@<version>``: pins both models and the thresholds
    baseline_confidence: float

    def lineage(self) -> dict[str, str]:
        return {
            "classifier": self.version,
            "classifier_model": self.model,
            "classifier_route": self.route,
            "classifier_confidence": f"{self.confidence:.4f}",
            "classifier_low_confidence": str(self.low_confidence).lower(),
        }

    def exception(self) -> APException | None:
        """The review reason when the cascade is not sure enough, else ``None``."""
        if not self.low_confidence:
            return None
        return APException(
            code=LOW_CONFIDENCE,
            message=f"document type {self.doc_type.value} guessed with confidence {self.confidence:.2f}; "
            "a clerk must confirm it",
            evidence={
                "doc_type": self.doc_type.value,
                "confidence": round(self.confidence, 4),
                **self.lineage(),
            },
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["doc_type"] = self.doc_type.value
        out["confidence"] = round(self.confidence, 4)
        out["baseline_confidence"] = round(self.baseline_confidence, 4)
        return out


@dataclass(frozen=True)
class RoutedPrediction:
    """The cascade's decisions as arrays, for evaluation and threshold search."""

    predicted: np.ndarray  # label indices
    confidence: np.ndarray
    routed: np.ndarray  # True where the transformer decided
    low_confidence: np.ndarray


def route(
    p_baseline: np.ndarray, p_transformer: np.ndarray | None, thresholds: Thresholds
) -> RoutedPrediction:
    """Apply the thresholds. ``p_transformer`` may hold rows only for the routed documents or all."""
    conf_b = p_baseline.max(axis=1)
    predicted = p_baseline.argmax(axis=1)
    confidence = conf_b.copy()
    routed = conf_b < thresholds.accept_baseline
    if routed.any():
        if p_transformer is None:
            raise ValueError("documents need the transformer but no transformer probabilities were given")
        rows = p_transformer if len(p_transformer) == int(routed.sum()) else p_transformer[routed]
        predicted[routed] = rows.argmax(axis=1)
        confidence[routed] = rows.max(axis=1)
    low = routed & (confidence < thresholds.review)
    return RoutedPrediction(predicted, confidence, routed, low)


def _smallest_precise(confidence: np.ndarray, correct: np.ndarray, target: float, floor: float) -> float:
    """The lowest threshold >= ``floor`` whose accepted set (confidence >= t) reaches ``target`` precision."""
    candidates = sorted({floor, *(float(c) for c in confidence if c >= floor)})
    for t in candidates:
        accepted = confidence >= t
        if not accepted.any() or correct[accepted].mean() >= target:
            return round(t, 6)
    return 1.0


def choose_thresholds(
    p_baseline: np.ndarray,
    p_transformer: np.ndarray,
    y: np.ndarray,
    *,
    accept_precision: float = 0.995,
    review_precision: float = 0.99,
    accept_floor: float = ACCEPT_FLOOR,
    review_floor: float = REVIEW_FLOOR,
) -> Thresholds:
    """Thresholds from validation probabilities: as much as possible automatic at the wanted precision.

    The baseline threshold is the lowest confidence at which the baseline's accepted answers are
    at least ``accept_precision`` right; the review threshold is the lowest transformer confidence
    at which the documents routed to it are at least ``review_precision`` right.
    """
    conf_b = p_baseline.max(axis=1)
    correct_b = (p_baseline.argmax(axis=1) == y).astype(float)
    accept = _smallest_precise(conf_b, correct_b, accept_precision, accept_floor)
    routed = conf_b < accept
    if routed.any():
        conf_t = p_transformer[routed].max(axis=1)
        correct_t = (p_transformer[routed].argmax(axis=1) == y[routed]).astype(float)
        review = _smallest_precise(conf_t, correct_t, review_precision, review_floor)
    else:
        review = review_floor
    return Thresholds(accept_baseline=accept, review=min(review, accept))


class Cascade:
    def __init__(
        self,
        baseline: BaselineClassifier,
        thresholds: Thresholds,
        *,
        cascade: Artifact,
        baseline_artifact: Artifact,
        transformer_artifact: Artifact,
        transformer: TransformerClassifier | None = None,
    ) -> None:
        self.baseline = baseline
        self.thresholds = thresholds
        self.artifact = cascade
        self.baseline_artifact = baseline_artifact
        self.transformer_artifact = transformer_artifact
        self._transformer = transformer

    @classmethod
    def load(cls, models_dir: Path | None = None, version: str = "latest") -> Cascade:
        """The cascade ``version`` under ``models_dir`` (default: the settings' models folder).

        Raises ``ModelNotFound`` (E501) when nothing is trained there yet. The transformer's
        weights load on first use, so a batch the baseline settles alone never pays for them.
        """
        if models_dir is None:
            from ledgerbot.settings import get_settings

            models_dir = get_settings().models_dir
        store = ArtifactStore(models_dir)
        cascade = store.resolve(CASCADE, version)
        try:
            components = cascade.meta["components"]
            thresholds = Thresholds(**cascade.meta["thresholds"])
        except (KeyError, TypeError) as error:
            raise ArtifactError(
                f"{cascade.path}/meta.json lacks components or thresholds: {error}"
            ) from error
        if cascade.meta.get("labels") != [label.value for label in LABELS]:
            raise ArtifactError(
                f"{cascade.ref} was trained on another label set: {cascade.meta.get('labels')}"
            )
        baseline_artifact = store.resolve("baseline", components["baseline"])
        transformer_artifact = store.resolve("transformer", components["transformer"])
        baseline = BaselineClassifier.load(baseline_artifact.path)
        return cls(
            baseline,
            thresholds,
            cascade=cascade,
            baseline_artifact=baseline_artifact,
            transformer_artifact=transformer_artifact,
        )

    @property
    def version(self) -> str:
        return self.artifact.ref

    @property
    def transformer(self) -> TransformerClassifier:
        if self._transformer is None:
            self._transformer = TransformerClassifier.load(self.transformer_artifact.path)
        return self._transformer

    def classify(self, docs: Sequence[Document]) -> list[Classification]:
        return self.classify_features([extract_features(doc) for doc in docs])

    def classify_features(self, features: Sequence[DocFeatures]) -> list[Classification]:
        if not features:
            return []
        p_baseline = self.baseline.predict_proba(features)
        routed = p_baseline.max(axis=1) < self.thresholds.accept_baseline
        p_transformer = None
        if routed.any():
            p_transformer = self.transformer.predict_proba(
                [f for f, r in zip(features, routed, strict=True) if r]
            )
        decided = route(p_baseline, p_transformer, self.thresholds)
        out = []
        for i in range(len(features)):
            by_transformer = bool(decided.routed[i])
            out.append(
                Classification(
                    doc_type=LABELS[int(decided.predicted[i])],
                    confidence=float(decided.confidence[i]),
                    route="transformer" if by_transformer else "baseline",
                    low_confidence=bool(decided.low_confidence[i]),
                    model=(self.transformer_artifact if by_transformer else self.baseline_artifact).ref,
                    version=self.version,
                    baseline_confidence=float(p_baseline[i].max()),
                )
            )
        return out
