"""What a person can do to a document: claim, correct, link a PO, approve, reject, send back.

Each function checks the rule it enforces (role, state, four eyes) on the server, changes the
store, writes exactly one audit event for the person's action through ``review_app.audit`` and
refreshes the document's queue entry, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import HEADER_FIELDS, DocState, DocType, ExtractionResult, InvoiceLine
from ledgerbot.core.errors import (
    ApprovalLimitExceeded,
    ClaimHeld,
    FourEyesRequired,
    LedgerbotError,
    ReasonMissing,
)
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, ExtractionRow, PurchaseOrderRow, utcnow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.core.store.review import ApprovalRow, CommentRow, CorrectionRow, QueueEntryRow, UserRow
from review_app import audit, queue, revalidate, validation
from review_app.config import OVERRIDE_REASONS, REJECT_REASONS, ReviewSettings, policy_path
from review_app.security import SignedIn

MAX_REASON = 500
MAX_COMMENT = 2000
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


@dataclass(frozen=True)
class Controls:
    """The review process's rules that are settings: four eyes, limits, reasons, claims, value bounds."""

    fallback_threshold: Decimal = Decimal("10000")
    price_override_limit: Decimal = Decimal("1000")
    clerk_reject_limit: Decimal = Decimal("10000")
    claim_timeout: timedelta = timedelta(minutes=60)
    override_reasons: Mapping[str, str] = field(default_factory=lambda: dict(OVERRIDE_REASONS))
    reject_reasons: Mapping[str, str] = field(default_factory=lambda: dict(REJECT_REASONS))
    bounds: validation.Bounds = field(
        default_factory=lambda: validation.Bounds(
            max_amount=Decimal("999999999999.99"),
            max_quantity=Decimal("999999999"),
            amount_places=4,
            quantity_places=6,
            oldest_days=3660,
            newest_days=730,
        )
    )
    default_locale: str = "en_GB"
    policy_path: Path | None = None

    @classmethod
    def from_settings(cls, settings: ReviewSettings) -> Controls:
        return cls(
            fallback_threshold=settings.fallback_second_approver_threshold,
            price_override_limit=settings.price_override_second_approver_above,
            clerk_reject_limit=settings.clerk_reject_limit,
            claim_timeout=timedelta(minutes=settings.claim_timeout_minutes),
            override_reasons=dict(settings.override_reasons),
            reject_reasons=dict(settings.reject_reasons),
            bounds=validation.Bounds(
                max_amount=settings.max_amount,
                max_quantity=settings.max_quantity,
                amount_places=settings.amount_places,
                quantity_places=settings.quantity_places,
                oldest_days=settings.date_oldest_days,
                newest_days=settings.date_newest_days,
            ),
            default_locale=settings.default_locale,
            policy_path=policy_path(),
        )

    def reading(
        self, user: SignedIn, fields: dict[str, Any], today: date | None = None
    ) -> validation.Reading:
        return validation.Reading(
            user_locale=user.locale or self.default_locale,
            document_locale=validation.document_locale(fields),
            bounds=self.bounds,
            today=today or utcnow().date(),
        )


DEFAULT_CONTROLS = Controls()


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


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def claim_lapsed(entry: QueueEntryRow, timeout: timedelta, now: datetime | None = None) -> bool:
    """Whether the claim on ``entry`` ran out: nobody acted on it for ``timeout``."""
    if entry.assignee is None:
        return True
    if entry.claimed_at is None:
        return False
    return (now or utcnow()) - _aware(entry.claimed_at) > timeout


def hold_claim(session: Session, user: SignedIn, document: DocumentRow, controls: Controls) -> None:
    """Refuse the action unless the document is unclaimed, claimed by ``user``, or its claim lapsed.

    Acting on a document one holds keeps the claim fresh. A supervisor does not act over
    someone's live claim either: they take it over first (``claim``), which the audit shows.
    """
    entry = _entry(session, document.id)
    if entry is None or entry.assignee is None:
        return
    now = utcnow()
    if entry.assignee == user.username:
        entry.claimed_at = now
        return
    if claim_lapsed(entry, controls.claim_timeout, now):
        return
    hint = " or take it over" if user.can_assign else "; ask them or a supervisor to release it"
    raise ClaimHeld(f"document {document.id} is claimed by {entry.assignee}{hint}")


