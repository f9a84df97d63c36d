"""Review actions against the store on SQLite and PostgreSQL: four eyes, audit, queue upkeep."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledgerbot.core.errors import (
    ApprovalLimitExceeded,
    ClaimHeld,
    CorrectionInvalid,
    FourEyesRequired,
    ReasonMissing,
)
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExtractionRow
from ledgerbot.core.store.review import ApprovalRow, QueueEntryRow, UserRow
from review_app import actions, queue
from review_app.actions import Controls, Correction
from review_app.security import SignedIn
from tests.review_app import factory

THRESHOLD = Decimal("10000")
CONTROLS = Controls(fallback_threshold=THRESHOLD)


def _user(store: Store, name: str, **extra: object) -> SignedIn:
    with store.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == name))
        assert row is not None
        return SignedIn(user_id=row.id, username=row.username, role=row.role, csrf_token="-", **extra)  # type: ignore[arg-type]


def _document(store: Store, files: FileStore, spec: factory.InvoiceSpec) -> int:
    with store.session() as session:
        if session.scalar(select(UserRow.id).limit(1)) is None:
            factory.users(session)
        return factory.exception_document(session, files, spec).id


def _approve(store: Store, user: SignedIn, document_id: int) -> actions.Result:
    """Approve over the document's open exceptions, giving the reason an override needs."""
    with store.session() as session:
        return actions.approve(
            session,
            user,
            document_id,
            controls=CONTROLS,
            reason_code="price_agreed",
            reason="agreed by phone",
        )


def _state(store: Store, document_id: int) -> str:
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None
        return document.state


BIG = factory.InvoiceSpec(unit_price=Decimal("1000.00"))  # 11,900.00 EUR: above the policy's 10,000
SMALL = factory.InvoiceSpec(unit_price=Decimal("20.00"))  # 238.00 EUR


