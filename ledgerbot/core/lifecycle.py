"""The document state machine, enforced here and nowhere else.

Every move writes one append-only audit row in the same transaction as the state change, so
the lineage can never disagree with the document's state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import IllegalTransition, LedgerbotError
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, utcnow

S = DocState

# Every state may also fall to FAILED (a fault a retry can pick up) or REJECTED (a person's
# decision) unless it is final; those two are added below rather than repeated per row.
_FORWARD: dict[DocState, frozenset[DocState]] = {
    S.RECEIVED: frozenset({S.PARSED, S.DUPLICATE}),
    S.PARSED: frozenset({S.CLASSIFIED, S.EXCEPTION}),
    S.CLASSIFIED: frozenset({S.EXTRACTED, S.EXCEPTION}),
    S.EXTRACTED: frozenset({S.VALIDATED, S.EXCEPTION}),
    S.VALIDATED: frozenset({S.MATCHED, S.EXCEPTION}),
    S.MATCHED: frozenset({S.APPROVED, S.EXCEPTION}),
    # A clerk's correction re-runs validation (EXCEPTION -> EXCEPTION or MATCHED); sending a
    # document back re-reads it from its file (EXCEPTION -> RECEIVED).
    S.EXCEPTION: frozenset({S.EXCEPTION, S.MATCHED, S.APPROVED, S.RECEIVED}),
    # The ERP refusing an invoice is a business exception that goes back to a person.
    S.APPROVED: frozenset({S.POSTED, S.EXCEPTION}),
    # A retry restarts a failed document from the start of processing, or re-posts it.
    S.FAILED: frozenset({S.RECEIVED, S.APPROVED}),
    S.POSTED: frozenset(),
    S.REJECTED: frozenset(),
    S.DUPLICATE: frozenset(),
}

ALLOWED: dict[DocState, frozenset[DocState]] = {
    state: targets if state.is_final else targets | ({S.FAILED, S.REJECTED} - {state})
    for state, targets in _FORWARD.items()
}


# A move to FAILED must say why with a catalogue code: "ok" (or nothing) there hides the fault.
_CODE = re.compile(r"^E\d{3}$")


def can_transition(current: DocState | None, target: DocState) -> bool:
    if current is None:
        return target is S.RECEIVED
    return target in ALLOWED[current]


def input_hash(payload: Any) -> str:
    """A stable hash of whatever a stage read, so a re-run can tell it saw the same input."""
    if isinstance(payload, bytes):
        return hashlib.sha256(payload).hexdigest()
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who or what made a move: a robot, a model, a rule set, or a person."""

    name: str
    component: str | None = None
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def transition(
    session: Session,
    document: DocumentRow,
    target: DocState,
    *,
    actor: Actor,
    stage: str,
    input_digest: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEventRow:
    """Move ``document`` to ``target`` and record why, or raise ``IllegalTransition``.

    The caller owns the transaction; the state change and its audit row commit together. The
    document's claim is checked in the same transaction (``claims.guard``): a process that does
    not hold it (or lost it) cannot move the document.
    """
    from ledgerbot.core.claims import guard

    current = DocState(document.state) if document.state else None
    if not can_transition(current, target):
        raise IllegalTransition(
            f"document {document.id}: {current.value if current else 'new'} -> {target.value} "
            "is not a legal move",
            document_id=document.id,
            from_state=current,
            to_state=target,
        )
    if target is S.FAILED and not _CODE.match(outcome):
        raise LedgerbotError(
            f"document {document.id}: a move to failed needs an error code, not {outcome!r}", code="E010"
        )
    holder = guard(session, document)
    document.state = target.value
    document.updated_at = utcnow()
    event = AuditEventRow(
        document=document,
        from_state=current.value if current else None,
        to_state=target.value,
        actor=actor.name,
        stage=stage,
        component=actor.component,
        component_version=actor.version,
        input_hash=input_digest,
        outcome=outcome,
        detail={**actor.extra, **(detail or {}), **({"claim": holder} if holder else {})},
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event
