"""The sao robot on a real trytond when things go wrong: a slow server, refusals, Tryton's warnings.

Every test drives headless Chromium through sao; a refusal must end as a coded clerk exception
with the screenshot of what sao showed, leave nothing half-booked in Tryton, and leave the
document where the robot's next run picks it up once the clerk has dealt with the cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.tryton.client import TrytonErp, compare
from ledgerbot.core.domain import DocState, ExtractionResult
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, PostingRow
from ledgerbot.posting import post_approved
from sandbox.tryton.environment import ROBOT_LOGIN, ROBOT_PASSWORD, RunningTryton
from sandbox.tryton.slow import slow_tryton
from tests.support import approved_document, seed_master_data, state_of, vendor_of
from tests.tryton.test_tryton_target import keys_of, meant, seeded_invoices, tryton_invoices

pytestmark = [pytest.mark.heavy, pytest.mark.slow, pytest.mark.browser]


def short_invoices(tag: str, count: int) -> list[ExtractionResult]:
    """Invoices of one or two lines (the browser part stays brief), each on its own supplier."""
    found: list[ExtractionResult] = []
    vendors: set[str] = set()
    for invoice in seeded_invoices(40, tag):
        if len(invoice.lines) <= 2 and vendor_of(invoice) not in vendors:
            vendors.add(vendor_of(invoice))
            found.append(invoice)
    assert len(found) >= count
    return found[:count]


def sao_robot(tryton: RunningTryton, url: str | None = None) -> TrytonErp:
    return TrytonErp(url or tryton.url, tryton.database, ROBOT_LOGIN, ROBOT_PASSWORD, mode="ui")


def the_exception(store: Store, doc_id: int) -> ExceptionRow:
    with store.session() as s:
        return s.scalars(select(ExceptionRow).where(ExceptionRow.document_id == doc_id)).one()


def posting_row(store: Store, doc_id: int) -> PostingRow:
    with store.session() as s:
        row = s.get(PostingRow, doc_id)
        assert row is not None
        s.expunge(row)
        return row


def clerk_approves(store: Store, doc_id: int) -> None:
    """What the review app does when a clerk approves the exception after fixing its cause."""
    with store.session() as s:
        document = s.get(DocumentRow, doc_id)
        assert document is not None
        for exception in s.scalars(select(ExceptionRow).where(ExceptionRow.document_id == doc_id)):
            exception.status = "resolved"
        transition(s, document, DocState.APPROVED, actor=Actor("clerk"), stage="review")


def assert_posted_once_as_meant(store: Store, erp: TrytonErp, doc_id: int) -> None:
    assert state_of(store, doc_id) == DocState.POSTED
    held = tryton_invoices(erp, keys_of(store, [doc_id]))
    assert [row["state"] for row in held] == ["posted"]
    back = erp.read_back(posting_row(store, doc_id).erp_doc_number or "")
    assert back is not None
    assert compare(erp.with_po_lines(meant(store, doc_id)), back) == []  # type: ignore[arg-type]


def test_on_a_slow_server_the_robot_waits_for_every_on_change_and_never_types_too_early(
    store: Store, file_store: FileStore, tryton: RunningTryton, tmp_path: Path
) -> None:
    seed_master_data(store)
    (invoice,) = [inv for inv in short_invoices("SLOW", 4) if len(inv.lines) == 2][:1]
    doc_id = approved_document(store, file_store, invoice, vendor_of(invoice))
    # Each on-change answers 1.5 s late, each completion 1 s: an answer that landed after the
    # robot typed on would overwrite the supplier's data, a line's product, quantity or price,
    # and the read-back would differ.
    delays = {r"\.on_change": 1.5, r"\.autocomplete$": 1.0}
    with slow_tryton(tryton.url, delays) as slow, sao_robot(tryton, slow.url) as erp:
        report = post_approved(store, erp, screenshots=tmp_path / "shots", backoff=0.1).summary()
        assert report["posted"] == 1, report["details"]
        assert_posted_once_as_meant(store, erp, doc_id)
    delayed = dict(slow.delayed)
    assert sum(n for m, n in delayed.items() if ".on_change" in m) >= 4, delayed
    assert any(m.endswith(".autocomplete") for m in delayed), delayed
    assert any("account.invoice.line.on_change" in m for m in delayed), delayed


@contextmanager
def addresses_deactivated(erp: TrytonErp, vendor_id: str) -> Iterator[None]:
    (party,) = erp.rpc.search_read("party.party", [("code", "=", vendor_id)], ["addresses"])
    erp.rpc.model("party.address", "write", party["addresses"], {"active": False})
    try:
        yield
    finally:
        erp.rpc.model("party.address", "write", party["addresses"], {"active": True})


def test_a_required_field_sao_refuses_is_a_coded_finding_with_its_screenshot_and_a_retry_posts_it(
    store: Store, file_store: FileStore, tryton: RunningTryton, tryton_rpc: TrytonErp, tmp_path: Path
) -> None:
    seed_master_data(store)
    (invoice,) = short_invoices("REQ", 1)
    doc_id = approved_document(store, file_store, invoice, vendor_of(invoice))
    shots = tmp_path / "shots"
    with sao_robot(tryton) as erp:
        # The supplier's only address was archived in Tryton: sao leaves the invoice address
        # empty and refuses to save an invoice without one.
        with addresses_deactivated(tryton_rpc, vendor_of(invoice)):
            report = post_approved(store, erp, screenshots=shots, backoff=0.1).summary()
        assert report["rejected_by_erp"] == 1 and report["retry_later"] == 0, report["details"]
        exception = the_exception(store, doc_id)
        assert exception.code == "ERP_REJECTED" and "sao_messages" in exception.evidence, exception.message
        assert '"Invoice Address" is required' in exception.evidence["sao_messages"]
        shot = Path(exception.evidence["screenshot"])
        assert shot.stat().st_size > 10_000 and posting_row(store, doc_id).screenshot == str(shot)
        assert state_of(store, doc_id) == DocState.EXCEPTION
        assert tryton_invoices(tryton_rpc, keys_of(store, [doc_id])) == []  # nothing half-saved
        # The address is back; the clerk approves; the robot's next run books it, once.
        clerk_approves(store, doc_id)
        report = post_approved(store, erp, screenshots=shots, backoff=0.1).summary()
        assert report["posted"] == 1, report["details"]
    assert_posted_once_as_meant(store, tryton_rpc, doc_id)


@contextmanager
def period_closed(erp: TrytonErp, day: date) -> Iterator[None]:
    (period,) = erp.rpc.search_read(
        "account.period",
        [("start_date", "<=", day), ("end_date", ">=", day), ("type", "=", "standard")],
        ["id"],
    )
    erp.rpc.model("account.period", "close", [period["id"]])
    try:
        yield
    finally:
        # As an accountant reopens a month: the period, then its journals' periods.
        erp.rpc.model("account.period", "reopen", [period["id"]])
        journals = erp.rpc.search_read(
            "account.journal.period", [("period", "=", period["id"]), ("state", "=", "closed")], ["id"]
        )
        erp.rpc.model("account.journal.period", "reopen", [row["id"] for row in journals])


def test_an_error_tryton_shows_at_posting_is_a_coded_finding_and_the_draft_is_not_left_behind(
    store: Store, file_store: FileStore, tryton: RunningTryton, tryton_rpc: TrytonErp, tmp_path: Path
) -> None:
    seed_master_data(store)
    (invoice,) = short_invoices("PERIOD", 1)
    doc_id = approved_document(store, file_store, invoice, vendor_of(invoice))
    shots = tmp_path / "shots"
    assert invoice.fields.invoice_date is not None
    with sao_robot(tryton) as erp:
        # The accountant closed the month the invoice is dated in: Tryton saves the draft and
        # answers Post with its error dialog.
        with period_closed(tryton_rpc, invoice.fields.invoice_date):
            report = post_approved(store, erp, screenshots=shots, backoff=0.1).summary()
        assert report["rejected_by_erp"] == 1 and report["retry_later"] == 0, report["details"]
        exception = the_exception(store, doc_id)
        assert exception.code == "ERP_REJECTED" and "refused to post" in exception.message
        assert "period" in exception.evidence["tryton_dialog"].lower()
        assert Path(exception.evidence["screenshot"]).stat().st_size > 10_000
        assert tryton_invoices(tryton_rpc, keys_of(store, [doc_id])) == []  # the draft was removed
        # The month is open again; the clerk approves; the next run posts the invoice once.
        clerk_approves(store, doc_id)
        report = post_approved(store, erp, screenshots=shots, backoff=0.1).summary()
        assert report["posted"] == 1, report["details"]
    assert_posted_once_as_meant(store, tryton_rpc, doc_id)


def test_trytons_similar_invoice_warning_in_sao_is_a_finding_never_confirmed(
    store: Store,
    file_store: FileStore,
    tryton: RunningTryton,
    tryton_rpc: TrytonErp,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_master_data(store)
    (invoice,) = short_invoices("SIMUI", 1)
    first = approved_document(store, file_store, invoice, vendor_of(invoice))
    shots = tmp_path / "shots"
    assert post_approved(store, tryton_rpc, screenshots=shots, backoff=0.1).summary()["posted"] == 1
    # The same supplier invoice comes again in another file; our own duplicate check is
    # switched off so that Tryton's own warning, shown by sao, is what is met.
    again = invoice.model_copy(deep=True)
    again.source = "SIMUI-resent"
    second = approved_document(store, file_store, again, vendor_of(invoice))
    monkeypatch.setattr("ledgerbot.posting.duplicate_of_posted", lambda session, document: None)
    with sao_robot(tryton) as erp:
        report = post_approved(store, erp, screenshots=shots, backoff=0.1).summary()
    assert report["rejected_by_erp"] == 1, report["details"]
    exception = the_exception(store, second)
    assert exception.code == "ERP_REJECTED" and "warns before posting" in exception.message
    # Met in sao, at the first attempt: the dialog's own text is the evidence.
    row = posting_row(store, second)
    assert row.attempts == 1, (row.attempts, row.last_error)
    assert invoice.fields.invoice_number in exception.evidence["tryton_dialog"]
    assert Path(exception.evidence["screenshot"]).stat().st_size > 10_000
    held = tryton_invoices(tryton_rpc, keys_of(store, [first, second]))
    assert [row["state"] for row in held] == ["posted"]  # declined: the second is not in the books


def test_an_invoice_repeating_an_article_on_lines_of_its_own_is_posted_through_sao_as_meant(
    store: Store, file_store: FileStore, tryton: RunningTryton, tryton_rpc: TrytonErp, tmp_path: Path
) -> None:
    # Every line added after the first opens sao's line dialog on the line before it until the
    # new one is drawn: typed too early, a product lands there and clears the earlier line's.
    seed_master_data(store)
    repeated = [
        inv
        for inv in seeded_invoices(40, "REPEAT")
        if len({ln.sku for ln in inv.lines}) < len(inv.lines) and len(inv.lines) <= 8
    ]
    invoice = repeated[0]
    doc_id = approved_document(store, file_store, invoice, vendor_of(invoice))
    with sao_robot(tryton) as erp:
        report = post_approved(store, erp, screenshots=tmp_path / "shots", backoff=0.1).summary()
        assert report["posted"] == 1, report["details"]
        assert_posted_once_as_meant(store, erp, doc_id)
    # Each line as the RPC mode books it: its own product, the expense account, the supplier's VAT.
    (held,) = tryton_invoices(tryton_rpc, keys_of(store, [doc_id]))
    (party,) = tryton_rpc.rpc.search_read(
        "party.party", [("code", "=", vendor_of(invoice))], ["supplier_tax_rule"]
    )
    lines = tryton_rpc.rpc.search_read(
        "account.invoice.line",
        [("invoice", "=", held["id"]), ("type", "=", "line")],
        ["product.code", "account", "taxes", "quantity", "unit_price"],
        order=[("sequence", "ASC"), ("id", "ASC")],
    )
    assert [(ln["product."] or {}).get("code") for ln in lines] == [ln.sku for ln in invoice.lines]
    assert [(Decimal(str(ln["quantity"])), ln["unit_price"]) for ln in lines] == [
        (ln.quantity, ln.unit_price) for ln in invoice.lines
    ]
    assert {ln["account"] for ln in lines} == {tryton_rpc._expense_account()}
    rule_taxes = sorted(tryton_rpc._rule_taxes(party["supplier_tax_rule"]))
    assert rule_taxes and all(sorted(ln["taxes"]) == rule_taxes for ln in lines)
