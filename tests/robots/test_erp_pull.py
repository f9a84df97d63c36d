"""The legacy-UI robot pulls master data through the sandbox ERP's screens, incrementally."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.sandbox_erp.client import SandboxErp
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import GoodsReceiptRow, PurchaseOrderRow, VendorRow
from ledgerbot.erp_sync import pull_master_data
from sandbox.erp.db import ErpDatabase
from sandbox.erp.server import serve_in_thread
from tests.support import MASTER

pytestmark = [pytest.mark.heavy, pytest.mark.slow, pytest.mark.browser]


def test_pull_survives_pagination_expiry_and_slow_pages_then_reads_only_changes(tmp_path: Path) -> None:
    target = next(p for p in MASTER.purchase_orders if p.status == "open")
    erp_db = tmp_path / "erp.db"
    ErpDatabase(erp_db).initialise()
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    # Sessions expire after 2 s without a request and every 40th list page is slow.
    with (
        serve_in_thread(erp_db, session_ttl=2, slow_every=40, slow_seconds=2.5) as url,
        SandboxErp(url, "ap-robot", "robot-pass-1") as erp,
    ):
        first = pull_master_data(store, erp).summary()
        logins_before = erp.logins
        time.sleep(2.5)  # the session runs out between two pulls
        # The ERP closes one order while the robot is away.
        with sqlite3.connect(erp_db) as conn:
            conn.execute(
                "UPDATE purchase_orders SET status = 'closed' WHERE po_number = ?", (target.po_number,)
            )
        second = pull_master_data(store, erp).summary()
        assert erp.logins > logins_before
    assert first["vendors"]["created"] == len(MASTER.vendors)
    assert first["purchase_orders"]["created"] == len(MASTER.purchase_orders)
    assert first["goods_receipts"]["created"] == len(MASTER.receipts)
    assert second["detail_pages_read"] == 1
    assert second["purchase_orders"] == {"created": 0, "updated": 1, "unchanged": 0}
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(VendorRow)) == len(MASTER.vendors)
        assert s.scalar(select(func.count()).select_from(GoodsReceiptRow)) == len(MASTER.receipts)
        po = s.get(PurchaseOrderRow, target.po_number)
        assert po is not None and po.status == "closed"
        assert [(ln.sku, ln.quantity, ln.unit_price) for ln in po.lines] == [
            (ln.sku, ln.quantity, ln.unit_price) for ln in target.lines
        ]
        receipt = s.get(GoodsReceiptRow, MASTER.receipts[0].receipt_number)
        assert receipt is not None
        assert [(ln.po_line_no, ln.quantity) for ln in receipt.lines] == [
            (ln.po_line_no, ln.quantity) for ln in MASTER.receipts[0].lines
        ]
