"""Confidence routing: the baseline when it is sure, both models pooled otherwise, a clerk below that.

The rule, with every number chosen on the validation split and stored in the cascade artifact:

1. baseline probability >= ``accept_baseline``: the baseline's answer;
2. otherwise the transformer is asked and the two calibrated distributions are pooled,
   ``baseline_weight * p_baseline + (1 - baseline_weight) * p_transformer``; its top type wins;
3. a pooled probability below ``review``: the document goes to a clerk as ``LOW_CONFIDENCE``.

Pooling instead of handing the document over keeps the baseline's vote on exactly the documents
where it is only moderately sure: a transformer that is unsure, or wrong without being sure, no
longer overrides a baseline that was right.

``Cascade.load`` reads the newest (or a named) ``cascade`` artifact, which pins the exact
baseline and transformer versions, the weights and the thresholds; every ``Classification``
carries those versions for the lineage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from classifiers.compiled import CompiledBaseline
from classifiers.errors import ArtifactError, IncompatibleModel
from classifiers.features import FEATURE_VERSION, DocFeatures, extract_features
from classifiers.labels import LABELS
from classifiers.transformer_onnx import TransformerModel, load_transformer
from ledgerbot.core.artifacts import Artifact, ArtifactStore
from ledgerbot.core.domain import APException, DocType
from textlayer.model import Document

# "no_text": a document without a word on any page (a blank scan, an empty page) is typed by
# no model; it goes to a clerk as "other" with confidence 0.
Route = Literal["baseline", "combined", "no_text"]
NO_TEXT_MODEL = "rule:no-text"
LOW_CONFIDENCE = "LOW_CONFIDENCE"
CASCADE = "cascade"

# Floors under the thresholds found on validation. Validation holds out whole dev layouts, on
# which the baseline is usually right every time, so the data alone would accept any confidence.
# Below 0.6 a calibrated baseline is wrong often enough that a second opinion pays.
ACCEPT_FLOOR = 0.60
REVIEW_FLOOR = 0.50
# Each model keeps at least this share of the pooled vote: a validation split on which one
# model is never wrong must not silence the other on layouts neither has seen.
MIN_WEIGHT = 0.2
WEIGHT_GRID = tuple(round(w, 2) for w in np.arange(MIN_WEIGHT, 1.0 - MIN_WEIGHT + 1e-9, 0.05))


@dataclass(frozen=True)
class Thresholds:
    accept_baseline: float  # baseline confidence at or above this: take the baseline's answer
    review: float  # pooled confidence below this: LOW_CONFIDENCE, a clerk decides
    baseline_weight: float = 0.5  # the baseline's share of the pooled distribution

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.accept_baseline <= 1.0:
            raise ArtifactError(f"inconsistent thresholds {self}: need 0 <= review <= accept_baseline <= 1")
        if not 0.0 <= self.baseline_weight <= 1.0:
            raise ArtifactError(f"baseline_weight must be within [0, 1], got {self.baseline_weight}")


@dataclass(frozen=True)
class Classification:
    """One document's type, how sure the cascade is, and which model decided."""

    doc_type: DocType
    confidence: float
    route: Route
    low_confidence: bool
    model: str  # the deciding model(s): ``baseline@<v>``, or ``baseline@<v>+transformer@<v>`` pooled
    version: str  # the cascade, ``cascade@<version>``: pins both models and the thresholds
    baseline_confidence: float
    # What ran the transformer when it was asked (``torch`` or ``onnxruntime``), else None: the
    # model version is the same either way, the runtime says which code computed its answer.
    runtime: str | None = None

    def lineage(self) -> dict[str, str]:
        out = {
            "classifier": self.version,
            "classifier_model": self.model,
            "classifier_route": self.route,
            "classifier_confidence": f"{self.confidence:.4f}",
            "classifier_low_confidence": str(self.low_confidence).lower(),
        }
        if self.runtime is not None:
            out["classifier_runtime"] = self.runtime
        return out

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
    routed: np.ndarray  # True where the transformer was asked and the pooled distribution decided
    low_confidence: np.ndarray


