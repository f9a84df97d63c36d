"""Upserting vendors, purchase orders and goods receipts into the store, whatever their source.

The legacy-UI robot, a file import and the tests all hand over domain models; this module turns
them into rows, changing only what changed (so an incremental pull is cheap and auditable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledgerbot.core.domain import GoodsReceipt, PurchaseOrder, Vendor
from ledgerbot.core.store.models import (
    GoodsReceiptRow,
    POLineRow,
    PurchaseOrderRow,
    ReceiptLineRow,
    VendorRow,
)


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _vendor_values(vendor: Vendor) -> dict[str, object]:
    return {
        "name": vendor.name,
        "tax_id": vendor.tax_id,
        "iban": vendor.iban,
        "bic": vendor.bic,
        "currency": vendor.currency,
        "address": vendor.address.model_dump() if vendor.address else None,
    }


def upsert_vendors(session: Session, vendors: Iterable[Vendor]) -> UpsertCounts:
    counts = UpsertCounts()
    for vendor in vendors:
        values = _vendor_values(vendor)
        row = session.get(VendorRow, vendor.vendor_id)
        if row is None:
            session.add(VendorRow(vendor_id=vendor.vendor_id, **values))
            counts.add("created")
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            counts.add("updated")
        else:
            counts.add("unchanged")
    session.flush()
    return counts


def upsert_purchase_orders(session: Session, orders: Iterable[PurchaseOrder]) -> UpsertCounts:
    counts = UpsertCounts()
    for order in orders:
        header = {
            "vendor_id": order.vendor_id,
            "currency": order.currency,
            "status": order.status,
            "order_date": order.order_date,
            "company": order.company,
        }
        lines = [(ln.line_no, ln.sku, ln.description, ln.quantity, ln.unit_price) for ln in order.lines]
        row = session.get(PurchaseOrderRow, order.po_number)
        if row is None:
            row = PurchaseOrderRow(po_number=order.po_number, **header)
            session.add(row)
            counts.add("created")
        else:
            stored = [(ln.line_no, ln.sku, ln.description, ln.quantity, ln.unit_price) for ln in row.lines]
            if stored == lines and all(getattr(row, k) == v for k, v in header.items()):
                counts.add("unchanged")
                continue
            for key, value in header.items():
                setattr(row, key, value)
            counts.add("updated")
        row.lines = [
            POLineRow(line_no=n, sku=sku, description=desc, quantity=qty, unit_price=price)
            for n, sku, desc, qty, price in lines
        ]
    session.flush()
    return counts


def upsert_receipts(session: Session, receipts: Iterable[GoodsReceipt]) -> UpsertCounts:
    counts = UpsertCounts()
    for receipt in receipts:
        lines = [(ln.po_line_no, ln.quantity) for ln in receipt.lines]
        row = session.get(GoodsReceiptRow, receipt.receipt_number)
        if row is None:
            row = GoodsReceiptRow(
                receipt_number=receipt.receipt_number, po_number=receipt.po_number, date=receipt.date
            )
            session.add(row)
            counts.add("created")
        elif [(ln.po_line_no, ln.quantity) for ln in row.lines] == lines and (
            row.po_number,
            row.date,
        ) == (receipt.po_number, receipt.date):
            counts.add("unchanged")
            continue
        else:
            row.po_number, row.date = receipt.po_number, receipt.date
            counts.add("updated")
        row.lines = [ReceiptLineRow(po_line_no=n, quantity=q) for n, q in lines]
    session.flush()
    return counts
