"""Turns the corpus truth into self-contained match cases (docs/contracts/matching.md).

Each invoice and credit note becomes one case: the document as extraction would report it
(from the truth, with full confidence), the whole vendor master, the vendor's orders and their
receipts, the vendor's earlier accepted documents as history, and the corpus's fixed ``today``.
A clean case must come out ``matched`` and a case with an injected mismatch must not, which is
what the rules engine proves with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sandbox.corpus.planner import EINVOICE_VARIANTS, PAYABLE
from sandbox.masterdata import DEFAULT_SEED, MasterData, generate_master_data


def _extraction(source: str, truth: dict[str, Any]) -> dict[str, Any]:
    """The truth in the shape of one ``ledgerbot extract`` line."""
    return {
        "source": source,
        "doc_type": truth["doc_type"],
        "doc_type_confidence": 1.0,
        "method": "einvoice" if truth["variant"] in EINVOICE_VARIANTS else None,
        "fields": truth["fields"],
        "field_confidence": {},
        "field_boxes": {},
        "lines": truth["lines"],
        "errors": [],
    }


def _load(corpus_dir: Path) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    documents = []
    for name in manifest["files"]:
        stem = Path(name).stem
        truth = json.loads((corpus_dir / f"{stem}.json").read_text(encoding="utf-8"))
        documents.append((stem, name, truth))
    return manifest, documents


def build_cases(corpus_dir: Path, master: MasterData | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields ``(stem, case)`` for every invoice and credit note of the corpus, in file order."""
    corpus_dir = Path(corpus_dir)
    manifest, documents = _load(corpus_dir)
    if master is None:
        master = generate_master_data(manifest.get("master_seed") or DEFAULT_SEED)
    vendors = [
        {"vendor_id": v.vendor_id, "name": v.name, "tax_id": v.tax_id, "iban": v.iban, "currency": v.currency}
        for v in master.vendors
    ]
    # What AP has already accepted: issued originals (not scan/e-invoice twins of them) without
    # any injected mismatch, which a clerk would have rejected.
    accepted = sorted(
        (
            (truth["sequence"], stem, truth)
            for stem, _, truth in documents
            if truth["doc_type"] in PAYABLE and not truth["mismatches"] and truth["source_stem"] is None
        ),
        key=lambda item: (item[0], item[1]),
    )
    for stem, name, truth in documents:
        if truth["doc_type"] not in PAYABLE:
            continue
        vendor_id = truth["vendor_id"]
        orders = master.orders_for(vendor_id)
        po_numbers = {po.po_number for po in orders}
        history = [
            {
                "status": "posted",
                "doc_type": earlier["doc_type"],
                "fields": earlier["fields"],
                "lines": earlier["lines"],
            }
            for sequence, _, earlier in accepted
            if earlier["vendor_id"] == vendor_id and sequence < truth["sequence"]
        ]
        yield (
            stem,
            {
                "invoice": _extraction(name, truth),
                "vendors": vendors,
                "purchase_orders": [
                    {
                        "po_number": po.po_number,
                        "vendor_id": po.vendor_id,
                        "currency": po.currency,
                        "status": po.status,
                        "lines": [
                            {
                                "line_no": line.line_no,
                                "sku": line.sku,
                                "description": line.description,
                                "quantity": format(line.quantity, "f"),
                                "unit_price": format(line.unit_price, "f"),
                            }
                            for line in po.lines
                        ],
                    }
                    for po in orders
                ],
                "receipts": [
                    {
                        "receipt_number": gr.receipt_number,
                        "po_number": gr.po_number,
                        "date": gr.date.isoformat(),
                        "lines": [
                            {"po_line_no": line.po_line_no, "quantity": format(line.quantity, "f")}
                            for line in gr.lines
                        ],
                    }
                    for gr in master.receipts
                    if gr.po_number in po_numbers
                ],
                "history": history,
                "today": manifest["today"],
            },
        )


def write_cases(corpus_dir: Path, master: MasterData | None = None) -> int:
    """Writes every case to ``corpus_dir/cases/<stem>.json``; returns how many."""
    target = Path(corpus_dir) / "cases"
    target.mkdir(exist_ok=True)
    count = 0
    for stem, case in build_cases(corpus_dir, master):
        (target / f"{stem}.json").write_text(
            json.dumps(case, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        count += 1
    return count
