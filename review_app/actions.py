"""What a person can do to a document: claim, correct, link a PO, approve, reject, send back.

Each function checks the rule it enforces (role, state, four eyes) on the server, changes the
store, writes exactly one audit event for the person's action through ``review_app.audit`` and
refreshes the document's queue entry, all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import (
    HEADER_FIELDS,
    DocState,
    DocType,
    ExtractionResult,
    InvoiceFields,
    InvoiceLine,
)
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, ExtractionRow, PurchaseOrderRow, utcnow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.core.store.review import ApprovalRow, CorrectionRow, QueueEntryRow, UserRow
from review_app import audit, queue, revalidate
from review_app.security import SignedIn

MAX_REASON = 500
LINE_KEYS: tuple[str, ...] = tuple(InvoiceLine.model_fields)


class ActionError(LedgerbotError):
    """A request the rules of the review process refuse; ``status`` is the HTTP answer."""

    code = "E720"
    status = 400


class NotAllowed(ActionError):
    code = "E721"
    status = 403


class Conflict(ActionError):
    code = "E722"
    status = 409


class InvalidValue(ActionError):
    code = "E723"
    status = 422


class NoSuchDocument(ActionError):
    code = "E724"
    status = 404


OPEN_FOR_REVIEW = (DocState.EXCEPTION, DocState.MATCHED)


@dataclass
class Result:
    """What an action did, for the page's notice."""

    message: str
    detail: dict[str, Any] = field(default_factory=dict)


def load_document(session: Session, document_id: int, *, lock: bool = False) -> DocumentRow:
    query = select(DocumentRow).where(DocumentRow.id == document_id)
    if lock and session.bind is not None and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    document = session.scalar(query)
    if document is None:
        raise NoSuchDocument(f"no document {document_id}")
    return document


def _require_open(document: DocumentRow, *states: DocState) -> None:
    allowed = states or OPEN_FOR_REVIEW
    if DocState(document.state) not in allowed:
        raise Conflict(
            f"document {document.id} is {document.state}; this action needs it in "
            + " or ".join(s.value for s in allowed)
        )


def _current(session: Session, document: DocumentRow) -> tuple[ExtractionRow, ExtractionResult]:
    row = latest_extraction(session, document.id)
    if row is None:
        raise Conflict(f"document {document.id} has no extraction to review yet")
    return row, ExtractionResult.model_validate(row.result)


def _entry(session: Session, document_id: int) -> QueueEntryRow | None:
    return session.get(QueueEntryRow, document_id)


# --- claiming -------------------------------------------------------------------------------


def claim(session: Session, user: SignedIn, document_id: int) -> Result:
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    queue.refresh(session, [document.id])
    entry = _entry(session, document.id)
    if entry is None:
        raise Conflict(f"document {document.id} is not waiting in the queue")
    if entry.assignee == user.username:
        return Result(f"document {document.id} is already yours")
    if entry.assignee and not user.can_assign:
        raise Conflict(f"document {document.id} is claimed by {entry.assignee}")
    previous = entry.assignee
    entry.assignee = user.username
    queue.bump(session)
    audit.record(session, document, user.username, "claim", detail={"previous_assignee": previous})
    return Result(f"you claimed document {document.id}")


def assign(session: Session, user: SignedIn, document_id: int, assignee: str) -> Result:
    if not user.can_assign:
        raise NotAllowed("only an approver or an admin assigns documents to others")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    target = session.scalar(select(UserRow).where(UserRow.username == assignee, UserRow.active.is_(True)))
    if target is None:
        raise InvalidValue(f"no active user {assignee!r}")
    queue.refresh(session, [document.id])
    entry = _entry(session, document.id)
    if entry is None:
        raise Conflict(f"document {document.id} is not waiting in the queue")
    previous = entry.assignee
    entry.assignee = target.username
    queue.bump(session)
    audit.record(
        session, document, user.username, "assign", detail={"assignee": target.username, "previous": previous}
    )
    return Result(f"document {document.id} assigned to {target.username}")


def release(session: Session, user: SignedIn, document_id: int) -> Result:
    document = load_document(session, document_id, lock=True)
    entry = _entry(session, document.id)
    if entry is None or entry.assignee is None:
        return Result(f"document {document.id} was not claimed")
    if entry.assignee != user.username and not user.can_assign:
        raise NotAllowed(f"document {document.id} is claimed by {entry.assignee}")
    previous = entry.assignee
    entry.assignee = None
    queue.bump(session)
    audit.record(session, document, user.username, "release", detail={"previous_assignee": previous})
    return Result(f"document {document.id} is back in the open queue")


# --- corrections ----------------------------------------------------------------------------


