"""The demo's Tryton target (``make demo TARGET=tryton``): the batch's orders, a served and seeded
Tryton the robots reach through the settings it hands them, its books checked, the server stopped."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.tryton.client import TrytonErp
from sandbox import demo
from sandbox.demo import Delivery, batch_orders, tryton_target
from tests.support import MASTER
from tests.tryton.conftest import SEEDED_ORDERS

pytestmark = [pytest.mark.slow]


def test_the_batch_orders_are_those_its_documents_name_printed_or_misprinted(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"master_seed": None}))
    first, second, third = (po.po_number for po in MASTER.purchase_orders[3:6])
    deliveries = [
        Delivery(tmp_path / "a.pdf", {"fields": {"po_number": first}}),
        # A mismatch misprints the order number: the real one is seeded, the misprint is not.
        Delivery(
            tmp_path / "b.pdf",
            {"fields": {"po_number": "PO-MISPRINT"}, "mismatches": [{"detail": {"real_po": third}}]},
        ),
        Delivery(tmp_path / "c.pdf", {"fields": {}}),
    ]

    master, orders = batch_orders(tmp_path, deliveries)

    assert [po.po_number for po in master.purchase_orders] == [po.po_number for po in MASTER.purchase_orders]
    assert orders == [first, third]
    assert second not in orders


def test_the_demo_serves_tryton_to_the_robots_checks_its_books_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tryton_template: Path
) -> None:
    # The test run's seeded orders stand in for a generated batch's: the template is built once.
    monkeypatch.setattr(demo, "batch_orders", lambda corpus, deliveries: (MASTER, SEEDED_ORDERS))

    with tryton_target(tmp_path, tmp_path, []) as target:
        env = target.env
        assert target.name == "tryton" and env["LEDGERBOT_TARGET"] == "tryton"
        assert env["LEDGERBOT_ERP_MODE"] == "ui"
        assert target.url.startswith(env["LEDGERBOT_ERP_URL"])
        # The robots' settings reach the seeded database as the robot's account.
        with TrytonErp(
            env["LEDGERBOT_ERP_URL"],
            env["LEDGERBOT_ERP_DATABASE"],
            env["LEDGERBOT_ERP_USER"],
            env["LEDGERBOT_ERP_PASSWORD"],
            mode="rpc",
        ) as erp:
            assert {row["po_number"] for row in erp.order_summaries()} == set(SEEDED_ORDERS)
        books = target.books()
        assert books["erp_posted_invoices"] == 0 and books["erp_agrees_with_store"] is True
        assert books["erp_double_postings"] == 0 and books["erp_drafts_waiting"] == 0

    with pytest.raises(httpx.HTTPError):
        httpx.post(
            f"{env['LEDGERBOT_ERP_URL']}/rpc/",
            json={"method": "common.server.version", "params": []},
            timeout=2,
        )