def claim(
    session: Session, user: SignedIn, document_id: int, controls: Controls = DEFAULT_CONTROLS
) -> Result:
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    queue.refresh(session, [document.id])
    entry = _entry(session, document.id)
    if entry is None:
        raise Conflict(f"document {document.id} is not waiting in the queue")
    now = utcnow()
    if entry.assignee == user.username:
        entry.claimed_at = now
        return Result(f"document {document.id} is already yours")
    lapsed = claim_lapsed(entry, controls.claim_timeout, now)
    if not lapsed and not user.can_assign:
        raise ClaimHeld(f"document {document.id} is claimed by {entry.assignee}")
    previous = entry.assignee
    entry.assignee = user.username
    entry.claimed_at = now
    queue.bump(session)
    action = "takeover" if previous and not lapsed else "claim"
    audit.record(
        session, document, user.username, action, detail={"previous_assignee": previous, "lapsed": lapsed}
    )
    if action == "takeover":
        return Result(f"you took document {document.id} over from {previous}")
    return Result(f"you claimed document {document.id}")


def assign(session: Session, user: SignedIn, document_id: int, assignee: str) -> Result:
    if not user.can_assign:
        raise NotAllowed("only an approver or an admin assigns documents to others")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    target = session.scalar(select(UserRow).where(UserRow.username == assignee, UserRow.active.is_(True)))
    if target is None:
        raise InvalidValue(f"no active user {assignee[:100]!r}")
    queue.refresh(session, [document.id])
    entry = _entry(session, document.id)
    if entry is None:
        raise Conflict(f"document {document.id} is not waiting in the queue")
    previous = entry.assignee
    entry.assignee = target.username
    entry.claimed_at = utcnow()
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
    entry.claimed_at = None
    queue.bump(session)
    audit.record(session, document, user.username, "release", detail={"previous_assignee": previous})
    return Result(f"document {document.id} is back in the open queue")


# --- corrections ----------------------------------------------------------------------------


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
    """What a person typed: header fields and line cells as text, read by ``review_app.validation``."""

    fields: dict[str, str] = field(default_factory=dict)  # header field -> typed text
    # The full new list of lines, when edited: (form row index, column -> typed text).
    lines: list[tuple[int, dict[str, str]]] | None = None
    doc_type: str | None = None
    # Fields whose value a person checked against the page and found right, as read.
    confirm: frozenset[str] = frozenset()
    kind: str = "field"  # field | po_link


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _same(old: Any, new: Any) -> bool:
    """Whether a typed value says what was stored (``1000`` and ``1000.00`` are the same amount)."""
    if old == new:
        return True
    if isinstance(new, Decimal) and old is not None:
        try:
            return Decimal(str(old)) == new
        except InvalidOperation:
            return False
    if isinstance(new, date):
        return old == new.isoformat()
    return False


def check_correction(
    change: Correction, reading: validation.Reading
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, str | None]:
    """Every typed value read and checked at once: (fields, lines, doc_type), or ``CorrectionInvalid``."""
    checked = validation.Checked()
    for name in list(change.fields) + sorted(change.confirm):
        if name not in HEADER_FIELDS:
            checked.fail(f"field.{name[:50]}", f"{name[:50]!r} is not an invoice field")
    known = {name: text for name, text in change.fields.items() if name in HEADER_FIELDS}
    fields = validation.read_fields(known, reading, checked)
    lines = None
    if change.lines is not None:
        rows = [(i, raw) for i, raw in change.lines if any((v or "").strip() for v in raw.values())]
        lines = validation.read_lines(rows, reading, checked)
    doc_type = None
    if change.doc_type is not None:
        try:
            doc_type = DocType(change.doc_type).value
        except ValueError:
            checked.fail("doc_type", f"{change.doc_type[:50]!r} is not a document type")
    checked.raise_if_any()
    return fields, lines, doc_type