def _parse_field(name: str, raw: str) -> Any:
    """The typed value of one header field as a clerk typed it; empty means not on the document."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = InvoiceFields.model_validate({name: text}).model_dump(mode="json")[name]
    except ValidationError as error:
        raise InvalidValue(f"{name}: {text!r} is not valid ({error.errors()[0]['msg']})") from None
    if name == "currency":
        value = value.upper()
        if len(value) != 3 or not value.isalpha():
            raise InvalidValue(f"currency: {text!r} is not an ISO 4217 code")
    return value


def _parse_line(index: int, raw: dict[str, str]) -> dict[str, Any]:
    data = {key: (raw.get(key) or "").strip() or None for key in LINE_KEYS}
    try:
        return InvoiceLine.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        loc = error.errors()[0]["loc"]
        raise InvalidValue(f"line {index + 1} {loc[0] if loc else ''}: {error.errors()[0]['msg']}") from None


def _line_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """What changed per line and column, in the ``name: [before, after]`` shape of field changes."""
    out: dict[str, list[Any]] = {}
    for i in range(max(len(old), len(new))):
        before = old[i] if i < len(old) else None
        after = new[i] if i < len(new) else None
        if before is None or after is None:
            shown = before or after or {}
            label = shown.get("description") or shown.get("sku") or "line"
            out[f"line {i + 1}"] = [label if before else None, label if after else None]
            continue
        for key in LINE_KEYS:
            if before.get(key) != after.get(key):
                out[f"line {i + 1} {key}"] = [before.get(key), after.get(key)]
    return out


@dataclass(frozen=True)
class Correction:
    fields: dict[str, str] = field(default_factory=dict)  # header field -> typed text
    lines: list[dict[str, str]] | None = None  # the full new list of lines, when edited
    doc_type: str | None = None
    # Fields whose value a person checked against the page and found right, as read.
    confirm: frozenset[str] = frozenset()
    kind: str = "field"  # field | po_link


def correct(
    session: Session,
    user: SignedIn,
    document_id: int,
    change: Correction,
    *,
    policy_path: Path | None = None,
) -> Result:
    """Append a corrected extraction, store the labelled examples, re-validate and re-match at once."""
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    row, result = _current(session, document)
    before = result.model_dump(mode="json")
    after = dict(before)
    after_fields = dict(before["fields"])
    confidence = dict(before.get("field_confidence") or {})
    changes: list[CorrectionRow] = []
    summary: dict[str, Any] = {}
    for name, raw in change.fields.items():
        if name not in HEADER_FIELDS:
            raise InvalidValue(f"{name!r} is not an invoice field")
        value = _parse_field(name, raw)
        if value == after_fields.get(name):
            continue
        box = (before.get("field_boxes") or {}).get(name)
        changes.append(
            CorrectionRow(
                kind=change.kind if name == "po_number" else "field",
                target=name,
                old_value=after_fields.get(name),
                new_value=value,
                box=box,
            )
        )
        summary[name] = [after_fields.get(name), value]
        after_fields[name] = value
        # A person's reading is certain; the rules' low-confidence check must not fire on it.
        confidence[name] = 1.0
    for name in sorted(change.confirm - set(summary)):
        if name not in HEADER_FIELDS:
            raise InvalidValue(f"{name!r} is not an invoice field")
        if confidence.get(name) == 1.0 or after_fields.get(name) is None:
            continue
        value = after_fields.get(name)
        box = (before.get("field_boxes") or {}).get(name)
        changes.append(CorrectionRow(kind="confirm", target=name, old_value=value, new_value=value, box=box))
        summary[name] = [value, value]
        confidence[name] = 1.0
    after["fields"] = after_fields
    after["field_confidence"] = confidence
    if change.lines is not None:
        new_lines = [
            _parse_line(i, raw)
            for i, raw in enumerate(change.lines)
            if any((v or "").strip() for v in raw.values())
        ]
        old_lines = before.get("lines") or []
        if new_lines != old_lines:
            changes.append(
                CorrectionRow(kind="line", target="lines", old_value=old_lines, new_value=new_lines)
            )
            summary.update(_line_changes(old_lines, new_lines))
            after["lines"] = new_lines
    if change.doc_type is not None and change.doc_type != (before.get("doc_type") or ""):
        try:
            new_type = DocType(change.doc_type).value
        except ValueError:
            raise InvalidValue(f"{change.doc_type!r} is not a document type") from None
        changes.append(
            CorrectionRow(
                kind="doc_type", target="doc_type", old_value=before.get("doc_type"), new_value=new_type
            )
        )
        summary["doc_type"] = [before.get("doc_type"), new_type]
        after["doc_type"] = new_type
        after["doc_type_confidence"] = 1.0
        document.doc_type = new_type
        document.doc_type_confidence = 1.0
    if not changes:
        return Result("nothing changed")
    lineage = dict(after.get("lineage") or {})
    lineage["correction"] = f"user:{user.username}"
    after["lineage"] = lineage
    corrected = ExtractionResult.model_validate(after)
    new_row = ExtractionRow(
        document_id=document.id,
        method=row.method,
        result=corrected.model_dump(mode="json"),
        created_by=f"user:{user.username}",
        created_at=utcnow(),
    )
    session.add(new_row)
    session.flush()
    for correction in changes:
        correction.document_id = document.id
        correction.vendor_id = document.vendor_id
        correction.extraction_id = new_row.id
        correction.username = user.username
        correction.at = utcnow()
        session.add(correction)
    action = "link_po" if change.kind == "po_link" else "correct"
    audit.record(
        session,
        document,
        user.username,
        action,
        detail={"changes": summary, "extraction_id": new_row.id, "previous_extraction_id": row.id},
    )
    outcome = revalidate.apply(session, document, new_row, user.username, policy_path)
    queue.refresh(session, [document.id])
    note = (
        f"re-validated: {outcome.decision}" if outcome.ran else f"saved; not re-validated ({outcome.reason})"
    )
    return Result(f"{len(summary)} change(s) saved, {note}", outcome.as_detail())


def link_po(
    session: Session, user: SignedIn, document_id: int, po_number: str, *, policy_path: Path | None = None
) -> Result:
    number = po_number.strip()
    if not number:
        raise InvalidValue("give the purchase order number to link")
    if session.get(PurchaseOrderRow, number) is None:
        raise InvalidValue(f"no purchase order {number!r} in the store")
    return correct(
        session,
        user,
        document_id,
        Correction(fields={"po_number": number}, kind="po_link"),
        policy_path=policy_path,
    )


# --- decisions ------------------------------------------------------------------------------


def _close_open_exceptions(session: Session, document: DocumentRow, by: str) -> list[str]:
    now = utcnow()
    closed: list[str] = []
    for row in session.scalars(
        select(ExceptionRow).where(ExceptionRow.document_id == document.id, ExceptionRow.status == "open")
    ):
        row.status = "resolved"
        row.resolved_at = now
        row.resolved_by = by
        closed.append(row.code)
    return closed


def editors(session: Session, document_id: int) -> set[str]:
    return set(
        session.scalars(select(CorrectionRow.username).where(CorrectionRow.document_id == document_id))
    )


def approve(
    session: Session,
    user: SignedIn,
    document_id: int,
    *,
    fallback_threshold: Decimal,
    policy_path: Path | None = None,
) -> Result:
    """Approve for posting; under four eyes, the second distinct person who did not edit completes it."""
    if not user.can_approve:
        raise NotAllowed("only an approver or an admin can approve")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    row, result = _current(session, document)
    four_eyes, why = revalidate.needs_second_approver(
        session, document, result, fallback_threshold, policy_path
    )
    edited_by = editors(session, document.id)
    earlier = set(
        session.scalars(
            select(ApprovalRow.username).where(
                ApprovalRow.document_id == document.id, ApprovalRow.extraction_id == row.id
            )
        )
    )
    if four_eyes:
        if user.username in edited_by:
            raise NotAllowed(f"you edited document {document.id}; a second approver must approve it ({why})")
        if user.username in earlier:
            raise Conflict(f"you already approved document {document.id}; it needs a second approver ({why})")
    session.add(
        ApprovalRow(document_id=document.id, username=user.username, extraction_id=row.id, at=utcnow())
    )
    others = (edited_by | earlier) - {user.username}
    if four_eyes and not others:
        audit.record(
            session,
            document,
            user.username,
            "first_approval",
            detail={"four_eyes": why, "extraction_id": row.id},
        )
        queue.refresh(session, [document.id])
        return Result(f"first approval recorded; document {document.id} needs a second approver ({why})")
    closed = _close_open_exceptions(session, document, f"approved by {user.username}")
    audit.record(
        session,
        document,
        user.username,
        "approve",
        target=DocState.APPROVED,
        detail={
            "four_eyes": why or None,
            "approvers": sorted(earlier | {user.username}),
            "editors": sorted(edited_by),
            "overridden": closed,
            "extraction_id": row.id,
        },
    )
    queue.refresh(session, [document.id])
    return Result(f"document {document.id} approved")


def reject(session: Session, user: SignedIn, document_id: int, reason: str) -> Result:
    text = " ".join(reason.split())
    if not text:
        raise InvalidValue("give a reason for the rejection")
    if len(text) > MAX_REASON:
        raise InvalidValue(f"the reason is over {MAX_REASON} characters")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    closed = _close_open_exceptions(session, document, f"rejected by {user.username}")
    audit.record(
        session,
        document,
        user.username,
        "reject",
        target=DocState.REJECTED,
        detail={"reason": text, "closed": closed},
    )
    queue.refresh(session, [document.id])
    return Result(f"document {document.id} rejected")


def send_back(session: Session, user: SignedIn, document_id: int, note: str = "") -> Result:
    """Return the document to the start of processing, to be read again from its file."""
    text = " ".join(note.split())[:MAX_REASON]
    document = load_document(session, document_id, lock=True)
    _require_open(document, DocState.EXCEPTION)
    closed = _close_open_exceptions(session, document, f"sent back by {user.username}")
    audit.record(
        session,
        document,
        user.username,
        "send_back",
        target=DocState.RECEIVED,
        detail={"note": text, "closed": closed},
    )
    queue.refresh(session, [document.id])
    return Result(f"document {document.id} sent back for processing")


def parse_amount(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidValue(f"{text!r} is not an amount") from None
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        raise InvalidValue(f"{text!r} is not an amount")
    return value


def as_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None
