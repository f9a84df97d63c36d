"""How a stored file is cut into documents, and a person's correction of that cut.

``current_split`` reads the documents a file holds now: the documents the splitter cut out of it
(the file's first document and every one whose ``split_from`` points at it) or, once a person
corrected the split, the documents that correction opened. ``apply_resplit`` replaces them: the
current documents still open are rejected with the person's reason, new documents are opened in
``received`` with the corrected page ranges (processing reads each by its own pages), and the
correction is stored in ``split_corrections`` in the same transaction, where the splitter's
training reads it. The review app and ``ledgerbot resplit`` both go through ``apply_resplit``.

A file with a part already approved (or approved once, waiting for a second approver) or posted
keeps its split: nobody's sign-off or booking is replaced behind their back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import SplitCorrectionRefused
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, SplitCorrectionRow, utcnow
from ledgerbot.core.store.review import ApprovalRow

__all__ = [
    "FilePart",
    "FileSplit",
    "Resplit",
    "SplitCorrectionRefused",
    "apply_resplit",
    "check_parts",
    "current_split",
    "page_count",
    "refusal",
    "resplit",
]

STAGE = "split"
# States in which a document's split is no longer a clerk's to change.
SIGNED_OFF = (DocState.APPROVED, DocState.POSTED)


@dataclass(frozen=True)
class FilePart:
    """One document of a file: its pages (1-based, inclusive) and where it stands."""

    document_id: int
    first: int
    last: int
    state: str
    doc_type: str | None


@dataclass(frozen=True)
class FileSplit:
    """The documents a stored file holds now, in page order."""

    root_id: int  # the file's first document, which every document cut out of it points at
    sha256: str
    filename: str
    mime: str
    pages: int
    parts: tuple[FilePart, ...]

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return [(part.first, part.last) for part in self.parts]


@dataclass(frozen=True)
class Resplit:
    """What a correction did: the documents it rejected and opened, and its training record."""

    root_id: int
    before: list[tuple[int, int]]
    after: list[tuple[int, int]]
    replaced: list[int]
    created: list[int]
    correction_id: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


def page_count(data: bytes, mime: str) -> int | None:
    """Pages of a stored file (PDF pages, image frames); ``None`` for a file without pages or unreadable."""
    if mime == "application/pdf":
        import pypdfium2 as pdfium  # only a page count is needed; deferred for the CLI's start-up

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            return len(pdf)
        finally:
            pdf.close()
    if mime.startswith("image/"):
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as image:
                return int(getattr(image, "n_frames", 1) or 1)
        except OSError:
            return None
    return None


def check_parts(parts: Sequence[tuple[int, int]], pages: int) -> list[tuple[int, int]]:
    """The page ranges as given, or ``SplitCorrectionRefused`` when they cannot be a file's documents."""
    if not parts:
        raise SplitCorrectionRefused("a corrected split needs at least one page range")
    previous = 0
    for first, last in parts:
        if not previous < first <= last:
            raise SplitCorrectionRefused(
                "page ranges must be ascending and not overlap, each first <= last: got "
                + ", ".join(f"{a}-{b}" for a, b in parts)
            )
        previous = last
    if previous > pages:
        raise SplitCorrectionRefused(f"the file has {pages} page(s); a range ends at page {previous}")
    return [(int(first), int(last)) for first, last in parts]


def _family(session: Session, root_id: int) -> list[DocumentRow]:
    return list(
        session.scalars(
            select(DocumentRow)
            .where(or_(DocumentRow.id == root_id, DocumentRow.split_from == root_id))
            .order_by(DocumentRow.id)
        )
    )


def _current_rows(session: Session, document_id: int) -> tuple[DocumentRow, list[DocumentRow]]:
    document = session.get(DocumentRow, document_id)
    if document is None:
        raise SplitCorrectionRefused(f"no document {document_id}")
    root = session.get(DocumentRow, document.split_from or document.id)
    assert root is not None  # a foreign key
    family = _family(session, root.id)
    newest = session.scalars(
        select(SplitCorrectionRow)
        .where(SplitCorrectionRow.document_id == root.id)
        .order_by(SplitCorrectionRow.id.desc())
        .limit(1)
    ).first()
    if newest is not None:
        # Once corrected, the file holds what the newest correction opened, whatever became of them.
        opened = set(newest.created)
        family = [row for row in family if row.id in opened]
    return root, family


def current_split(session: Session, document_id: int, pages: int) -> FileSplit:
    """The documents the file of ``document_id`` holds now; ``pages`` is the file's page count."""
    return _split_of(*_current_rows(session, document_id), pages)


def _split_of(root: DocumentRow, rows: list[DocumentRow], pages: int) -> FileSplit:
    parts = sorted(
        (
            FilePart(
                document_id=row.id,
                first=row.page_first or 1,
                last=row.page_last or pages,
                state=row.state,
                doc_type=row.doc_type,
            )
            for row in rows
        ),
        key=lambda part: (part.first, part.document_id),
    )
    return FileSplit(root.id, root.sha256, root.filename, root.mime, pages, tuple(parts))


