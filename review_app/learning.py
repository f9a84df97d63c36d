"""Learning from corrections: labelled examples out of the store, and template drafts for new vendors.

Every correction is a ``CorrectionRow`` (what was read, what a person says is right, where it
sat on the page). ``export_corpus`` writes the corrected documents as a labelled corpus in the
ground-truth format of ``shared/contracts/extraction.md`` (file + ``<stem>.json``), which is
what classifier retraining and ``ledgerbot eval`` read.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerbot.domain import ExtractionResult
from ledgerbot.store import FileStore
from ledgerbot.store.models import DocumentRow
from ledgerbot.store.queries import latest_extraction
from review_app.models import CorrectionRow

# The extraction engineer's template drafting; offered only where it is installed.
DRAFTING_MODULE = "extractors.templates.draft"
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"}


def drafting_available() -> bool:
    try:
        return importlib.util.find_spec(DRAFTING_MODULE) is not None
    except ModuleNotFoundError:
        return False


@dataclass(frozen=True)
class DraftOffer:
    vendor_id: str
    corrections: int


def draft_offer(session: Session, document: DocumentRow) -> DraftOffer | None:
    """A template draft is offered for a vendor without a template once people corrected its documents."""
    if not document.vendor_id or not drafting_available():
        return None
    count = session.scalar(select(func.count()).where(CorrectionRow.vendor_id == document.vendor_id)) or 0
    if count == 0:
        return None
    return DraftOffer(vendor_id=document.vendor_id, corrections=count)


def corrected_documents(session: Session, kinds: tuple[str, ...] | None = None) -> Iterator[DocumentRow]:
    query = select(CorrectionRow.document_id).distinct()
    if kinds:
        query = query.where(CorrectionRow.kind.in_(kinds))
    ids = sorted(session.scalars(query))
    for start in range(0, len(ids), 200):
        yield from session.scalars(
            select(DocumentRow).where(DocumentRow.id.in_(ids[start : start + 200])).order_by(DocumentRow.id)
        )


def _stem(document: DocumentRow) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(document.filename).stem)[:80] or "document"
    return f"{document.id:07d}-{base}"


def export_corpus(
    session: Session, files: FileStore, out_dir: Path, kinds: tuple[str, ...] | None = None
) -> Iterator[dict[str, object]]:
    """Write each corrected document and its ground truth into ``out_dir``; yields one record per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for document in corrected_documents(session, kinds):
        extraction = latest_extraction(session, document.id)
        if extraction is None or not files.exists(document.sha256):
            continue
        result = ExtractionResult.model_validate(extraction.result)
        stem = _stem(document)
        suffix = _EXTENSIONS.get(document.mime) or Path(document.filename).suffix or ".bin"
        (out_dir / f"{stem}{suffix}").write_bytes(files.get(document.sha256))
        truth: dict[str, object] = {"doc_type": result.doc_type.value if result.doc_type else None}
        if result.doc_type is not None and result.doc_type.is_payable:
            dumped = result.model_dump(mode="json")
            truth["fields"] = dumped["fields"]
            truth["lines"] = dumped["lines"]
        (out_dir / f"{stem}.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
        yield {"document_id": document.id, "file": f"{stem}{suffix}", "doc_type": truth["doc_type"]}
