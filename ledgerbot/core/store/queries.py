"""Read-side queries over the store that several commands and apps share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import DocumentNotFound
from ledgerbot.core.store.models import (
    AuditEventRow,
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    SplitCorrectionRow,
)


def state_counts(session: Session) -> dict[str, int]:
    """Documents per life-cycle state, every state listed (zero included)."""
    rows = session.execute(select(DocumentRow.state, func.count()).group_by(DocumentRow.state))
    counts = {state.value: 0 for state in DocState}
    counts.update({state: n for state, n in rows})
    return counts


def get_document(session: Session, ref: str | int) -> DocumentRow:
    """A document by numeric id or by (a unique prefix of) its sha256."""
    text = str(ref)
    if text.isdigit():
        document = session.get(DocumentRow, int(text))
    else:
        matches = session.scalars(
            select(DocumentRow).where(DocumentRow.sha256.startswith(text)).order_by(DocumentRow.id)
        ).all()
        document = matches[0] if len(text) >= 6 and matches else None
    if document is None:
        raise DocumentNotFound(f"no document {text!r} in the store", ref=text)
    return document


def latest_extraction(session: Session, document_id: int) -> ExtractionRow | None:
    return session.scalars(
        select(ExtractionRow)
        .where(ExtractionRow.document_id == document_id)
        .order_by(ExtractionRow.id.desc())
        .limit(1)
    ).first()


def document_history(session: Session, document: DocumentRow) -> dict[str, Any]:
    """Everything a clerk or auditor needs to see why a document is where it is."""
    events = session.scalars(
        select(AuditEventRow).where(AuditEventRow.document_id == document.id).order_by(AuditEventRow.id)
    ).all()
    exceptions = session.scalars(
        select(ExceptionRow).where(ExceptionRow.document_id == document.id).order_by(ExceptionRow.id)
    ).all()
    extraction = latest_extraction(session, document.id)
    return {
        "id": document.id,
        "sha256": document.sha256,
        "filename": document.filename,
        "source": document.source,
        "mime": document.mime,
        "size": document.size,
        "state": document.state,
        "doc_type": document.doc_type,
        "doc_type_confidence": document.doc_type_confidence,
        "duplicate_of": document.duplicate_of,
        # A document cut out of a file holding several: the file's first document and its pages.
        "split_from": document.split_from,
        "pages": [document.page_first, document.page_last] if document.page_first else None,
        "metadata": document.meta,
        "received_at": document.received_at.isoformat(),
        "extraction": extraction.result if extraction else None,
        "exceptions": [
            {"code": e.code, "message": e.message, "evidence": e.evidence, "status": e.status}
            for e in exceptions
        ],
        "history": [
            {
                "at": e.at.isoformat(),
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor,
                "stage": e.stage,
                "component": e.component,
                "component_version": e.component_version,
                "input_hash": e.input_hash,
                "outcome": e.outcome,
                "detail": e.detail,
            }
            for e in events
        ],
    }


@dataclass(frozen=True)
class SplitExample:
    """A stored file and where its documents lie, as a person last said (pages 1-based, inclusive)."""

    sha256: str
    mime: str
    pages: int | None  # the file's page count when the person corrected it
    parts: tuple[tuple[int, int], ...]
    actor: str
    at: datetime


def split_examples(session: Session) -> list[SplitExample]:
    """Every file whose split a person corrected or confirmed, with their newest word on it.

    This is how the splitter's training reads the review app's corrections: as data from the
    store, never through the app.
    """
    newest: dict[str, SplitExample] = {}
    rows = session.execute(
        select(SplitCorrectionRow, DocumentRow.mime)
        .join(DocumentRow, DocumentRow.id == SplitCorrectionRow.document_id)
        .order_by(SplitCorrectionRow.id)
    )
    for correction, mime in rows:
        newest[correction.sha256] = SplitExample(
            sha256=correction.sha256,
            mime=mime,
            pages=correction.pages,
            parts=tuple((int(first), int(last)) for first, last in correction.after),
            actor=correction.actor,
            at=correction.at,
        )
    return sorted(newest.values(), key=lambda example: example.at)
