"""Sending ``failed`` documents back for another try, with who asked and why on record."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ledgerbot.core.claims import claimed
from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import LedgerbotError, RetryRefused
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow
from ledgerbot.core.store.queries import get_document

# A failure at posting goes back to ``approved`` (post again); any other to ``received``.
_RESUME_AT = {"post": DocState.APPROVED}


@dataclass(frozen=True)
class Retried:
    document_id: int
    code: str
    to_state: str

    def as_dict(self) -> dict[str, object]:
        return {"id": self.document_id, "failed_with": self.code, "state": self.to_state}


def default_actor() -> str:
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "user:unknown"


def _last_failure(store: Store, document_id: int) -> AuditEventRow | None:
    with store.session() as session:
        return session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.document_id == document_id, AuditEventRow.to_state == DocState.FAILED.value)
            .order_by(AuditEventRow.id.desc())
            .limit(1)
        ).first()


def code_matches(code: str, wanted: str) -> bool:
    """``E204`` matches itself; ``E2xx`` (or ``E2``) every code that starts with ``E2``."""
    prefix = wanted.upper().rstrip("X")
    return code == wanted.upper() if prefix == wanted.upper() else code.startswith(prefix)


def failed_ids(store: Store, code: str | None = None) -> list[int]:
    with store.session() as session:
        ids = list(
            session.scalars(
                select(DocumentRow.id)
                .where(DocumentRow.state == DocState.FAILED.value)
                .order_by(DocumentRow.id)
            )
        )
    if code is None:
        return ids
    out = []
    for doc_id in ids:
        last = _last_failure(store, doc_id)
        if last is not None and code_matches(last.outcome, code):
            out.append(doc_id)
    return out


def retry(store: Store, document_id: int, *, reason: str, by: str) -> Retried:
    """Move one failed document back to where its stage starts again; raises RetryRefused if not failed."""
    if not reason.strip():
        raise LedgerbotError("a retry needs a reason (--reason)", code="E015")
    last = _last_failure(store, document_id)
    if last is not None and last.stage == "intake":
        raise RetryRefused(
            f"document {document_id} was never taken in ({last.outcome}); fix the file and deliver it again",
            document_id=document_id,
        )
    resume = _RESUME_AT.get(last.stage if last else "", DocState.RECEIVED)
    failed = [DocState.FAILED.value]
    with (
        claimed(store, document_id, ttl=timedelta(minutes=1), states=failed) as ours,
        store.session() as session,
    ):
        document = session.get(DocumentRow, document_id)
        if document is None:
            raise LedgerbotError(f"no document {document_id}", code="E011")
        if not ours:
            raise RetryRefused(
                f"document {document_id} is {document.state}, not failed; only failed documents are retried",
                document_id=document_id,
            )
        code = last.outcome if last else "E099"
        transition(
            session,
            document,
            resume,
            actor=Actor(name=by, component="ledgerbot retry"),
            stage="retry",
            outcome="retry",
            detail={
                "reason": reason,
                "failed_with": code,
                "failed_at_stage": last.stage if last else None,
            },
        )
        return Retried(document_id, code, document.state)


def resolve(store: Store, ref: str) -> int:
    with store.session() as session:
        return get_document(session, ref).id