def correct(
    session: Session,
    user: SignedIn,
    document_id: int,
    change: Correction,
    *,
    controls: Controls = DEFAULT_CONTROLS,
) -> Result:
    """Append a corrected extraction, store the labelled examples, re-validate and re-match at once."""
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    row, result = _current(session, document)
    before = result.model_dump(mode="json")
    new_fields, new_lines, new_type = check_correction(change, controls.reading(user, before["fields"]))
    hold_claim(session, user, document, controls)
    after = dict(before)
    after_fields = dict(before["fields"])
    confidence = dict(before.get("field_confidence") or {})
    changes: list[CorrectionRow] = []
    summary: dict[str, Any] = {}
    for name, value in new_fields.items():
        if _same(after_fields.get(name), value):
            continue
        value = _json_value(value)
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
        if confidence.get(name) == 1.0 or after_fields.get(name) is None:
            continue
        value = after_fields.get(name)
        box = (before.get("field_boxes") or {}).get(name)
        changes.append(CorrectionRow(kind="confirm", target=name, old_value=value, new_value=value, box=box))
        summary[name] = [value, value]
        confidence[name] = 1.0
    after["fields"] = after_fields
    after["field_confidence"] = confidence
    if new_lines is not None:
        old_lines = before.get("lines") or []
        # A line sent back as it was keeps its stored form ("10" stays "10", not "10.000").
        kept = [
            old
            if i < len(old_lines) and all(_same(old.get(k), new.get(k)) for k in LINE_KEYS)
            else {k: _json_value(v) for k, v in new.items()}
            for i, (old, new) in enumerate(zip(old_lines + [{}] * len(new_lines), new_lines, strict=False))
        ]
        if kept != old_lines:
            changes.append(CorrectionRow(kind="line", target="lines", old_value=old_lines, new_value=kept))
            summary.update(_line_changes(old_lines, kept))
            after["lines"] = kept
    if new_type is not None and new_type != (before.get("doc_type") or ""):
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
    outcome = revalidate.apply(session, document, new_row, user.username, controls.policy_path)
    queue.refresh(session, [document.id])
    entry = _entry(session, document.id)
    if document.state == DocState.MATCHED and entry is not None and entry.assignee == user.username:
        # The clerk's part is done: the document now waits for an approver, not for its editor.
        entry.assignee = None
        entry.claimed_at = None
        queue.bump(session)
    note = (
        f"re-validated: {outcome.decision}" if outcome.ran else f"saved; not re-validated ({outcome.reason})"
    )
    return Result(f"{len(summary)} change(s) saved, {note}", outcome.as_detail())


def link_po(
    session: Session,
    user: SignedIn,
    document_id: int,
    po_number: str,
    *,
    controls: Controls = DEFAULT_CONTROLS,
) -> Result:
    number = po_number.strip()
    if not number:
        raise InvalidValue("give the purchase order number to link")
    if len(number) > validation.TEXT_LIMITS["po_number"] or session.get(PurchaseOrderRow, number) is None:
        raise InvalidValue(f"no purchase order {number[:50]!r} in the store")
    return correct(
        session,
        user,
        document_id,
        Correction(fields={"po_number": number}, kind="po_link"),
        controls=controls,
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


def _open_exceptions(session: Session, document: DocumentRow) -> list[ExceptionRow]:
    return list(
        session.scalars(
            select(ExceptionRow)
            .where(ExceptionRow.document_id == document.id, ExceptionRow.status == "open")
            .order_by(ExceptionRow.id)
        )
    )


def editors(session: Session, document_id: int) -> set[str]:
    return set(
        session.scalars(select(CorrectionRow.username).where(CorrectionRow.document_id == document_id))
    )


def _reason(code: str | None, text: str, choices: Mapping[str, str], what: str) -> tuple[str, str]:
    """A reason picked from ``choices`` and the words that explain it; both are required."""
    words = " ".join(text.split())
    if not code or code not in choices:
        raise ReasonMissing(f"pick the reason for the {what} from the list")
    if not words:
        raise ReasonMissing(f"explain the {what} in a few words ({choices[code]})")
    if len(words) > MAX_REASON:
        raise ReasonMissing(f"the explanation is over {MAX_REASON} characters")
    return code, words


def price_override_value(result: ExtractionResult, exceptions: list[ExceptionRow]) -> Decimal:
    """What approving over the open price variances costs: quantity x (invoiced - ordered price)."""
    total = Decimal(0)
    for row in exceptions:
        if row.code != "PRICE_VARIANCE":
            continue
        evidence = row.evidence or {}
        try:
            paid = Decimal(str(evidence["invoice_price"]))
            ordered = Decimal(str(evidence["po_price"]))
            index = int(evidence.get("invoice_line", 0))
        except (KeyError, InvalidOperation, TypeError, ValueError):
            # A variance the evidence does not quantify is priced at the whole document.
            return abs(result.fields.total or Decimal(0))
        line = result.lines[index] if 0 <= index < len(result.lines) else None
        quantity = line.quantity if line is not None and line.quantity is not None else Decimal(1)
        total += abs(paid - ordered) * abs(quantity)
    return total


def approve(
    session: Session,
    user: SignedIn,
    document_id: int,
    *,
    controls: Controls = DEFAULT_CONTROLS,
    reason_code: str | None = None,
    reason: str = "",
) -> Result:
    """Approve for posting; under four eyes, two distinct approvers who did not edit it are needed.

    A correction is never an approval: only approvals recorded on the current reading count.
    Approving over open exceptions is an override and needs a reason from the list and words.
    """
    if not user.can_approve:
        raise NotAllowed("only an approver or an admin can approve")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    row, result = _current(session, document)
    hold_claim(session, user, document, controls)
    total = result.fields.total
    if user.approval_limit is not None and total is not None and abs(total) > user.approval_limit:
        raise ApprovalLimitExceeded(
            f"the total {total} is above your approval limit {user.approval_limit}; assign it to someone else"
        )
    open_rows = _open_exceptions(session, document)
    override: dict[str, Any] = {}
    if open_rows:
        code, words = _reason(reason_code, reason, controls.override_reasons, "override")
        override = {"reason_code": code, "reason_label": controls.override_reasons[code], "reason": words}
    four_eyes, why = revalidate.needs_second_approver(
        session, document, result, controls.fallback_threshold, controls.policy_path
    )
    if not four_eyes and open_rows:
        cost = price_override_value(result, open_rows)
        if cost > controls.price_override_limit:
            four_eyes, why = True, f"price override of {cost} is above {controls.price_override_limit}"
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
            raise FourEyesRequired(
                f"you edited document {document.id}; two other approvers must approve it ({why})"
            )
        if user.username in earlier:
            raise FourEyesRequired(
                f"you already approved document {document.id}; it needs a second approver ({why})"
            )
    session.add(
        ApprovalRow(document_id=document.id, username=user.username, extraction_id=row.id, at=utcnow())
    )
    others = earlier - {user.username}
    if four_eyes and not others:
        audit.record(
            session,
            document,
            user.username,
            "first_approval",
            detail={"four_eyes": why, "extraction_id": row.id, **override},
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
            **override,
        },
    )
    queue.refresh(session, [document.id])
    return Result(f"document {document.id} approved")


