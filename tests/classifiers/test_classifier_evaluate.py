from __future__ import annotations

import numpy as np
import pytest

from classifiers.evaluate import compute_metrics, expected_calibration_error, format_confusion
from ledgerbot.core.domain import DocType as T


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy() -> None:
    # Bin (0.8, 0.867]: two at 0.85, one right -> gap 0.35; bin (0.933, 1]: two at 1.0, both right -> 0.
    conf = np.array([0.85, 0.85, 1.0, 1.0])
    correct = np.array([1.0, 0.0, 1.0, 1.0])
    assert expected_calibration_error(conf, correct) == pytest.approx(0.5 * 0.35)
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def test_metrics_per_class_and_confusion() -> None:
    truth = [T.INVOICE, T.INVOICE, T.CREDIT_NOTE, T.STATEMENT]
    predicted = [T.INVOICE, T.CREDIT_NOTE, T.CREDIT_NOTE, T.STATEMENT]
    m = compute_metrics(truth, predicted, [0.9, 0.6, 0.8, 0.99], low_confidence=[False, True, False, False])
    assert m.accuracy == 0.75
    assert m.per_class["invoice"].recall == 0.5 and m.per_class["invoice"].precision == 1.0
    assert m.per_class["credit_note"].precision == 0.5 and m.per_class["credit_note"].recall == 1.0
    assert m.per_class["other"].support == 0
    inv, crn = m.labels.index("invoice"), m.labels.index("credit_note")
    assert m.confusion[inv][crn] == 1 and m.confusion[inv][inv] == 1
    assert sum(map(sum, m.confusion)) == 4
    assert m.review_rate == 0.25 and m.accepted_accuracy == 1.0
    assert "credit_note" in format_confusion(m)