def check_feature_version(artifact: Artifact) -> None:
    """Refuse a classifier artifact whose features differ from this code's, with how to retrain.

    Found at load time, it is one clear error; found later, every document would fail (or, worse,
    be classified from text the model never learned to read). Meta written before versioning
    has no ``feature_version``: that is version 1.
    """
    found = artifact.meta.get("feature_version", 1)
    if found != FEATURE_VERSION:
        raise IncompatibleModel(
            f"{artifact.ref} was trained on classifier features v{found}, this ledgerbot computes "
            f"v{FEATURE_VERSION}; retrain with `ledgerbot train classifier <corpus>`",
            model=artifact.ref,
            feature_version=found,
        )


def pool(p_baseline: np.ndarray, p_transformer: np.ndarray, baseline_weight: float) -> np.ndarray:
    """The linear opinion pool of the two calibrated distributions (rows still sum to 1)."""
    return baseline_weight * p_baseline + (1.0 - baseline_weight) * p_transformer


def route(
    p_baseline: np.ndarray, p_transformer: np.ndarray | None, thresholds: Thresholds
) -> RoutedPrediction:
    """Apply the rule. ``p_transformer`` may hold rows only for the routed documents or all."""
    conf_b = p_baseline.max(axis=1)
    predicted = p_baseline.argmax(axis=1)
    confidence = conf_b.copy()
    routed = conf_b < thresholds.accept_baseline
    if routed.any():
        if p_transformer is None:
            raise ValueError("documents need the transformer but no transformer probabilities were given")
        rows = p_transformer if len(p_transformer) == int(routed.sum()) else p_transformer[routed]
        pooled = pool(p_baseline[routed], rows, thresholds.baseline_weight)
        predicted[routed] = pooled.argmax(axis=1)
        confidence[routed] = pooled.max(axis=1)
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


def choose_weight(p_baseline: np.ndarray, p_transformer: np.ndarray, y: np.ndarray) -> float:
    """The baseline's share of the pool: fewest validation errors, then lowest log-loss.

    Chosen on every validation document, not only the ones below the acceptance threshold:
    those are few, and the pool must be right where the baseline is unsure on new layouts.
    Ties go to the weight nearest 0.5.
    """
    best: tuple[int, float, float, float] | None = None
    for w in WEIGHT_GRID:
        p = pool(p_baseline, p_transformer, w)
        errors = int((p.argmax(axis=1) != y).sum())
        nll = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))
        key = (errors, round(nll, 4), abs(w - 0.5), float(w))
        if best is None or key < best:
            best = key
    return 0.5 if best is None else best[3]


def choose_thresholds(
    p_baseline: np.ndarray,
    p_transformer: np.ndarray,
    y: np.ndarray,
    *,
    accept_precision: float = 0.995,
    review_precision: float = 0.99,
    accept_floor: float = ACCEPT_FLOOR,
    review_floor: float = REVIEW_FLOOR,
    baseline_evidence: tuple[np.ndarray, np.ndarray] | None = None,
) -> Thresholds:
    """Weights and thresholds from validation probabilities: as much automatic as the wanted precision allows.

    The baseline threshold is the lowest confidence at which the baseline's accepted answers are
    at least ``accept_precision`` right, on ``baseline_evidence`` (probabilities, truth) when
    given (out-of-layout predictions for every dev document, see ``train``), else on the
    validation split; the pool's weight comes from ``choose_weight``; the review threshold is
    the lowest pooled confidence at which the validation documents below the baseline threshold
    are at least ``review_precision`` right.
    """
    evidence_p, evidence_y = baseline_evidence if baseline_evidence is not None else (p_baseline, y)
    correct_e = (evidence_p.argmax(axis=1) == evidence_y).astype(float)
    accept = _smallest_precise(evidence_p.max(axis=1), correct_e, accept_precision, accept_floor)
    conf_b = p_baseline.max(axis=1)
    weight = choose_weight(p_baseline, p_transformer, y) if len(y) else 0.5
    routed = conf_b < accept
    if routed.any():
        pooled = pool(p_baseline[routed], p_transformer[routed], weight)
        correct_p = (pooled.argmax(axis=1) == y[routed]).astype(float)
        review = _smallest_precise(pooled.max(axis=1), correct_p, review_precision, review_floor)
    else:
        review = review_floor
    return Thresholds(accept_baseline=accept, review=min(review, accept), baseline_weight=weight)