def refusal(session: Session, split: FileSplit) -> SplitCorrectionRefused | None:
    """Why the split of this file cannot be changed now, or ``None`` when it can."""
    signed = [part for part in split.parts if DocState(part.state) in SIGNED_OFF]
    if signed:
        named = ", ".join(f"{part.document_id} ({part.state})" for part in signed)
        return SplitCorrectionRefused(
            f"document(s) {named} of this file are already signed off; the split stays as it is "
            "(reject them first if they are wrong)"
        )
    ids = [part.document_id for part in split.parts if not DocState(part.state).is_final]
    approvals = (
        session.execute(
            select(ApprovalRow.document_id, ApprovalRow.username)
            .where(ApprovalRow.document_id.in_(ids))
            .order_by(ApprovalRow.id)
        ).all()
        if ids
        else []
    )
    if approvals:
        named = ", ".join(f"{document_id} (by {username})" for document_id, username in approvals)
        return SplitCorrectionRefused(
            f"document(s) {named} of this file carry an approval; the split stays as it is "
            "(reject them first if they are wrong)"
        )
    return None


def apply_resplit(
    session: Session,
    document_id: int,
    parts: Sequence[tuple[int, int]],
    *,
    actor: Actor,
    reason: str,
    pages: int,
) -> Resplit:
    """Replace the documents of ``document_id``'s file by ``parts``, in the caller's transaction.

    Equal ``parts`` confirm the split: the documents are opened again from the same pages, now
    without the splitter's doubt, and the confirmation is a training example like any correction.
    """
    after = check_parts(parts, pages)
    root, members = _current_rows(session, document_id)
    split = _split_of(root, members, pages)
    refused = refusal(session, split)
    if refused is not None:
        raise refused
    before = split.ranges
    created: list[DocumentRow] = []
    for k, (first, last) in enumerate(after, start=1):
        row = DocumentRow(
            sha256=root.sha256,
            source=root.source,
            filename=root.filename,
            mime=root.mime,
            size=root.size,
            state=None,
            meta={**(root.meta or {}), "part": [k, len(after)], "split_by": actor.name},
            split_from=root.id,
            page_first=first,
            page_last=last,
        )
        session.add(row)
        transition(
            session,
            row,
            DocState.RECEIVED,
            actor=actor,
            stage=STAGE,
            input_digest=root.sha256,
            outcome="resplit",
            detail={
                "action": "resplit",
                "split_from": root.id,
                "pages": [first, last],
                "part": [k, len(after)],
                "reason": reason,
            },
        )
        created.append(row)
    session.flush()
    opened = [row.id for row in created]
    now = utcnow()
    replaced = []
    for row in members:
        if DocState(row.state).is_final:
            continue
        for exception in session.scalars(
            select(ExceptionRow).where(ExceptionRow.document_id == row.id, ExceptionRow.status == "open")
        ):
            exception.status = "resolved"
            exception.resolved_at = now
            exception.resolved_by = f"split corrected by {actor.name}"[:100]
        transition(
            session,
            row,
            DocState.REJECTED,
            actor=actor,
            stage=STAGE,
            outcome="resplit",
            detail={
                "action": "resplit",
                "before": [list(p) for p in before],
                "parts": [list(p) for p in after],
                "replaced_by": opened,
                "reason": reason,
            },
        )
        replaced.append(row.id)
    correction = SplitCorrectionRow(
        document_id=root.id,
        sha256=root.sha256,
        pages=pages,
        before=[list(p) for p in before],
        after=[list(p) for p in after],
        replaced=replaced,
        created=opened,
        actor=actor.name[:100],
        reason=reason,
        at=now,
    )
    session.add(correction)
    session.flush()
    return Resplit(root.id, before, after, replaced, opened, correction.id)


def resplit(
    store: Store,
    files: FileStore,
    document_id: int,
    parts: Sequence[tuple[int, int]],
    *,
    clerk: str,
    reason: str = "",
) -> Resplit:
    """``apply_resplit`` in its own transaction, the page count read from the stored file."""
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        if document is None:
            raise SplitCorrectionRefused(f"no document {document_id}")
        if not files.exists(document.sha256):
            raise SplitCorrectionRefused(f"the file of document {document_id} is not in the file store")
        pages = page_count(files.get(document.sha256), document.mime)
        if pages is None:
            raise SplitCorrectionRefused(f"the file of document {document_id} ({document.mime}) has no pages")
        return apply_resplit(
            session,
            document_id,
            parts,
            actor=Actor(name=f"user:{clerk}", component="ledgerbot resplit"),
            reason=reason,
            pages=pages,
        )
