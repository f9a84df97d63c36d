"""``ledgerbot eval``: calibration (ECE, reliability table) and receipt key files as truth.

The receipts here are made up in the test: invented shops, dates and totals.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors.evaluation import (
    Calibration,
    Evaluation,
    contract_truth,
    expected_calibration_error,
    is_receipt_key,
    receipt_amount,
    receipt_date,
    receipt_truth,
)
from extractors.realworld import realworld_split
from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.domain import ExtractionResult, InvoiceFields


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    pairs = [(0.85, True)] * 17 + [(0.85, False)] * 3  # bin 0.8-0.9: 0.85 said, 0.85 right
    assert expected_calibration_error(pairs) == pytest.approx(0.0)


def test_ece_weights_each_bin_by_its_share() -> None:
    # Bin 0.9-1.0: said 0.95, right 1 of 2 -> gap 0.45, weight 2/4.
    # Bin 0.2-0.3: said 0.25, right 2 of 2 -> gap 0.75, weight 2/4.
    pairs = [(0.95, True), (0.95, False), (0.25, True), (0.25, True)]
    assert expected_calibration_error(pairs) == pytest.approx(0.5 * 0.45 + 0.5 * 0.75)
    assert expected_calibration_error([(1.0, False)]) == pytest.approx(1.0)  # 1.0 is in the last bin
    assert expected_calibration_error([(0.0, True)]) == pytest.approx(1.0)
    assert expected_calibration_error([]) is None


def test_reliability_table_and_ece_per_field() -> None:
    calibration = Calibration()
    for correct in (True, True, True, False):
        calibration.add("total", 0.75, correct)  # right 3 of 4 at 0.75: calibrated
    calibration.add("invoice_date", 0.9, False)  # confidently wrong
    calibration.add("vendor_name", None, True)
    summary = calibration.summary()
    assert summary["ece_by_field"] == {"invoice_date": pytest.approx(0.9), "total": pytest.approx(0.0)}
    assert summary["ece"] == pytest.approx(0.9 / 5)
    assert summary["without_confidence"] == {"vendor_name": 1}
    rows = {(row["low"], row["high"]): row for row in summary["reliability"]}
    assert len(rows) == 10
    assert rows[(0.7, 0.8)]["count"] == 4 and rows[(0.7, 0.8)]["accuracy"] == 0.75
    assert rows[(0.9, 1.0)]["count"] == 1 and rows[(0.9, 1.0)]["accuracy"] == 0.0
    assert rows[(0.0, 0.1)]["count"] == 0 and rows[(0.0, 0.1)]["accuracy"] is None


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("23/04/2025", date(2025, 4, 23)),
        ("23-04-25", date(2025, 4, 23)),
        ("3/4/2025", date(2025, 4, 3)),  # day first
        ("04/23/2025", date(2025, 4, 23)),  # no month 23: read month first
        ("2025-04-23", date(2025, 4, 23)),
        ("23 Apr 25", date(2025, 4, 23)),
        ("APR 23, 2025", date(2025, 4, 23)),
        ("20250423", date(2025, 4, 23)),
        ("23042025", date(2025, 4, 23)),
        ("31/02/2025", None),
        ("soon", None),
    ],
)
def test_receipt_dates(printed: str, expected: date | None) -> None:
    assert receipt_date(printed) == expected


def test_receipt_amounts() -> None:
    assert str(receipt_amount("RM 18.40")) == "18.40"
    assert str(receipt_amount("1,234.50")) == "1234.50"
    assert str(receipt_amount("7,90")) == "7.90"
    assert receipt_amount("n/a") is None


def test_a_key_file_becomes_a_truth_scored_on_what_it_labels() -> None:
    key = {
        "company": "PEKAN LIMA TRADING SDN BHD",
        "date": "23/04/2025",
        "address": "1 Jalan",
        "total": "RM18.40",
    }
    assert is_receipt_key(key) and not is_receipt_key({"doc_type": "invoice", "fields": {}})
    truth = receipt_truth(key)
    assert truth["doc_type"] == "invoice"
    assert truth["fields"] == {
        "vendor_name": "PEKAN LIMA TRADING SDN BHD",
        "invoice_date": "2025-04-23",
        "total": "18.40",
    }
    assert truth["scored"] == ["vendor_name", "invoice_date", "total"]
    assert receipt_truth({"company": "X", "date": "unreadable"})["scored"] == ["vendor_name"]
    contract = {"doc_type": "invoice", "fields": {"total": "1.00"}}
    assert contract_truth(contract) is contract


def _result(**fields: str | None) -> ExtractionResult:
    return ExtractionResult(
        source="r.jpg",
        doc_type="invoice",
        fields=InvoiceFields(**fields),  # type: ignore[arg-type]
        field_confidence={name: 0.8 for name, value in fields.items() if value is not None},
    )


def test_receipts_score_only_labelled_fields_with_a_fuzzy_vendor() -> None:
    truth = receipt_truth({"company": "PEKAN LIMA TRADING SDN BHD", "date": "23/04/2025", "total": "18.40"})
    evaluation = Evaluation()
    # OCR slips in the printed name still name the company; the legal form may be missing.
    evaluation.add(
        truth,
        _result(
            vendor_name="PEKAN LIMA TRAD1NG", invoice_date="2025-04-23", total="18.4", invoice_number="77"
        ),
    )
    evaluation.add(truth, _result(vendor_name="Harbour Cafe", invoice_date="2025-04-22", total="18.40"))
    report = evaluation.report(pages=2, seconds=1.0)
    assert report["field_accuracy"] == {"vendor_name": 0.5, "invoice_date": 0.5, "total": 1.0}
    assert report["header_field_accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert report["lines"]["truth"] == 0 and report["lines"]["predicted"] == 0
    assert report["calibration"]["values"] == 6  # the unlabelled invoice_number is not scored
    assert report["calibration"]["ece_by_field"]["total"] == pytest.approx(0.2)


@pytest.mark.slow
def test_eval_reads_a_receipt_folder_by_split(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    stems = [f"{n:03d}" for n in range(12)]
    by_split = {s: [stem for stem in stems if realworld_split(stem) == s] for s in ("dev", "val")}
    assert by_split["dev"] and by_split["val"]
    for index, stem in enumerate(stems[:3] + by_split["val"][:1]):
        image = Image.new("L", (600, 500), 255)
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=28)
        draw.text((20, 20), f"SHOP NUMBER {index}", fill=0, font=font)
        draw.text((20, 80), "23/04/2025", fill=0, font=font)
        draw.text((20, 140), "TOTAL 12.30", fill=0, font=font)
        image.save(tmp_path / f"{stem}.jpg")
        (tmp_path / f"{stem}.boxes.csv").write_text("20,20,200,20,200,40,20,40,SHOP\n", encoding="utf-8")
        key = {"company": f"SHOP NUMBER {index}", "date": "23/04/2025", "total": "12.30"}
        (tmp_path / f"{stem}.json").write_text(json.dumps(key), encoding="utf-8")
    present = {p.stem for p in tmp_path.glob("*.jpg")}
    _load_commands()
    runner = CliRunner()
    for split in ("dev", "val"):
        result = runner.invoke(app, ["eval", str(tmp_path), "--split", split])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["documents"] == len([s for s in present if realworld_split(s) == split])
        assert set(report["field_accuracy"]) == {"vendor_name", "invoice_date", "total"}
        assert len(report["calibration"]["reliability"]) == 10
        assert "calibration: " in result.stderr
