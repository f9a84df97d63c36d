"""Receiving files into the store: content-addressed, with duplicate deliveries flagged.

A file that cannot be taken (empty, over the limit, not a regular file, unreadable) becomes a
``failed`` document with its code, so it is visible and counted, and the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import LedgerbotError, UnsupportedFile, as_coded
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.safe_files import MAX_FILE_BYTES, display_name, read_regular_file
from ledgerbot.core.store import Store
from ledgerbot.core.store.files import FileStore, sha256_bytes
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.cost import DETAIL_KEY, CpuMeter

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
    cpu_seconds: float = 0.0,
) -> DocumentRow:
    """Store one delivered file and open its document in ``received``.

    ``cpu_seconds``: what the caller spent on this file before (reading it, its share of parsing
    its mail); with the time storing it takes, it is the document's ``intake`` cost.

    The bytes are kept once per sha256. A second delivery of the same bytes still gets its own
    document row (so the mail it came with is on record) and moves straight to ``duplicate``,
    pointing at the first delivery. The file name is stored escaped for display (control and
    bidi characters as ``\\uXXXX``); the name as sent stays in the metadata.
    """
    meter = CpuMeter()
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
        filename=display_name(Path(filename).name)[:500] or "unnamed",
        mime=sniff_mime(data, filename),
        size=len(data),
        state=None,
        meta=_with_raw_name(metadata, filename),
    )
    session.add(document)
    cost = {DETAIL_KEY: {"intake": round(cpu_seconds + meter.lap(), 6)}}
    transition(
        session, document, DocState.RECEIVED, actor=actor, stage="intake", input_digest=digest, detail=cost
    )
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


def _with_raw_name(metadata: dict[str, Any] | None, filename: str) -> dict[str, Any]:
    meta = dict(metadata or {})
    name = Path(filename).name
    if display_name(name) != name:
        meta["filename_as_sent"] = name
    return meta


@dataclass(frozen=True)
class Received:
    """What became of one file given to the intake."""

    document_id: int
    state: str
    sha256: str
    duplicate_of: int | None = None
    code: str | None = None
    already_received: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.document_id,
            "sha256": self.sha256,
            "state": self.state,
            "duplicate_of": self.duplicate_of,
        }
        if self.code:
            out["code"] = self.code
        if self.already_received:
            out["already_received"] = True
        return out


def _already(session: Session, source: str, digest: str | None) -> DocumentRow | None:
    """The document an earlier run made for this very delivery (same source, same bytes)."""
    query = select(DocumentRow).where(DocumentRow.source == source)
    if digest is not None:
        query = query.where(DocumentRow.sha256 == digest)
    else:
        query = query.where(DocumentRow.state == DocState.FAILED.value, DocumentRow.size == 0)
    return session.scalars(query.order_by(DocumentRow.id).limit(1)).first()


def _result(document: DocumentRow, *, code: str | None = None, already: bool = False) -> Received:
    return Received(document.id, document.state, document.sha256, document.duplicate_of, code, already)


def record_failed(
    session: Session,
    files: FileStore,
    error: LedgerbotError,
    *,
    filename: str,
    source: str,
    data: bytes = b"",
    actor: Actor = INTAKE_ACTOR,
) -> DocumentRow:
    """A delivery that could not be taken, as a ``failed`` document carrying the error's code.

    Whatever bytes were read are kept; a file that could not be read at all is recorded with
    no content (size 0) and its path in the metadata.
    """
    digest = files.put(data)
    document = DocumentRow(
        sha256=digest,
        source=source,
        filename=display_name(Path(filename).name)[:500] or "unnamed",
        mime=sniff_mime(data, filename) if data else "application/octet-stream",
        size=len(data),
        state=None,
        meta=_with_raw_name({"intake_error": error.as_dict()}, filename),
    )
    session.add(document)
    transition(session, document, DocState.RECEIVED, actor=actor, stage="intake", input_digest=digest)
    transition(
        session,
        document,
        DocState.FAILED,
        actor=actor,
        stage="intake",
        input_digest=digest,
        outcome=error.code,
        detail=error.as_dict(),
    )
    return document


def receive_path(store: Store, files: FileStore, path: Path, *, source: str) -> Received:
    """Receive one file from disk, whatever it is: never raises for a bad file.

    Running it again over the same file (a retried folder run) returns the document of the
    first run (``already_received``) instead of recording the delivery twice.
    """
    where = f"{source}:{display_name(str(path))}"[:500]
    meter = CpuMeter()
    data: bytes | None = None
    try:
        data = read_regular_file(path)
        if not data:
            raise UnsupportedFile(
                f"{display_name(path.name)}: the file is empty", filename=display_name(path.name)
            )
        failure: LedgerbotError | None = None
    except Exception as error:  # every cause is this file's failure, not the batch's
        failure = as_coded(error)
    digest = sha256_bytes(data) if data else None
    with store.session() as session:
        earlier = _already(session, where, digest)
        if earlier is not None:
            return _result(earlier, already=True, code=failure.code if failure else None)
        if failure is not None:
            return _result(
                record_failed(session, files, failure, filename=path.name, source=where), code=failure.code
            )
        assert data is not None
        document = receive(session, files, data, filename=path.name, source=where, cpu_seconds=meter.lap())
        return _result(document)


def folder_entries(folder: Path, *, skip: tuple[str, ...] = ()) -> list[Path]:
    """Every entry under ``folder`` to receive, sorted: real sub-folders are walked, and anything
    else (FIFOs, devices, links to folders included) is an entry, so it is recorded, not skipped.

    Hidden entries, ``.json`` sidecars (ground truth beside sample documents) and the sub-folders
    named in ``skip`` are left out.
    """
    out: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in skip:
            continue
        if entry.is_dir() and not entry.is_symlink():
            out.extend(folder_entries(entry))
        elif entry.suffix != ".json":
            out.append(entry)
    return out