class ProbabilityModel(Protocol):
    """A trained baseline, as training holds it or as documents are read with it (compiled)."""

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray: ...


class Cascade:
    def __init__(
        self,
        baseline: ProbabilityModel,
        thresholds: Thresholds,
        *,
        cascade: Artifact,
        baseline_artifact: Artifact,
        transformer_artifact: Artifact,
        transformer: TransformerModel | None = None,
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

        Raises ``ModelNotFound`` (E501) when nothing is trained there yet, and
        ``IncompatibleModel`` (E506) when the models were trained on features this code no longer
        computes. The transformer's weights load on first use, so a batch the baseline settles
        alone never pays for them.
        """
        if models_dir is None:
            from ledgerbot.core.settings import get_settings

            models_dir = get_settings().models_dir
        store = ArtifactStore(models_dir)
        cascade = store.resolve(CASCADE, version)
        # Before anything else in the meta: an old cascade may lack the keys read below.
        check_feature_version(cascade)
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
        for artifact in (cascade, baseline_artifact, transformer_artifact):
            check_feature_version(artifact)
        baseline = CompiledBaseline.load(baseline_artifact.path)
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
    def transformer(self) -> TransformerModel:
        """Loaded on first use: through onnxruntime when the artifact holds the graph, else torch."""
        if self._transformer is None:
            self._transformer = load_transformer(self.transformer_artifact.path)
        return self._transformer

    def classify(self, docs: Sequence[Document]) -> list[Classification]:
        worded = [i for i, doc in enumerate(docs) if _has_words(doc)]
        typed = iter(self.classify_features([extract_features(docs[i]) for i in worded]))
        wordless = Classification(
            doc_type=DocType.OTHER,
            confidence=0.0,
            route="no_text",
            low_confidence=True,
            model=NO_TEXT_MODEL,
            version=self.version,
            baseline_confidence=0.0,
        )
        has_words = set(worded)
        return [next(typed) if i in has_words else wordless for i in range(len(docs))]

    def classify_features(self, features: Sequence[DocFeatures]) -> list[Classification]:
        if not features:
            return []
        p_baseline = self.baseline.predict_proba(features)
        routed = p_baseline.max(axis=1) < self.thresholds.accept_baseline
        p_transformer = None
        runtime = None
        if routed.any():
            p_transformer = self.transformer.predict_proba(
                [f for f, r in zip(features, routed, strict=True) if r]
            )
            runtime = self.transformer.runtime
        decided = route(p_baseline, p_transformer, self.thresholds)
        pooled_by = f"{self.baseline_artifact.ref}+{self.transformer_artifact.ref}"
        out = []
        for i in range(len(features)):
            combined = bool(decided.routed[i])
            out.append(
                Classification(
                    doc_type=LABELS[int(decided.predicted[i])],
                    confidence=float(decided.confidence[i]),
                    route="combined" if combined else "baseline",
                    low_confidence=bool(decided.low_confidence[i]),
                    model=pooled_by if combined else self.baseline_artifact.ref,
                    version=self.version,
                    baseline_confidence=float(p_baseline[i].max()),
                    runtime=runtime if combined else None,
                )
            )
        return out


def _has_words(doc: Document) -> bool:
    return any(line.words for page in doc.pages for line in page.lines)
