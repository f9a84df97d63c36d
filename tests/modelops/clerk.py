"""What a clerk's correction leaves in the store, for the canary and shadow tests."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from ledgerbot.core.store.review import CorrectionRow


def correct(session: Session, document: DocumentRow, kind: str, target: str, new_value: str) -> None:
    """A clerk set ``target`` (a field, or the document type) of ``document`` to ``new_value``."""
    extraction = ExtractionRow(document_id=document.id, result={})
    session.add(extraction)
    session.flush()
    session.add(
        CorrectionRow(
            document_id=document.id,
            vendor_id=document.vendor_id,
            kind=kind,
            target=target,
            old_value=None,
            new_value=new_value,
            extraction_id=extraction.id,
            username="clerk",
        )
    )
