"""Classifier metrics: accuracy, per-class precision and recall, confusion matrix, calibration error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from classifiers.labels import LABEL_INDEX, LABELS, label_names
from ledgerbot.core.domain import DocType

ECE_BINS = 15


@dataclass
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Metrics:
    n: int
    accuracy: float
    ece: float
    per_class: dict[str, ClassMetrics]
    labels: list[str]
    confusion: list[list[int]]  # rows = truth, columns = prediction, both in ``labels`` order
    # Cascade only: documents sent to review, and accuracy on the ones that were not.
    review_rate: float | None = None
    accepted_accuracy: float | None = None
    by_group: dict[str, dict[str, float]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: the gap between confidence and accuracy, averaged over equal-width bins."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Right-closed bins, so a confidence of exactly 1.0 lands in the last one.
    idx = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return round(float(ece), 5)


def compute_metrics(
    truth: Sequence[DocType],
    predicted: Sequence[DocType],
    confidence: Sequence[float] | np.ndarray,
    *,
    low_confidence: Sequence[bool] | np.ndarray | None = None,
    groups: Sequence[str] | None = None,
) -> Metrics:
    y = np.array([LABEL_INDEX[DocType(t)] for t in truth], dtype=int)
    p = np.array([LABEL_INDEX[DocType(t)] for t in predicted], dtype=int)
    conf = np.asarray(confidence, dtype=float)
    correct = (y == p).astype(float)
    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y, p), 1)
    per_class = {}
    for i, name in enumerate(label_names()):
        tp = int(confusion[i, i])
        predicted_i = int(confusion[:, i].sum())
        actual_i = int(confusion[i, :].sum())
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / actual_i if actual_i else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = ClassMetrics(round(precision, 4), round(recall, 4), round(f1, 4), actual_i)
    metrics = Metrics(
        n=len(y),
        accuracy=round(float(correct.mean()), 4) if len(y) else 0.0,
        ece=expected_calibration_error(conf, correct),
        per_class=per_class,
        labels=label_names(),
        confusion=confusion.tolist(),
    )
    if low_confidence is not None:
        low = np.asarray(low_confidence, dtype=bool)
        metrics.review_rate = round(float(low.mean()), 4) if len(low) else 0.0
        accepted = ~low
        metrics.accepted_accuracy = round(float(correct[accepted].mean()), 4) if accepted.any() else None
    if groups is not None:
        by_group: dict[str, dict[str, float]] = {}
        for group in sorted(set(groups)):
            mask = np.array([g == group for g in groups])
            by_group[group] = {"n": int(mask.sum()), "accuracy": round(float(correct[mask].mean()), 4)}
        metrics.by_group = by_group
    return metrics


def format_confusion(metrics: Metrics | dict[str, Any]) -> str:
    """The confusion matrix as an aligned text table (truth in rows) for stderr and reports."""
    short = {
        "invoice": "inv",
        "credit_note": "crn",
        "purchase_order": "po",
        "delivery_note": "dn",
        "statement": "stmt",
        "remittance_advice": "rem",
        "other": "oth",
    }
    labels = metrics["labels"] if isinstance(metrics, dict) else metrics.labels
    confusion = metrics["confusion"] if isinstance(metrics, dict) else metrics.confusion
    heads = [short.get(name, name[:4]) for name in labels]
    rows = ["truth\\pred".ljust(18) + "".join(h.rjust(6) for h in heads)]
    for name, row in zip(labels, confusion, strict=True):
        rows.append(name.ljust(18) + "".join(str(v).rjust(6) for v in row))
    return "\n".join(rows)