def reject(
    session: Session,
    user: SignedIn,
    document_id: int,
    reason: str,
    *,
    reason_code: str | None = None,
    controls: Controls = DEFAULT_CONTROLS,
) -> Result:
    """Reject; a clerk's rejection of a total above the limit is a proposal an approver completes."""
    code, words = _reason(reason_code, reason, controls.reject_reasons, "rejection")
    document = load_document(session, document_id, lock=True)
    _require_open(document)
    hold_claim(session, user, document, controls)
    row = latest_extraction(session, document.id)
    total = ExtractionResult.model_validate(row.result).fields.total if row is not None else None
    given = {"reason_code": code, "reason_label": controls.reject_reasons[code], "reason": words}
    if not user.can_approve and total is not None and abs(total) > controls.clerk_reject_limit:
        audit.record(session, document, user.username, "propose_reject", detail=given)
        return Result(
            f"rejection proposed: a total above {controls.clerk_reject_limit} needs an approver to reject it"
        )
    proposed_by = _proposed_rejection(session, document.id)
    closed = _close_open_exceptions(session, document, f"rejected by {user.username}")
    audit.record(
        session,
        document,
        user.username,
        "reject",
        target=DocState.REJECTED,
        detail={**given, "closed": closed, "proposed_by": proposed_by},
    )
    queue.refresh(session, [document.id])
    return Result(f"document {document.id} rejected")


def _proposed_rejection(session: Session, document_id: int) -> str | None:
    from ledgerbot.core.store.models import AuditEventRow

    for event in session.scalars(
        select(AuditEventRow)
        .where(AuditEventRow.document_id == document_id, AuditEventRow.stage == "review")
        .order_by(AuditEventRow.id.desc())
        .limit(20)
    ):
        if (event.detail or {}).get("action") == "propose_reject":
            return event.actor.removeprefix("user:")
    return None


def send_back(
    session: Session,
    user: SignedIn,
    document_id: int,
    note: str = "",
    *,
    controls: Controls = DEFAULT_CONTROLS,
) -> Result:
    """Return the document to the start of processing, to be read again from its file."""
    text = " ".join(note.split())[:MAX_REASON]
    document = load_document(session, document_id, lock=True)
    _require_open(document, DocState.EXCEPTION)
    hold_claim(session, user, document, controls)
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


def comment(session: Session, user: SignedIn, document_id: int, text: str) -> Result:
    """A note on the document for whoever works on it next; any signed-in person may leave one."""
    words = text.strip()
    if not words:
        raise InvalidValue("write the comment first")
    if len(words) > MAX_COMMENT:
        raise InvalidValue(f"a comment is at most {MAX_COMMENT} characters")
    if validation.has_control(words.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise InvalidValue("the comment contains control characters")
    document = load_document(session, document_id)
    session.add(CommentRow(document_id=document.id, username=user.username, text=words, at=utcnow()))
    return Result("comment added")


def parse_amount(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidValue(f"{text[:40]!r} is not an amount") from None
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        raise InvalidValue(f"{text[:40]!r} is not an amount")
    return value


def as_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None
