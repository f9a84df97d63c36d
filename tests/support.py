"""Builders shared by tests: clean invoices against the sandbox master data, documents in a state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState, DocType, ExtractionResult, InvoiceFields, InvoiceLine
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.masterdata import upsert_purchase_orders, upsert_receipts, upsert_vendors
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from ledgerbot.intake import receive
from sandbox.masterdata import MasterData, generate_master_data, received_quantities

MASTER = generate_master_data()
TAX = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "NL": Decimal("0.21"), "GB": Decimal("0.20")}


def clean_invoices(master: MasterData = MASTER, limit: Decimal = Decimal(8000)) -> Iterator[ExtractionResult]:
    """Invoices billing exactly what was received on an open PO, at PO prices, below ``limit``."""
    for po in master.purchase_orders:
        received = received_quantities(master, po.po_number)
        if po.status != "open" or not received:
            continue
        vendor = master.vendor(po.vendor_id)
        lines = [
            InvoiceLine(
                description=ln.description,
                sku=ln.sku,
                quantity=received[ln.line_no],
                unit_price=ln.unit_price,
                amount=received[ln.line_no] * ln.unit_price,
            )
            for ln in po.lines
            if received.get(ln.line_no)
        ]
        subtotal = sum((ln.amount or Decimal(0) for ln in lines), Decimal(0))
        if subtotal >= limit:
            continue
        country = vendor.address.country if vendor.address else ""
        tax = (subtotal * TAX.get(country or "", Decimal(0))).quantize(Decimal("0.01"))
        yield ExtractionResult(
            source=po.po_number,
            doc_type=DocType.INVOICE,
            doc_type_confidence=0.99,
            method="template:test",
            fields=InvoiceFields(
                vendor_name=vendor.name,
                vendor_tax_id=vendor.tax_id,
                vendor_iban=vendor.iban,
                invoice_number=f"INV-{po.po_number}",
                invoice_date=date(2026, 10, 30),
                due_date=date(2026, 11, 29),
                po_number=po.po_number,
                currency=po.currency,
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            ),
            field_confidence={"total": 0.99},
            lines=lines,
            lineage={"text_layer": "pdfplumber@0.11", "classifier": "cascade@v1", "template": "tpl-test@2"},
        )


def seed_master_data(store: Store, master: MasterData = MASTER) -> None:
    with store.session() as s:
        upsert_vendors(s, master.vendors)
        upsert_purchase_orders(s, master.purchase_orders)
        upsert_receipts(s, master.receipts)


APPROVAL_PATH = [
    DocState.PARSED,
    DocState.CLASSIFIED,
    DocState.EXTRACTED,
    DocState.VALIDATED,
    DocState.MATCHED,
    DocState.APPROVED,
]


def approved_document(store: Store, files: FileStore, result: ExtractionResult, vendor_id: str) -> int:
    """A received document carried to ``approved`` with ``result`` as its extraction."""
    actor = Actor("test-setup")
    with store.session() as s:
        doc = receive(
            s, files, b"%PDF-1.4\n% " + result.source.encode(), filename=f"{result.source}.pdf", source="test"
        )
        doc.doc_type, doc.vendor_id = (result.doc_type or DocType.INVOICE).value, vendor_id
        s.add(ExtractionRow(document_id=doc.id, method=result.method, result=result.model_dump(mode="json")))
        for state in APPROVAL_PATH:
            transition(s, doc, state, actor=actor, stage="setup")
        return doc.id


def vendor_of(result: ExtractionResult, master: MasterData = MASTER) -> str:
    po = next(p for p in master.purchase_orders if p.po_number == result.fields.po_number)
    return po.vendor_id


def state_of(store: Store, doc_id: int) -> str:
    with store.session() as s:
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None
        return doc.state


def drift_document(
    session: Session, sha256: str, received_at: datetime, confidence: float | None, vendor_id: str | None
) -> DocumentRow:
    """A validated document received at ``received_at`` with its type's confidence and vendor."""
    document = DocumentRow(
        sha256=sha256,
        source="t",
        filename=f"{sha256[:8]}.pdf",
        mime="application/pdf",
        size=1,
        state="validated",
        doc_type_confidence=confidence,
        vendor_id=vendor_id,
        received_at=received_at,
    )
    session.add(document)
    session.flush()
    return document


def pipeline_read(session: Session, document: DocumentRow, method: str, confidence: dict[str, float]) -> None:
    """The pipeline's read of ``document`` by ``method`` with these field confidences."""
    from ledgerbot.processing import PIPELINE

    result = {"method": method, "field_confidence": confidence}
    session.add(ExtractionRow(document_id=document.id, method=method, result=result, created_by=PIPELINE))
