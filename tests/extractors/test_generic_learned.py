"""The generic extractor's learned parts: settings, phrase vectors, context, calibration, SROIE reading."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from extractors.generic.candidates import Candidate
from extractors.generic.datasets import sroie_document, sroie_receipts, sroie_truth
from extractors.generic.embeddings import PhraseEmbedder
from extractors.generic.extractor import GenericExtractor
from extractors.generic.learned import (
    Calibration,
    Featurizer,
    calibration_key,
    expected_calibration_error,
    feature_names,
    reading_kind,
)
from extractors.generic.settings import DEFAULT, GenericSettings
from extractors.generic.training import SHIPPED_TABLES
from extractors.realworld import realworld_split
from textlayer.model import Document, Line, Page, Word


def test_settings_are_frozen_and_validated() -> None:
    with pytest.raises(ValidationError):
        GenericSettings(cent=Decimal("-0.01"))
    with pytest.raises(ValidationError):
        GenericSettings(abstain_below=1.5)
    with pytest.raises(ValidationError):
        DEFAULT.cent = Decimal("1")  # type: ignore[misc]
    changed = DEFAULT.model_copy(update={"boosting_rounds": 40})
    assert changed.boosting_rounds == 40 and DEFAULT.boosting_rounds != 40


def test_calibration_maps_a_confidence_to_how_often_it_was_right() -> None:
    # Reported at 0.9 but right 6 times in 10; reported at 0.5 and right 9 times in 10.
    obs = [(0.9, i < 6) for i in range(10)] + [(0.5, i < 9) for i in range(10)]
    assert expected_calibration_error(obs, bins=10) == pytest.approx((10 * 0.3 + 10 * 0.4) / 20)
    calibration = Calibration.fit({"total": obs})
    # Isotonic: confidence may not fall as the raw score rises, so both pool to 15 in 20.
    assert calibration("total", 0.9) == pytest.approx(0.75)
    assert calibration("total", 0.5) == pytest.approx(0.75)
    assert calibration("vendor_name", 0.42) == 0.42  # a field without data keeps its raw confidence
    again = Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again("total", 0.7) == calibration("total", 0.7)
    assert expected_calibration_error([]) is None


def test_a_field_read_through_ocr_has_its_own_calibration_when_one_was_fitted() -> None:
    # Names from a text layer right 9 in 10 at 0.9; through OCR right 5 in 10 at the same score.
    digital = [(0.9, i < 9) for i in range(10)]
    ocr = [(0.9, i < 5) for i in range(10)]
    calibration = Calibration.fit({"vendor_name": digital + ocr, calibration_key("vendor_name", "ocr"): ocr})
    assert calibration("vendor_name", 0.9, "ocr") == pytest.approx(0.5)
    assert calibration("vendor_name", 0.9) == pytest.approx(0.7)
    # A kind without a map of its own falls back to the field's.
    assert calibration("vendor_name", 0.9, "digital") == pytest.approx(0.7)
    again = Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again("vendor_name", 0.9, "ocr") == calibration("vendor_name", 0.9, "ocr")
    scanned = Document([Page(1, 600.0, 800.0, [], source="ocr"), Page(2, 600.0, 800.0, [])])
    assert reading_kind(scanned) == "ocr"
    assert reading_kind(Document([Page(1, 600.0, 800.0, [])])) == "digital"


def _embedder() -> PhraseEmbedder:
    table = next(SHIPPED_TABLES.glob("minilm-pieces-*-64.npy"))
    return PhraseEmbedder(np.load(table))


def test_phrase_vectors_from_the_shipped_minilm_table() -> None:
    embedder = _embedder()
    v = embedder.embed("Invoice No.")
    assert v.shape == (64,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-3
    assert embedder.embed("Invoice No.") is v  # cached per distinct string
    assert not embedder.embed("   ").any()
    # Label phrases of one meaning lie closer than phrases of different meanings.
    assert embedder.similarity("Invoice No.", "invoice number") > embedder.similarity("Invoice No.", "IBAN")
    assert embedder.similarity("Grand Total", "total amount") > embedder.similarity("Grand Total", "due date")


def test_the_word_piece_tokenizer_is_the_one_minilm_ships() -> None:
    """Built from the vocabulary, the tokenizer splits text as the package's tokenizer.json does,
    accents, case, marks and compounds included (the distilled table is indexed by its ids)."""
    from tokenizers import Tokenizer

    from extractors.generic.embeddings import _tokenizer, minilm_path

    shipped = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    ours = _tokenizer(str(minilm_path()))
    for text in (
        "Rechnungs-Nr.: RE-2024/0815",
        "N° de facture",
        "Größe Straße ÉLÉMENT façade naïve",
        "Total TTC 1 234,56 €",
        "Ｆｕｌｌｗｉｄｔｈ\u00a0text\u200b",
        "Fälligkeitsdatum",
    ):
        expected = shipped.encode(text, add_special_tokens=False).ids
        assert ours.encode(text, add_special_tokens=False).ids == [i for i in expected if i != 0]


def _page(rows: list[list[tuple[str, float, float, float]]]) -> Document:
    lines = [
        Line([Word(text, (x, top, x + w, top + 10), size=10.0) for text, x, top, w in row]) for row in rows
    ]
    return Document([Page(1, 600.0, 800.0, lines)])


def test_each_candidate_knows_the_words_beside_and_over_it() -> None:
    document = _page(
        [
            [("Invoice", 50, 50, 40), ("No.", 95, 50, 20)],
            [("INV-0042", 50, 64, 60)],
            [("Total", 300, 400, 40), ("119,00", 400, 400, 40)],
        ]
    )
    reading = GenericExtractor().read_unscored(document)
    number = next(c for c in reading.candidates["invoice_number"] if c.value == "INV-0042")
    assert number.neighbourhood.above == "Invoice No."
    total = next(c for c in reading.candidates["total"] if c.value == Decimal("119.00"))
    assert total.neighbourhood.left == "Total" and total.features["largest_amount"] == 1.0
    matrix = Featurizer(_embedder()).matrix([number, total])
    assert matrix.shape == (2, len(feature_names())) and np.isfinite(matrix).all()


def test_sroie_receipts_read_from_their_ground_truth_lines(tmp_path: Path) -> None:
    stems = [f"{i:03d}" for i in range(12)]
    for stem in stems:
        (tmp_path / f"{stem}.json").write_text(
            json.dumps({"company": "KEDAI MAKAN SDN BHD", "date": "25/12/2018", "address": "X", "total": "9"})
        )
        (tmp_path / f"{stem}.boxes.csv").write_text(
            "72,25,326,25,326,64,72,64,KEDAI MAKAN SDN BHD\n50,300,200,300,200,320,50,320,TOTAL: 9.00\n"
        )
    truth = sroie_truth(tmp_path / "000.json")
    assert truth == {"vendor_name": "KEDAI MAKAN SDN BHD", "invoice_date": "2018-12-25", "total": "9"}
    document = sroie_document(tmp_path / "000.boxes.csv", 400.0, 600.0)
    (page,) = document.pages
    assert [line.text for line in page.lines] == ["KEDAI MAKAN SDN BHD", "TOTAL: 9.00"]
    assert page.lines[0].words[0].bbox[0] == 72.0 and page.lines[0].words[-1].bbox[2] <= 326.0
    dev = [d.group for d in sroie_receipts(tmp_path, "dev")]
    val = [d.group for d in sroie_receipts(tmp_path, "val")]
    # Each receipt is in exactly the part the one split gives it, never in both.
    assert sorted(dev + val) == sorted(f"sroie:{s}" for s in stems)
    assert all(realworld_split(g.split(":")[1]) == "dev" for g in dev)
    assert {d.known for d in sroie_receipts(tmp_path, "dev")} <= {
        frozenset({"vendor_name", "invoice_date", "total"})
    }


def test_candidate_without_context_still_gets_features() -> None:
    lone = Candidate("currency", "EUR", "EUR", 1, (0.0, 0.0, 1.0, 1.0), "pattern")
    row = Featurizer(_embedder()).matrix([lone])[0]
    assert np.isfinite(row).all() and row.any()
