"""The one way the review app writes audit rows: every clerk action becomes one event.

A state change goes through ``ledgerbot.core.lifecycle.transition`` (which enforces the state
machine); an action that leaves the state as it is (a claim, a correction, a first approval)
is recorded as an event with ``from_state == to_state``, so the audit trail reads as one list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, utcnow

STAGE = "review"
COMPONENT = "review_app"


def user_actor(username: str) -> Actor:
    return Actor(name=f"user:{username}", component=COMPONENT)


def record(
    session: Session,
    document: DocumentRow,
    username: str,
    action: str,
    *,
    target: DocState | None = None,
    detail: dict[str, Any] | None = None,
    outcome: str = "ok",
) -> AuditEventRow:
    """Write the audit event of ``action`` by ``username`` on ``document`` (moving it to ``target``)."""
    payload = {"action": action, **(detail or {})}
    if target is not None:
        return transition(
            session,
            document,
            target,
            actor=user_actor(username),
            stage=STAGE,
            outcome=outcome,
            detail=payload,
        )
    event = AuditEventRow(
        document_id=document.id,
        from_state=document.state,
        to_state=document.state,
        actor=f"user:{username}",
        stage=STAGE,
        component=COMPONENT,
        outcome=outcome,
        detail=payload,
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event
