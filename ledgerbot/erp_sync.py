"""Pulling vendors, purchase orders and goods receipts from the ERP into the store, incrementally.

List screens are cheap, detail screens are not: a detail is read only for what the store does
not know yet, or whose list row shows a change (status, goods-receipt state). Receipts never
change once booked, so a known receipt is never read again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.masterdata import (
    UpsertCounts,
    upsert_purchase_orders,
    upsert_receipts,
    upsert_vendors,
)
from ledgerbot.core.store.models import GoodsReceiptRow, PurchaseOrderRow, VendorRow
from ledgerbot.core.target import MasterDataSource


@dataclass
class SyncReport:
    vendors: UpsertCounts = field(default_factory=UpsertCounts)
    orders: UpsertCounts = field(default_factory=UpsertCounts)
    receipts: UpsertCounts = field(default_factory=UpsertCounts)
    detail_pages_read: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "vendors": asdict(self.vendors),
            "purchase_orders": asdict(self.orders),
            "goods_receipts": asdict(self.receipts),
            "detail_pages_read": self.detail_pages_read,
        }


def pull_master_data(
    store: Store,
    source: MasterDataSource,
    *,
    full: bool = False,
    progress: Callable[[Any], Any] = lambda items: items,
) -> SyncReport:
    """Bring the store's master data up to date with ``source``; ``full`` re-reads every detail."""
    report = SyncReport()
    with store.session() as session:
        known_vendors = set(session.scalars(select(VendorRow.vendor_id)))
        known_orders = {po.po_number: po.status for po in session.scalars(select(PurchaseOrderRow))}
        known_receipts = set(session.scalars(select(GoodsReceiptRow.receipt_number)))

    vendor_ids = [v for v in source.vendor_ids() if full or v not in known_vendors]
    vendors = []
    for vendor_id in progress(vendor_ids):
        vendors.append(source.vendor(vendor_id))
        report.detail_pages_read += 1
    with store.session() as session:
        report.vendors = upsert_vendors(session, vendors)

    wanted_orders = [
        row["po_number"]
        for row in source.order_summaries()
        if full or row["po_number"] not in known_orders or row.get("status") != known_orders[row["po_number"]]
    ]
    # Orders are written in chunks so an interrupted pull keeps what it already read.
    for start in range(0, len(wanted_orders), 50):
        chunk = [source.order(po) for po in progress(wanted_orders[start : start + 50])]
        report.detail_pages_read += len(chunk)
        with store.session() as session:
            counts = upsert_purchase_orders(session, chunk)
        for name in ("created", "updated", "unchanged"):
            setattr(report.orders, name, getattr(report.orders, name) + getattr(counts, name))

    wanted_receipts = [
        row["receipt_number"]
        for row in source.receipt_summaries()
        if full or row["receipt_number"] not in known_receipts
    ]
    for start in range(0, len(wanted_receipts), 50):
        receipts = [source.receipt(number) for number in progress(wanted_receipts[start : start + 50])]
        report.detail_pages_read += len(receipts)
        with store.session() as session:
            counts = upsert_receipts(session, receipts)
        for name in ("created", "updated", "unchanged"):
            setattr(report.receipts, name, getattr(report.receipts, name) + getattr(counts, name))
    return report