def test_small_invoice_needs_one_approver(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    result = _approve(store, _user(store, "alice"), document_id)
    assert result.message.endswith("approved")
    assert _state(store, document_id) == "approved"


def test_big_invoice_needs_two_distinct_approvers(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob = _user(store, "alice"), _user(store, "bob")
    first = _approve(store, alice, document_id)
    assert "needs a second approver" in first.message
    assert _state(store, document_id) == "exception"
    with store.session() as session:
        entry = session.get(QueueEntryRow, document_id)
        assert entry is not None and entry.awaiting_second_approval
    with pytest.raises(FourEyesRequired):
        _approve(store, alice, document_id)
    _approve(store, bob, document_id)
    assert _state(store, document_id) == "approved"
    with store.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(
                AuditEventRow.document_id == document_id, AuditEventRow.stage == "review"
            )
        ).all()
        assert [(e.actor, e.detail["action"], e.to_state) for e in events] == [
            ("user:alice", "first_approval", "exception"),
            ("user:bob", "approve", "approved"),
        ]
        assert events[1].detail["approvers"] == ["alice", "bob"]
        assert session.get(QueueEntryRow, document_id) is None


def test_bank_details_changed_needs_two_people_whatever_the_amount(store: Store, files: FileStore) -> None:
    spec = factory.InvoiceSpec(
        unit_price=Decimal("20.00"),
        exceptions=[("BANK_DETAILS_CHANGED", "IBAN differs from the vendor master", {"vendor_id": "V001"})],
    )
    document_id = _document(store, files, spec)
    _approve(store, _user(store, "alice"), document_id)
    assert _state(store, document_id) == "exception"
    _approve(store, _user(store, "bob"), document_id)
    assert _state(store, document_id) == "approved"


def test_the_editor_cannot_approve_a_four_eyes_invoice(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob = _user(store, "alice"), _user(store, "bob")
    with store.session() as session:
        actions.correct(session, alice, document_id, Correction(fields={"invoice_date": "2026-03-15"}))
    with pytest.raises(FourEyesRequired, match="you edited"):
        _approve(store, alice, document_id)
    # An edit is never an approval: bob's is the first, and a second approver who did not edit
    # (root) completes it.
    assert "needs a second approver" in _approve(store, bob, document_id).message
    assert _state(store, document_id) == "exception"
    _approve(store, _user(store, "root"), document_id)
    assert _state(store, document_id) == "approved"


def test_a_clerk_ticking_ok_does_not_count_as_four_eyes(store: Store, files: FileStore) -> None:
    spec = factory.InvoiceSpec(
        unit_price=Decimal("20.00"),
        exceptions=[("BANK_DETAILS_CHANGED", "IBAN differs from the vendor master", {"vendor_id": "V001"})],
    )
    document_id = _document(store, files, spec)
    with store.session() as session:
        actions.correct(
            session, _user(store, "carol"), document_id, Correction(confirm=frozenset({"po_number"}))
        )
    assert "needs a second approver" in _approve(store, _user(store, "alice"), document_id).message
    assert _state(store, document_id) != "approved"
    _approve(store, _user(store, "bob"), document_id)
    assert _state(store, document_id) == "approved"


def test_an_approval_does_not_survive_a_later_edit(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob, carol = _user(store, "alice"), _user(store, "bob"), _user(store, "carol")
    _approve(store, alice, document_id)
    with store.session() as session:
        actions.correct(session, carol, document_id, Correction(fields={"due_date": "2026-04-30"}))
    # carol edited after alice approved: alice's approval was of another reading, and carol's edit
    # is no approval, so bob's is a first approval again.
    with store.session() as session:
        assert (
            session.scalar(select(ApprovalRow.extraction_id).where(ApprovalRow.username == "alice"))
            is not None
        )
    assert "needs a second approver" in _approve(store, bob, document_id).message
    _approve(store, alice, document_id)
    assert _state(store, document_id) == "approved"


def test_clerk_cannot_approve(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with pytest.raises(actions.NotAllowed):
        _approve(store, _user(store, "carol"), document_id)


def test_doc_type_correction_updates_the_document_and_is_labelled(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session:
        result = actions.correct(
            session, _user(store, "carol"), document_id, Correction(doc_type="credit_note")
        )
    assert "1 change" in result.message
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None and document.doc_type == "credit_note"
    with store.session() as session, pytest.raises(CorrectionInvalid):
        actions.correct(session, _user(store, "carol"), document_id, Correction(doc_type="poem"))


def test_sync_rebuilds_the_queue_from_the_audit_trail(store: Store, files: FileStore) -> None:
    first = _document(store, files, SMALL)
    second = _document(store, files, factory.InvoiceSpec(invoice_number="RE-2"))
    with store.session() as session:
        assert queue.sync(session) >= 2
        assert queue.sync(session) == 0  # nothing new
        page = queue.list_queue(session, queue.QueueFilter(sort="amount"))
        assert [e.document_id for e in page.entries] == [first, second]
        assert page.entries[0].total == Decimal("238.00")


def test_an_override_needs_a_listed_reason_and_words(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    alice = _user(store, "alice")
    with store.session() as session, pytest.raises(ReasonMissing, match="from the list"):
        actions.approve(session, alice, document_id, controls=CONTROLS)
    with store.session() as session, pytest.raises(ReasonMissing, match="explain"):
        actions.approve(session, alice, document_id, controls=CONTROLS, reason_code="price_agreed")
    _approve(store, alice, document_id)
    with store.session() as session:
        event = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.document_id == document_id)
            .order_by(AuditEventRow.id.desc())
        ).first()
        assert event is not None and event.detail["reason_code"] == "price_agreed"
        assert event.detail["reason"] == "agreed by phone" and event.detail["overridden"] == [
            "PRICE_VARIANCE"
        ]


def test_a_price_override_above_the_limit_needs_two_approvers(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)  # 10 x (115 - 100) = 150 over the PO price
    strict = Controls(fallback_threshold=THRESHOLD, price_override_limit=Decimal("100"))
    with store.session() as session:
        result = actions.approve(
            session,
            _user(store, "alice"),
            document_id,
            controls=strict,
            reason_code="price_agreed",
            reason="ok",
        )
    assert "price override of 150.00 is above 100" in result.message
    assert _state(store, document_id) == "exception"


def test_approval_limit_per_user(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)  # 238.00
    with pytest.raises(ApprovalLimitExceeded):
        _approve(store, _user(store, "alice", approval_limit=Decimal("200")), document_id)
    _approve(store, _user(store, "alice", approval_limit=Decimal("250")), document_id)
    assert _state(store, document_id) == "approved"


def test_claims_are_enforced_and_supervisors_take_over(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    carol, alice = _user(store, "carol"), _user(store, "alice")
    with store.session() as session:
        actions.claim(session, carol, document_id)
    # Another person cannot act on a live claim, not even an approver.
    with pytest.raises(ClaimHeld):
        _approve(store, alice, document_id)
    with store.session() as session:
        result = actions.claim(session, alice, document_id)
    assert "took document" in result.message and "from carol" in result.message
    with store.session() as session, pytest.raises(ClaimHeld):
        actions.correct(session, carol, document_id, Correction(fields={"due_date": "2026-04-30"}))
    _approve(store, alice, document_id)
    assert _state(store, document_id) == "approved"


def test_a_lapsed_claim_lets_others_act(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session:
        actions.claim(session, _user(store, "carol"), document_id)
        entry = session.get(QueueEntryRow, document_id)
        assert entry is not None and entry.claimed_at is not None
        entry.claimed_at = entry.claimed_at - timedelta(hours=2)
    with store.session() as session:
        actions.claim(session, _user(store, "bob"), document_id)
        entry = session.get(QueueEntryRow, document_id)
        assert entry is not None and entry.assignee == "bob"


def test_a_clerks_rejection_of_a_large_invoice_waits_for_an_approver(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    with store.session() as session:
        result = actions.reject(
            session,
            _user(store, "carol"),
            document_id,
            "not ours",
            reason_code="wrong_recipient",
            controls=CONTROLS,
        )
    assert "proposed" in result.message
    assert _state(store, document_id) == "exception"
    with store.session() as session:
        actions.reject(
            session,
            _user(store, "alice"),
            document_id,
            "confirmed",
            reason_code="wrong_recipient",
            controls=CONTROLS,
        )
    assert _state(store, document_id) == "rejected"
    with store.session() as session:
        event = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.document_id == document_id)
            .order_by(AuditEventRow.id.desc())
        ).first()
        assert event is not None and event.detail["proposed_by"] == "carol"
        assert event.detail["reason_label"] == "Addressed to another company"


def test_a_huge_total_is_refused_with_the_field_named(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session, pytest.raises(CorrectionInvalid) as refused:
        actions.correct(
            session,
            _user(store, "carol"),
            document_id,
            Correction(fields={"total": "99999999999999999999", "vendor_iban": "DE89370400440532013001"}),
        )
    assert set(refused.value.errors) == {"field.total", "field.vendor_iban"}
    assert "mod 97" in refused.value.errors["field.vendor_iban"]


def test_amounts_read_in_the_users_and_the_documents_locale(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session:
        actions.correct(
            session,
            _user(store, "carol", locale="en_US"),
            document_id,
            Correction(fields={"total": "1.234,56", "tax_amount": "325,27", "due_date": "31.12.2026"}),
        )
    with store.session() as session:
        result = session.scalars(
            select(ExtractionRow.result)
            .where(ExtractionRow.document_id == document_id)
            .order_by(ExtractionRow.id.desc())
        ).first()
    assert result is not None
    fields = result["fields"]
    assert (fields["total"], fields["tax_amount"], fields["due_date"]) == ("1234.56", "325.27", "2026-12-31")


def test_a_misread_huge_total_still_queues(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session:
        row = session.scalars(select(ExtractionRow).where(ExtractionRow.document_id == document_id)).one()
        row.result = {**row.result, "fields": {**row.result["fields"], "total": "99999999999999999999"}}
    with store.session() as session:
        queue.refresh(session, [document_id])
        entry = session.get(QueueEntryRow, document_id)
        assert entry is not None and entry.total == Decimal("99999999999999999999")
        page = queue.list_queue(session, queue.QueueFilter(sort="amount", descending=True))
        assert page.entries[0].document_id == document_id


def test_overrides_and_rejections_reach_the_finance_report_with_their_reasons(
    store: Store, files: FileStore
) -> None:
    from ledgerbot.core.store.models import utcnow
    from ledgerbot.reports.data import collect

    overridden = _document(store, files, SMALL)
    rejected = _document(
        store, files, factory.InvoiceSpec(invoice_number="RE-9", unit_price=Decimal("20.00"))
    )
    _approve(store, _user(store, "alice"), overridden)
    with store.session() as session:
        actions.reject(
            session,
            _user(store, "bob"),
            rejected,
            "ordered twice",
            reason_code="duplicate",
            controls=CONTROLS,
        )
    today = utcnow().date()
    data = collect(store, today - timedelta(days=1), today + timedelta(days=1))
    by_document = {d.document_id: d for d in data.review_decisions}
    assert by_document[overridden].action == "approve"
    assert by_document[overridden].overridden == "PRICE_VARIANCE"
    assert (by_document[overridden].reason_code, by_document[overridden].reason) == (
        "price_agreed",
        "agreed by phone",
    )
    assert by_document[rejected].reason_label == "Duplicate of an invoice already received"
    assert by_document[rejected].user == "bob"
