from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from classifier_corpus_gen import make_corpus, make_document

from classifiers.baseline import BaselineClassifier
from classifiers.errors import TrainingDataError
from classifiers.features import extract_features
from classifiers.labels import LABELS
from ledgerbot.core.domain import DocType


def _split() -> tuple[list, list, list, list]:
    train = make_corpus(10, seed=1, layouts=range(0, 4))
    held = make_corpus(6, seed=2, layouts=range(4, 6))  # layouts the model never saw
    return (
        [extract_features(d) for d, _, _ in train],
        [t for _, t, _ in train],
        [extract_features(d) for d, _, _ in held],
        [t for _, t, _ in held],
    )


def test_baseline_learns_the_tiny_corpus_far_above_chance() -> None:
    x, y, x_held, y_held = _split()
    model = BaselineClassifier(seed=0).fit(x, y)
    proba = model.predict_proba(x_held)
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    accuracy = np.mean([p == t for p, t in zip(predicted, y_held, strict=True)])
    assert accuracy >= 0.9  # chance is 1/7
    assert proba.shape == (len(x_held), 7)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_saved_baseline_reloads_with_identical_probabilities(tmp_path: Path) -> None:
    x, y, x_held, _ = _split()
    model = BaselineClassifier(seed=0).fit(x, y)
    model.save(tmp_path)
    again = BaselineClassifier.load(tmp_path)
    assert np.array_equal(model.predict_proba(x_held), again.predict_proba(x_held))


def test_compiled_baseline_gives_scikit_learns_probabilities_without_it(tmp_path: Path) -> None:
    x, y, x_held, _ = _split()
    model = BaselineClassifier(seed=0).fit(x, y)
    model.save(tmp_path)
    compiled = BaselineClassifier.load_compiled(tmp_path)
    # Held-out layouts, training documents, and one whose title names a type.
    for batch in (x_held, x[:5]):
        assert np.allclose(compiled.predict_proba(batch), model.predict_proba(batch), atol=1e-5)
    assert compiled.predict_proba([]).shape == (0, len(LABELS))


def test_compiled_baseline_for_three_types_with_one_absent(tmp_path: Path) -> None:
    rng = random.Random(3)
    kinds = [DocType.INVOICE, DocType.CREDIT_NOTE, DocType.STATEMENT]
    docs = [(make_document(k, rng, layout=i % 3), k) for k in kinds for i in range(6)]
    model = BaselineClassifier().fit([extract_features(d) for d, _ in docs], [k for _, k in docs])
    model.save(tmp_path)
    probe = [extract_features(make_document(k, rng)) for k in kinds]
    compiled = BaselineClassifier.load_compiled(tmp_path).predict_proba(probe)
    assert np.allclose(compiled, model.predict_proba(probe), atol=1e-5)
    assert (compiled[:, LABELS.index(DocType.OTHER)] == 0.0).all()


def test_training_is_deterministic() -> None:
    x, y, x_held, _ = _split()
    a = BaselineClassifier(seed=5).fit(x, y).predict_proba(x_held)
    b = BaselineClassifier(seed=5).fit(x, y).predict_proba(x_held)
    assert np.array_equal(a, b)


def test_a_type_absent_from_training_gets_zero_probability() -> None:
    rng = random.Random(0)
    kinds = [DocType.INVOICE, DocType.CREDIT_NOTE, DocType.STATEMENT]
    docs = [(make_document(k, rng, layout=i % 3), k) for k in kinds for i in range(6)]
    model = BaselineClassifier().fit([extract_features(d) for d, _ in docs], [k for _, k in docs])
    proba = model.predict_proba([extract_features(make_document(DocType.INVOICE, rng))])
    assert proba[0, LABELS.index(DocType.OTHER)] == 0.0


def test_too_little_data_is_a_coded_business_error() -> None:
    rng = random.Random(0)
    one = [extract_features(make_document(DocType.INVOICE, rng))]
    with pytest.raises(TrainingDataError) as caught:
        BaselineClassifier().fit(one, [DocType.INVOICE])
    assert caught.value.code == "E502"
    two_types = [
        extract_features(make_document(k, rng)) for k in (DocType.INVOICE, DocType.OTHER, DocType.OTHER)
    ]
    with pytest.raises(TrainingDataError, match="at least 2 training examples"):
        BaselineClassifier().fit(two_types, [DocType.INVOICE, DocType.OTHER, DocType.OTHER])


def test_out_of_layout_probabilities_come_from_a_baseline_that_never_saw_the_layout() -> None:
    from classifiers.train import Example, out_of_layout_baseline

    docs = make_corpus(6, seed=4, layouts=range(0, 4))
    examples = [
        Example(extract_features(d), t, f"doc-{i}", f"L{layout}") for i, (d, t, layout) in enumerate(docs)
    ]
    proba = out_of_layout_baseline(examples, seed=0)
    assert proba is not None and proba.shape == (len(examples), len(LABELS))
    assert np.allclose(proba.sum(axis=1), 1.0)
    # Layout L2's rows are exactly what a baseline trained on the other three layouts says.
    held = [i for i, e in enumerate(examples) if e.group == "L2"]
    rest = [e for e in examples if e.group != "L2"]
    fold = BaselineClassifier(seed=0).fit([e.features for e in rest], [e.doc_type for e in rest])
    assert np.allclose(proba[held], fold.predict_proba([examples[i].features for i in held]))
    # Two layouts are too few to hold one out and still learn.
    assert out_of_layout_baseline([e for e in examples if e.group in ("L0", "L1")], seed=0) is None


def test_credit_evidence_is_a_block_of_its_own_in_both_forms(tmp_path: Path) -> None:
    """A negative total, refund wording and a reference to the corrected invoice reach the model as
    whole-block columns, and the compiled form reads them as scikit-learn does."""
    from classifiers.baseline import _named
    from classifiers.features import document_from_text

    credit = extract_features(
        document_from_text("Bos B.V. Nota de abono\nRectifica la factura FA-88\nTotal -119,00\nReembolso")
    )
    plain = extract_features(document_from_text("Factura FA-88\nTotal 119,00"))
    block = _named([credit, plain]).toarray()
    assert block[0, len(LABELS) :].tolist() == [1.0, 1.0, 1.0]
    assert block[1, len(LABELS) :].tolist() == [0.0, 0.0, 0.0]
    train, labels, _, _ = _split()
    model = BaselineClassifier(seed=0).fit(train, labels)
    model.save(tmp_path)
    compiled = BaselineClassifier.load_compiled(tmp_path)
    both = [credit, plain]
    assert np.allclose(compiled.predict_proba(both), model.predict_proba(both), atol=1e-6)
