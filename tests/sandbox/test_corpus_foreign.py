"""Invoices of another generator: the truth is what the page prints, and it adds up."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pdfplumber

from sandbox.corpus import foreign


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_every_truth_value_is_printed_and_the_amounts_add_up(tmp_path: Path) -> None:
    written = foreign.write(tmp_path, 6, seed=3)
    assert [p.name for p in written] == [f"fg-{k:03d}.pdf" for k in range(6)]
    for pdf in written:
        truth = json.loads(pdf.with_suffix(".json").read_text())
        fields = truth["fields"]
        with pdfplumber.open(pdf) as document:
            text = "\n".join(page.extract_text() or "" for page in document.pages)
        flat = re.sub(r"\s", "", text)
        for name in ("vendor_name", "invoice_number"):
            assert re.sub(r"\s", "", fields[name]) in flat, (pdf.name, name)
        assert fields["vendor_iban"] in flat, pdf.name
        # Amounts are printed in the currency's locale ("1 742,21 €", "$309.17"): compare digits.
        for name in ("subtotal", "total"):
            assert _digits(fields[name]) in _digits(text), (pdf.name, name)
        assert Decimal(fields["subtotal"]) + Decimal(fields["tax_amount"]) == Decimal(fields["total"])
        assert sum(Decimal(line["amount"]) for line in truth["lines"]) == Decimal(fields["subtotal"])
        assert truth["layout"] == "invoicegenerator" and truth["doc_type"] == "invoice"


def test_the_same_seed_writes_the_same_invoices(tmp_path: Path) -> None:
    a, b = foreign.write(tmp_path / "a", 2, seed=5), foreign.write(tmp_path / "b", 2, seed=5)
    assert [p.with_suffix(".json").read_text() for p in a] == [p.with_suffix(".json").read_text() for p in b]


def test_erechnung_invoices_carry_their_truth_in_their_own_e_invoice(tmp_path: Path) -> None:
    written = foreign.write(tmp_path, 8, seed=3, generator="erechnung")
    assert [p.name for p in written] == [f"din-{k:03d}.pdf" for k in range(8)]
    for pdf in written:
        truth = json.loads(pdf.with_suffix(".json").read_text())
        fields = truth["fields"]
        assert truth["layout"] == "erechnung" and truth["variant"] == "digital"
        assert truth["doc_type"] in ("invoice", "credit_note")
        with pdfplumber.open(pdf) as document:
            text = "\n".join(page.extract_text() or "" for page in document.pages)
        # DIN 5008: the vendor is printed in the return-address line and the footer only.
        assert fields["vendor_name"] in text, pdf.name
        assert fields["invoice_number"] in text, pdf.name
        for name in ("total", "tax_amount"):
            assert _digits(str(abs(Decimal(fields[name])))) in _digits(text), (pdf.name, name)
        assert Decimal(fields["subtotal"]) + Decimal(fields["tax_amount"]) == Decimal(fields["total"])


def test_the_same_seed_writes_the_same_erechnung_truth(tmp_path: Path) -> None:
    a = foreign.write(tmp_path / "a", 2, seed=5, generator="erechnung")
    b = foreign.write(tmp_path / "b", 2, seed=5, generator="erechnung")
    assert [p.with_suffix(".json").read_text() for p in a] == [p.with_suffix(".json").read_text() for p in b]


def test_scans_carry_the_documents_truth_and_no_text_layer(tmp_path: Path) -> None:
    written = foreign.write(tmp_path, 4, seed=3, scans=True)
    assert [p.name for p in written[::2]] == [f"fg-{k:03d}.pdf" for k in range(4)]
    for pdf, scan in zip(written[::2], written[1::2], strict=True):
        assert scan.stem == f"{pdf.stem}-scan" and scan.suffix in (".png", ".pdf")
        truth, scanned = (json.loads(p.with_suffix(".json").read_text()) for p in (pdf, scan))
        assert scanned.pop("variant") == ("scan_png" if scan.suffix == ".png" else "scan_pdf")
        truth.pop("variant")
        assert scanned == truth
        if scan.suffix == ".pdf":
            with pdfplumber.open(scan) as document:
                assert not any((page.extract_text() or "").strip() for page in document.pages)
        else:
            assert scan.read_bytes().startswith(b"\x89PNG")
