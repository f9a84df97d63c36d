"""The sandbox ERP's login, session expiry, list and detail screens, at HTTP level."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.erp.auth import SESSION_COOKIE
from sandbox.erp.db import ErpDatabase
from sandbox.masterdata import DEFAULT_SEED, generate_master_data, received_quantities
from tests.sandbox.erp_support import ErpClock, by_id, cell, data_rows, row_keys, screen_number, tree

MASTER = generate_master_data(DEFAULT_SEED)


def _login(client: TestClient, user: str = "ap-robot", password: str = "robot-pass-1", next_url: str = "/"):
    return client.post("/login", data={"username": user, "password": password, "next": next_url})


# -- seeding --------------------------------------------------------------------------------


def test_seeding_gives_realistic_master_data(erp_app: FastAPI) -> None:
    db: ErpDatabase = erp_app.state.db
    counts = db.counts()
    assert counts["vendors"] >= 30
    assert counts["purchase_orders"] >= 300
    assert counts["invoices"] == 0
    statuses = {db.order(po.po_number)["gr_status"] for po in MASTER.purchase_orders[:80]}  # type: ignore[index]
    assert statuses == {"none", "partial", "full"}
    partial = [
        po
        for po in MASTER.purchase_orders
        if 0 < sum(received_quantities(MASTER, po.po_number).values()) < sum(ln.quantity for ln in po.lines)
    ]
    assert len(partial) >= 10


def test_seeding_happens_once(erp_app_factory: Callable[..., FastAPI], erp_app: FastAPI) -> None:
    again = erp_app_factory(seed=1)  # same file: the existing data and seed stay
    assert again.state.db.counts() == erp_app.state.db.counts()
    assert again.state.db.seed() == DEFAULT_SEED


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    from sandbox.erp import create_app

    one = create_app(tmp_path / "a.db", seed=1, users={})
    two = create_app(tmp_path / "b.db", seed=2, users={})
    assert one.state.db.vendor("V0001")["name"] != two.state.db.vendor("V0001")["name"]  # type: ignore[index]


# -- login and sessions ---------------------------------------------------------------------


def test_unauthenticated_request_redirects_to_login(erp_anon: TestClient) -> None:
    response = erp_anon.get("/vendors?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fvendors%3Fpage%3D2"
    page = tree(erp_anon.get("/vendors?page=2"))
    assert page.get_element_by_id("next").get("value") == "/vendors?page=2"
    assert page.get_element_by_id("login-message", None) is None  # no "expired" notice for a first visit


def test_login_ok_returns_to_requested_page(erp_anon: TestClient) -> None:
    response = _login(erp_anon, next_url="/vendors?page=2")
    assert response.status_code == 200
    assert response.url.path == "/vendors" and response.url.params["page"] == "2"
    page = tree(response)
    assert by_id(page, "session-user") == "ap-robot"
    assert by_id(page, "page-current") == "2"
    cookie = response.history[0].headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "httponly" in cookie.lower()


def test_login_bad_password_shows_error_and_no_session(erp_anon: TestClient) -> None:
    response = _login(erp_anon, password="wrong", next_url="/orders")
    assert response.status_code == 401
    page = tree(response)
    assert "Invalid user name or password" in by_id(page, "login-error")
    assert page.get_element_by_id("username").get("value") == "ap-robot"
    assert page.get_element_by_id("next").get("value") == "/orders"
    assert SESSION_COOKIE not in erp_anon.cookies
    assert erp_anon.get("/orders", follow_redirects=False).status_code == 303


def test_unknown_user_and_clerk(erp_anon: TestClient) -> None:
    assert _login(erp_anon, user="nobody", password="robot-pass-1").status_code == 401
    response = _login(erp_anon, user="clerk", password="clerk-pass-1")
    assert by_id(tree(response), "session-user") == "clerk"


def test_robot_password_comes_from_environment(
    monkeypatch: pytest.MonkeyPatch, erp_app_factory: Callable[..., FastAPI]
) -> None:
    monkeypatch.setenv("LEDGERBOT_ERP_PASSWORD", "s3cret-from-env")
    with TestClient(erp_app_factory()) as client:
        assert _login(client).status_code == 401
        assert _login(client, password="s3cret-from-env").status_code == 200


def test_login_next_cannot_leave_the_site(erp_anon: TestClient) -> None:
    response = _login(erp_anon, next_url="//evil.example/x")
    assert response.url.path == "/" and response.url.host == "testserver"


def test_session_expires_after_idle_ttl(erp_client: TestClient, erp_clock: ErpClock) -> None:
    erp_clock.advance(599)
    assert erp_client.get("/orders", follow_redirects=False).status_code == 200  # activity slides the window
    erp_clock.advance(599)
    assert erp_client.get("/orders", follow_redirects=False).status_code == 200
    erp_clock.advance(601)
    response = erp_client.get("/orders?status=open&page=3", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Forders%3Fstatus%3Dopen%26page%3D3&reason=expired"
    page = tree(erp_client.get(response.headers["location"]))
    assert "session has expired" in by_id(page, "login-message")
    # Logging in again lands on the page that was asked for.
    again = _login(erp_client, next_url=page.get_element_by_id("next").get("value"))
    assert again.url.path == "/orders" and by_id(tree(again), "page-current") == "3"


def test_expired_session_on_form_post_returns_to_the_form(
    erp_client: TestClient, erp_clock: ErpClock
) -> None:
    erp_clock.advance(3600)
    response = erp_client.post("/invoices/new", data={"vendor_id": "V0001"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Finvoices%2Fnew&reason=expired"


def test_logout_ends_the_session(erp_client: TestClient) -> None:
    page = tree(erp_client.get("/logout"))
    assert "logged off" in by_id(page, "login-message")
    assert erp_client.get("/", follow_redirects=False).status_code == 303


def test_stolen_cookie_of_logged_out_session_is_useless(erp_client: TestClient) -> None:
    cookie = erp_client.cookies[SESSION_COOKIE]
    erp_client.get("/logout")
    erp_client.cookies.set(SESSION_COOKIE, cookie)
    assert erp_client.get("/vendors", follow_redirects=False).status_code == 303


# -- list screens ---------------------------------------------------------------------------


def test_vendor_list_paginates_20_per_page(erp_client: TestClient) -> None:
    first = tree(erp_client.get("/vendors"))
    assert row_keys(first, "vendor-list") == [v.vendor_id for v in MASTER.vendors[:20]]
    assert by_id(first, "page-count") == "2" and by_id(first, "record-count") == str(len(MASTER.vendors))
    assert first.get_element_by_id("page-prev", None) is None
    next_href = first.get_element_by_id("page-next").get("href")
    second = tree(erp_client.get(next_href))
    assert row_keys(second, "vendor-list") == [v.vendor_id for v in MASTER.vendors[20:40]]
    assert second.get_element_by_id("page-next", None) is None
    assert second.get_element_by_id("bottom-page-prev") is not None
    row = data_rows(second, "vendor-list")[0]
    vendor = MASTER.vendors[20]
    assert cell(row, "name") == vendor.name and cell(row, "currency") == vendor.currency


def test_out_of_range_page_shows_nearest_page(erp_client: TestClient) -> None:
    assert by_id(tree(erp_client.get("/vendors?page=99")), "page-current") == "2"
    assert by_id(tree(erp_client.get("/vendors?page=abc")), "page-current") == "1"


def test_vendor_name_filter(erp_client: TestClient) -> None:
    target = MASTER.vendors[5]
    page = tree(erp_client.get("/vendors", params={"name": target.name}))
    assert row_keys(page, "vendor-list") == [target.vendor_id]
    empty = tree(erp_client.get("/vendors", params={"name": "no such vendor"}))
    assert row_keys(empty, "vendor-list") == [] and page.get_element_by_id("no-records", None) is None
    assert "No records" in by_id(empty, "no-records")


def test_order_list_pagination_keeps_filters(erp_client: TestClient) -> None:
    vendor = MASTER.vendors[0].vendor_id
    expected = sorted(
        po.po_number for po in MASTER.purchase_orders if po.vendor_id == vendor and po.status == "open"
    )
    page = tree(erp_client.get("/orders", params={"vendor_id": vendor, "status": "open"}))
    keys = row_keys(page, "order-list")
    while page.get_element_by_id("page-next", None) is not None:
        href = page.get_element_by_id("page-next").get("href")
        assert f"vendor_id={vendor}" in href and "status=open" in href
        page = tree(erp_client.get(href))
        keys += row_keys(page, "order-list")
    assert keys == expected


def test_order_list_covers_all_orders_across_pages(erp_client: TestClient) -> None:
    first = tree(erp_client.get("/orders"))
    assert by_id(first, "record-count") == str(len(MASTER.purchase_orders))
    assert by_id(first, "page-count") == str(-(-len(MASTER.purchase_orders) // 20))
    last = tree(erp_client.get(first.get_element_by_id("page-last").get("href")))
    assert row_keys(last, "order-list")[-1] == max(po.po_number for po in MASTER.purchase_orders)
    closed = tree(erp_client.get("/orders?status=closed"))
    assert by_id(closed, "record-count") == str(sum(po.status == "closed" for po in MASTER.purchase_orders))
    assert {cell(r, "status") for r in data_rows(closed, "order-list")} == {"closed"}


def test_receipt_list_filter_by_po(erp_client: TestClient) -> None:
    po = next(po for po in MASTER.purchase_orders if len(MASTER.receipts_for(po.po_number)) == 2)
    page = tree(erp_client.get("/receipts", params={"po_number": po.po_number.lower()}))
    assert row_keys(page, "receipt-list") == [gr.receipt_number for gr in MASTER.receipts_for(po.po_number)]
    everything = tree(erp_client.get("/receipts?page=2"))
    assert by_id(everything, "record-count") == str(len(MASTER.receipts))
    assert row_keys(everything, "receipt-list") == [gr.receipt_number for gr in MASTER.receipts[20:40]]


def test_slow_pages_every_nth_list_request(
    erp_app_factory: Callable[..., FastAPI], erp_sleeps: list[float]
) -> None:
    with TestClient(erp_app_factory(slow_every=3, slow_seconds=4.5)) as client:
        _login(client)
        for path in (
            "/vendors",
            "/orders",
            "/receipts",
            "/invoices/search",
            "/vendors/V0001",
            "/orders?page=2",
        ):
            assert client.get(path).status_code == 200
    # Detail screens do not count; the 3rd and 6th list requests were slow.
    assert erp_sleeps == [4.5]
    assert len(erp_sleeps) == 1


def test_slow_pages_off_by_default(erp_client: TestClient, erp_sleeps: list[float]) -> None:
    for _ in range(12):
        erp_client.get("/vendors")
    assert erp_sleeps == []


# -- detail screens -------------------------------------------------------------------------


def test_vendor_detail(erp_client: TestClient) -> None:
    vendor = next(v for v in MASTER.vendors if v.iban)
    page = tree(erp_client.get(f"/vendors/{vendor.vendor_id}"))
    assert by_id(page, "field-vendor_id") == vendor.vendor_id
    assert by_id(page, "field-name") == vendor.name
    assert by_id(page, "field-tax_id") == vendor.tax_id
    assert by_id(page, "field-iban") == vendor.iban
    assert by_id(page, "field-currency") == vendor.currency
    assert vendor.address is not None
    assert by_id(page, "field-street") == vendor.address.street
    assert by_id(page, "field-postal_code") == vendor.address.postal_code
    assert by_id(page, "field-city") == vendor.address.city
    assert by_id(page, "field-country") == vendor.address.country
    assert by_id(page, "field-order_count") == str(len(MASTER.orders_for(vendor.vendor_id)))


def test_unknown_records_are_404(erp_client: TestClient) -> None:
    for path in ("/vendors/V9999", "/orders/PO-1", "/receipts/GR-1", "/invoices/DOC-2026-999999"):
        response = erp_client.get(path)
        assert response.status_code == 404
        assert "does not exist" in by_id(tree(response), "error-message")


def test_order_detail_with_partial_receipt(erp_client: TestClient) -> None:
    po = next(
        po
        for po in MASTER.purchase_orders
        if len(MASTER.receipts_for(po.po_number)) == 1
        and sum(received_quantities(MASTER, po.po_number).values()) < sum(ln.quantity for ln in po.lines)
    )
    received = received_quantities(MASTER, po.po_number)
    page = tree(erp_client.get(f"/orders/{po.po_number}"))
    assert by_id(page, "field-po_number") == po.po_number
    assert by_id(page, "field-vendor_id") == po.vendor_id
    assert by_id(page, "field-status") == po.status
    assert by_id(page, "field-gr_status") == "partial"
    assert by_id(page, "field-order_date") == po.order_date.strftime("%d.%m.%Y")  # type: ignore[union-attr]
    rows = data_rows(page, "po-lines")
    assert [r.get("data-key") for r in rows] == [str(ln.line_no) for ln in po.lines]
    for row, line in zip(rows, po.lines, strict=True):
        assert cell(row, "sku") == line.sku
        assert screen_number(cell(row, "quantity")) == line.quantity
        assert screen_number(cell(row, "unit_price")) == line.unit_price
        assert screen_number(cell(row, "amount")) == line.quantity * line.unit_price
        got = received.get(line.line_no, Decimal(0))
        assert screen_number(cell(row, "received")) == got
        assert screen_number(cell(row, "open")) == line.quantity - got
    net = sum(ln.quantity * ln.unit_price for ln in po.lines)
    assert screen_number(by_id(page, "field-net_value")) == net
    assert row_keys(page, "po-receipts") == [gr.receipt_number for gr in MASTER.receipts_for(po.po_number)]


def test_order_without_receipts(erp_client: TestClient) -> None:
    po = next(po for po in MASTER.purchase_orders if not MASTER.receipts_for(po.po_number))
    page = tree(erp_client.get(f"/orders/{po.po_number}"))
    assert by_id(page, "field-gr_status") == "none"
    assert "No goods receipts" in by_id(page, "no-records")


def test_receipt_detail(erp_client: TestClient) -> None:
    receipt = next(gr for gr in MASTER.receipts if len(gr.lines) >= 3)
    po = next(po for po in MASTER.purchase_orders if po.po_number == receipt.po_number)
    page = tree(erp_client.get(f"/receipts/{receipt.receipt_number}"))
    assert by_id(page, "field-receipt_number") == receipt.receipt_number
    assert by_id(page, "field-po_number") == receipt.po_number
    assert by_id(page, "field-vendor_id") == po.vendor_id
    assert by_id(page, "field-date") == receipt.date.strftime("%d.%m.%Y")
    rows = data_rows(page, "receipt-lines")
    assert [int(r.get("data-key")) for r in rows] == [ln.po_line_no for ln in receipt.lines]
    assert [screen_number(cell(r, "quantity")) for r in rows] == [ln.quantity for ln in receipt.lines]


def test_home_screen_counts(erp_client: TestClient) -> None:
    page = tree(erp_client.get("/"))
    counts = {r.get("data-key"): cell(r, "count") for r in data_rows(page, "system-counts")}
    assert counts == {
        "vendors": str(len(MASTER.vendors)),
        "purchase_orders": str(len(MASTER.purchase_orders)),
        "receipts": str(len(MASTER.receipts)),
        "invoices": "0",
    }
