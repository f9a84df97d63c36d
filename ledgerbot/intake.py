"""Receiving files into the store: content-addressed, with duplicate deliveries flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import BusinessError
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store.files import FileStore
from ledgerbot.core.store.models import DocumentRow

MAX_FILE_BYTES = 50 * 1024 * 1024

# Magic numbers first: a file's name is whatever the sender typed.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
)


def sniff_mime(data: bytes, filename: str = "") -> str:
    head = data[:1024]
    for magic, mime in _SIGNATURES:
        if head.startswith(magic):
            return mime
    # Some producers put junk before the PDF header; pdf readers accept it within 1 KiB.
    if b"%PDF-" in head:
        return "application/pdf"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "application/xml"
    if filename.lower().endswith(".eml") or head.startswith((b"From:", b"Received:", b"Return-Path:")):
        return "message/rfc822"
    return "application/octet-stream"


class UnsupportedFile(BusinessError):
    code = "E101"


INTAKE_ACTOR = Actor(name="intake", component="ledgerbot.intake")


def receive(
    session: Session,
    files: FileStore,
    data: bytes,
    *,
    filename: str,
    source: str,
    metadata: dict[str, Any] | None = None,
    actor: Actor = INTAKE_ACTOR,
) -> DocumentRow:
    """Store one delivered file and open its document in ``received``.

    The bytes are kept once per sha256. A second delivery of the same bytes still gets its own
    document row (so the mail it came with is on record) and moves straight to ``duplicate``,
    pointing at the first delivery.
    """
    if not data:
        raise UnsupportedFile(f"{filename}: the file is empty", filename=filename)
    if len(data) > MAX_FILE_BYTES:
        raise UnsupportedFile(
            f"{filename}: {len(data)} bytes is over the {MAX_FILE_BYTES} byte limit",
            filename=filename,
        )
    digest = files.put(data)
    original = session.scalars(
        select(DocumentRow)
        .where(DocumentRow.sha256 == digest, DocumentRow.duplicate_of.is_(None))
        .order_by(DocumentRow.id)
        .limit(1)
    ).first()
    document = DocumentRow(
        sha256=digest,
        source=source,
        filename=Path(filename).name or "unnamed",
        mime=sniff_mime(data, filename),
        size=len(data),
        state=None,
        meta=metadata or {},
    )
    session.add(document)
    transition(session, document, DocState.RECEIVED, actor=actor, stage="intake", input_digest=digest)
    if original is not None:
        document.duplicate_of = original.id
        transition(
            session,
            document,
            DocState.DUPLICATE,
            actor=actor,
            stage="intake",
            input_digest=digest,
            outcome="duplicate_delivery",
            detail={"duplicate_of": original.id},
        )
    return document
