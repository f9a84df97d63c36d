from __future__ import annotations

import random
from pathlib import Path

from classifier_corpus_gen import make_document

from classifiers.augment import NoiseLevel, ocr_noise
from classifiers.corpus import LabelledDoc
from classifiers.features import extract_features
from classifiers.train import Example, noisy_copier, with_noisy_copies
from ledgerbot.core.domain import DocType


def _doc(variant: str = "digital", split: str = "dev") -> LabelledDoc:
    return LabelledDoc(Path("x.pdf"), "ab" * 32, DocType.CREDIT_NOTE, split, variant, "L01")


def test_noise_misreads_words_and_marks_the_pages_as_scanned() -> None:
    document = make_document(DocType.CREDIT_NOTE, random.Random(3))
    noisy = ocr_noise(document, random.Random(0), NoiseLevel(confusion=0.5, drop_short=0.5))
    assert noisy.is_scanned and not document.is_scanned
    before, after = document.pages[0].text, noisy.pages[0].text
    assert before != after
    # Same page, same geometry: only what OCR reads changes.
    assert (noisy.pages[0].width, noisy.pages[0].height) == (
        document.pages[0].width,
        document.pages[0].height,
    )
    assert len(after.split()) <= len(before.split()) + 10


def test_noise_is_reproducible_from_the_seed() -> None:
    document = make_document(DocType.INVOICE, random.Random(5))
    first = ocr_noise(document, random.Random(42)).pages[0].text
    assert ocr_noise(document, random.Random(42)).pages[0].text == first
    assert ocr_noise(document, random.Random(43)).pages[0].text != first


def test_only_born_digital_dev_documents_get_a_noisy_copy() -> None:
    document = make_document(DocType.CREDIT_NOTE, random.Random(3))
    copy = noisy_copier(seed=0)
    made = copy(_doc(), document)
    assert made is not None and made.scanned
    assert copy(_doc(variant="scan_png"), document) is None
    assert copy(_doc(split="heldout"), document) is None


def test_noisy_copies_join_as_examples_of_the_same_type_and_layout() -> None:
    document = make_document(DocType.STATEMENT, random.Random(8))
    clean = extract_features(document)
    noisy = extract_features(ocr_noise(document, random.Random(1)))
    examples = [
        Example(clean, DocType.STATEMENT, "k1", "L02", noisy=noisy),
        Example(clean, DocType.STATEMENT, "k2", "L02"),
    ]
    out = with_noisy_copies(examples)
    assert len(out) == 3
    assert (out[2].features, out[2].doc_type, out[2].group, out[2].variant) == (
        noisy,
        DocType.STATEMENT,
        "L02",
        "ocr_noise",
    )
    assert out[2].key == "k1:ocr_noise"
