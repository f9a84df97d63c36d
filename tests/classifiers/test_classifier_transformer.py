"""The MiniLM classifier's parts that training and inference rely on, on the real shipped weights."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from classifier_corpus_gen import make_document

from classifiers.features import document_from_text, extract_features
from classifiers.transformer import TransformerClassifier, TransformerConfig, fit_temperature
from ledgerbot.core.domain import DocType


@pytest.fixture(scope="module")
def fresh() -> TransformerClassifier:
    return TransformerClassifier.from_pretrained_base(TransformerConfig(threads=1, max_length=64))


def test_padding_does_not_change_a_documents_logits(fresh: TransformerClassifier) -> None:
    short = extract_features(document_from_text("REMITTANCE ADVICE\nPaid"))
    long = extract_features(make_document(DocType.INVOICE, random.Random(3), layout=1))
    alone = fresh.logits([short])
    batched = fresh.logits([long, short])  # one batch: the short one is padded to the long one
    assert len(fresh._encode([short])[0]) < len(fresh._encode([long])[0])
    assert np.allclose(alone[0], batched[1], atol=1e-5)


def test_preamble_only_inputs_are_the_start_of_the_full_input(fresh: TransformerClassifier) -> None:
    rng = random.Random(5)
    features = [extract_features(make_document(t, rng, layout=2)) for t in DocType]
    full = fresh._encode(features)
    short = fresh._encode_preambles(features)
    for f, whole, preamble in zip(features, full, short, strict=True):
        assert f.for_transformer().startswith(f.preamble())
        assert len(preamble) < len(whole)
        # Same tokens up to the preamble's [SEP]: dropping the body drops nothing else.
        assert whole[: len(preamble) - 1] == preamble[:-1]
        assert preamble[-1] == fresh.tokenizer.sep_token_id


def test_temperature_never_sharpens_on_a_validation_split_without_mistakes() -> None:
    y = np.array([0, 1, 2, 3])
    logits = np.eye(7)[y] * 2.0  # right every time, with modest margins
    assert fit_temperature(logits, y) >= 1.0
    # One sure mistake among them: the fit softens the scores.
    wrong = logits.copy()
    wrong[3] = np.eye(7)[5] * 6.0
    assert fit_temperature(wrong, y) > 1.0
    # Right but timid, with one timid mistake: sharpening is allowed, and chosen.
    timid = np.eye(7)[np.array([0, 1, 2, 3, 4, 5, 6, 0])] * 0.5
    y_timid = np.array([0, 1, 2, 3, 4, 5, 6, 1])
    timid[7] = np.eye(7)[0] * 0.2
    assert fit_temperature(timid * 1.0, np.array([0, 1, 2, 3, 4, 5, 6, 0])) >= 1.0
    assert fit_temperature(timid, y_timid) < 1.0


def test_a_saved_model_keeps_only_what_fine_tuning_changed_and_loads_to_the_same_scores(
    fresh: TransformerClassifier, tmp_path: Path
) -> None:
    import torch

    from classifiers.minilm import ENCODER_DELTA, MeanPoolingClassifier, base_weights

    features = [extract_features(make_document(t, random.Random(7), layout=3)) for t in DocType]
    tuned = TransformerClassifier.from_pretrained_base(TransformerConfig(threads=1, max_length=64))
    top = tuned.model.encoder.encoder.layer[-1].output.dense
    with torch.no_grad():
        top.weight.add_(0.01 * torch.randn_like(top.weight))  # as a fine-tuned top layer differs
    tuned.save(tmp_path)
    saved = tmp_path / "model"
    assert not (saved / "model.safetensors").exists()
    # One changed tensor of 590k values (2.4 MB), not the 91 MB encoder.
    assert (saved / ENCODER_DELTA).stat().st_size < base_weights().stat().st_size / 30
    again = TransformerClassifier.load(tmp_path, threads=1)
    assert np.allclose(again.logits(features), tuned.logits(features), atol=1e-5)
    assert not np.allclose(again.logits(features), fresh.logits(features), atol=1e-3)

    # Against other base weights the delta would mean something else: refused.
    other = tmp_path / "other.safetensors"
    other.write_bytes(base_weights().read_bytes()[:-1] + b" ")
    with pytest.raises(ValueError, match="other MiniLM weights"):
        MeanPoolingClassifier.load(saved, len(features), base=other)
