"""The processing stages: read, classify, extract, validate and match one stored document.

Each stage is idempotent: a document already past a stage is not run through it again, and a
document that stopped half-way (a crashed worker) continues from the last state it committed.
Every move is written with its lineage (text backend, model and version, template and version,
policy version), so a clerk or an auditor can see what made each decision.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.claims import claimed, process_holder, release, try_claim
from ledgerbot.core.domain import DocState, DocType, ExtractionResult
from ledgerbot.core.errors import (
    DocumentNotFound,
    LedgerbotError,
    OriginalMissing,
    ProcessingInterrupted,
    SplitUncertain,
    error_code,
)
from ledgerbot.core.lifecycle import Actor, input_hash, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, ExtractionRow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.cost import DETAIL_KEY, CpuMeter

S = DocState
PIPELINE = "robot:process"


@dataclass(frozen=True)
class ReadRequest:
    data: bytes
    filename: str
    source: str
    # Only these pages (1-based, inclusive): a document cut out of a file that held several.
    pages: tuple[int, int] | None = None


class DocumentReader(Protocol):
    """Turns files into ``ledgerbot extract`` results (text layer, type, fields, lines), in order.

    Many at once, so models load once and OCR pages of a batch share the worker pool. A reader
    that splits files gives a file holding several documents one result per document, each with
    ``part`` ``[k, n]``, one after the other.
    """

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]: ...


class PipelineReader:
    """The production reader: the extraction pipeline of ``ledgerbot.pipeline``."""

    def __init__(self, **options: Any) -> None:
        from ledgerbot.core.settings import get_settings
        from ledgerbot.pipeline import Extractor

        options.setdefault("split", get_settings().worker.split_files)
        self.extractor = Extractor(**options)

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
        from ledgerbot.pipeline import Source

        sources = (Source(name=r.source, data=r.data, pages=r.pages) for r in requests)
        yield from self.extractor.extract_sources(sources)


@dataclass
class ProcessOutcome:
    document_id: int
    state: str
    doc_type: str | None = None
    codes: list[str] = field(default_factory=list)
    skipped: bool = False
    # Another process holds the document's claim: it was left to that process.
    busy: bool = False
    # The documents cut out of this one's file after its first (each processed on its own).
    parts: list[ProcessOutcome] = field(default_factory=list)


def _actor(name: str, lineage: dict[str, str], *keys: str) -> Actor:
    """The component that made a decision, from the result's lineage (``name@version``)."""
    ref = next((lineage[key] for key in keys if lineage.get(key)), "")
    component, _, version = ref.partition("@")
    return Actor(name=PIPELINE, component=component or name, version=version or None)


def _read(session: Session, document: DocumentRow, result: ExtractionResult) -> ExtractionResult | None:
    """received -> parsed -> classified -> extracted (or failed / rejected / exception)."""
    digest = document.sha256
    lineage = result.lineage
    reader = _actor("textlayer", lineage, "text_layer", "einvoice")
    # What the read cost, per stage (text layer, classify, extract, shadow), with the move it ends in.
    cost = {DETAIL_KEY: result.cpu_seconds} if result.cpu_seconds else {}
    if result.doc_type is None:
        # Unreadable (corrupt, encrypted, unsupported): visible as failed with its code, and a
        # retry (failed -> received) picks it up once the file or the reader is fixed.
        error = result.errors[0] if result.errors else None
        transition(
            session,
            document,
            S.FAILED,
            actor=reader,
            stage="parse",
            input_digest=digest,
            outcome=error.code if error else "E200",
            detail={"errors": [e.model_dump(mode="json") for e in result.errors], **cost},
        )
        return None
    transition(session, document, S.PARSED, actor=reader, stage="parse", input_digest=digest, detail=cost)
    document.doc_type = result.doc_type.value
    document.doc_type_confidence = result.doc_type_confidence
    classifier = _actor("classifier", lineage, "classifier", "einvoice")
    transition(
        session,
        document,
        S.CLASSIFIED,
        actor=classifier,
        stage="classify",
        input_digest=digest,
        outcome=result.doc_type.value,
        detail={
            "confidence": result.doc_type_confidence,
            "route": lineage.get("classifier_route"),
            "model": lineage.get("classifier_model"),
        },
    )
    extraction = ExtractionRow(
        document_id=document.id,
        method=result.method,
        result=result.model_dump(mode="json"),
        created_by=PIPELINE,
    )
    split_doubt = next((e for e in result.errors if e.code == SplitUncertain.code), None)
    if split_doubt is not None:
        # Where this document begins or ends in its file is a guess: a clerk confirms the split.
        session.add(extraction)
        session.add(
            ExceptionRow(
                document_id=document.id,
                code="SPLIT_UNCERTAIN",
                message=split_doubt.message,
                evidence={
                    "pages": str(result.pages),
                    "splitter": lineage.get("splitter", ""),
                    "confidence": lineage.get("split_confidence", ""),
                    "doubtful_pages": lineage.get("split_doubts", ""),
                },
            )
        )
        transition(
            session,
            document,
            S.EXCEPTION,
            actor=_actor("splitter", lineage, "splitter"),
            stage="split",
            input_digest=digest,
            outcome="SPLIT_UNCERTAIN",
        )
        return None
    if lineage.get("classifier_low_confidence") == "true":
        # Not sure enough of the type to act on it: a clerk confirms the type first.
        session.add(extraction)
        session.add(
            ExceptionRow(
                document_id=document.id,
                code="LOW_CONFIDENCE",
                message=f"document type {result.doc_type.value} guessed with confidence "
                f"{result.doc_type_confidence or 0:.2f}; a clerk must confirm it",
                evidence={
                    "doc_type": result.doc_type.value,
                    "confidence": str(result.doc_type_confidence),
                    "classifier": lineage.get("classifier", ""),
                },
            )
        )
        transition(
            session,
            document,
            S.EXCEPTION,
            actor=classifier,
            stage="classify",
            input_digest=digest,
            outcome="LOW_CONFIDENCE",
        )
        return None
    if not result.doc_type.is_payable:
        # Not something AP books (a delivery note, a statement, marketing mail): filed, with the
        # classifier's reason on record; a clerk can reopen it if the type was wrong.
        transition(
            session,
            document,
            S.REJECTED,
            actor=classifier,
            stage="classify",
            input_digest=digest,
            outcome="not_payable",
            detail={"doc_type": result.doc_type.value},
        )
        return None
    session.add(extraction)
    transition(
        session,
        document,
        S.EXTRACTED,
        actor=_actor(result.method or "extractor", lineage, "template", "einvoice", "extractor"),
        stage="extract",
        input_digest=digest,
        outcome=result.method or "unknown",
        detail={"lineage": lineage, "field_confidence": result.field_confidence},
    )
    return result


def _match(
    session: Session,
    document: DocumentRow,
    result: ExtractionResult,
    policy_path: Path | None,
    today: date | None,
    auto_approve: bool,
) -> list[str]:
    """extracted -> validated -> matched | exception, then matched -> approved when straight-through."""
    from ledgerbot.cases import build_case, load_policy_cached, lock_vendor, record_decision
    from rules.case import parse_case
    from rules.engine import evaluate

    meter = CpuMeter()
    policy = load_policy_cached(str(policy_path) if policy_path else None)
    case = parse_case(build_case(session, document, result, today=today), source=f"document {document.id}")
    decision = evaluate(case, policy)
    if decision.vendor_id and lock_vendor(session, decision.vendor_id):
        # Judge again under the vendor's lock: a copy matched meanwhile is now in the history.
        case = parse_case(
            build_case(session, document, result, today=today), source=f"document {document.id}"
        )
        decision = evaluate(case, policy)
    digest = input_hash(case.model_dump(mode="json"))
    rules = Actor(name=PIPELINE, component="rules", version=decision.policy_version)
    if decision.vendor_id:
        document.vendor_id = decision.vendor_id
    if document.state == S.EXTRACTED:
        transition(
            session,
            document,
            S.VALIDATED,
            actor=rules,
            stage="validate",
            input_digest=digest,
            detail={
                "vendor_id": decision.vendor_id,
                "vendor_match": decision.vendor_match,
                DETAIL_KEY: {"validate": round(meter.lap(), 6)},
            },
        )
    extraction = latest_extraction(session, document.id)
    record_decision(
        session, document.id, extraction.id if extraction else None, decision.model_dump(mode="json")
    )
    for exc in decision.exceptions:
        session.add(
            ExceptionRow(document_id=document.id, code=exc.code, message=exc.message, evidence=exc.evidence)
        )
    target = S.MATCHED if decision.decision == "matched" else S.EXCEPTION
    transition(
        session,
        document,
        target,
        actor=rules,
        stage="match",
        input_digest=digest,
        outcome=decision.decision,
        detail={
            "codes": decision.codes,
            "po_number": decision.po_number,
            "needs_second_approver": decision.needs_second_approver,
            DETAIL_KEY: {"match": round(meter.lap(), 6)},
        },
    )
    if target is S.MATCHED and auto_approve and not decision.needs_second_approver:
        transition(
            session,
            document,
            S.APPROVED,
            actor=rules,
            stage="approve",
            input_digest=digest,
            outcome="straight_through",
            detail={"policy_version": decision.policy_version},
        )
    return decision.codes


PENDING_STATES = (S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED)
_UNREAD = (S.RECEIVED, S.PARSED, S.CLASSIFIED)


def claim_ttl() -> timedelta:
    from ledgerbot.core.settings import get_settings

    return timedelta(seconds=get_settings().processing.claim_seconds)


def take_parts(first: ExtractionResult, results: Iterator[ExtractionResult]) -> list[ExtractionResult]:
    """All results of one file: ``first`` and, when the reader split the file, its further documents."""
    parts = [first]
    total = first.part[1] if first.part else 1
    while len(parts) < total:
        try:
            parts.append(next(results))
        except StopIteration as error:
            raise LedgerbotError(
                "the reader gave fewer documents than the file holds", code="E098"
            ) from error
    return parts


def _split_off(store: Store, document_id: int, parts: list[ExtractionResult]) -> list[int]:
    """The file's first document keeps the file; every further document gets its own row and life cycle.

    The bytes stay stored once (by sha256); each new row points at the first with ``split_from``
    and knows its pages, so it can be read again on its own.
    """
    with store.session() as session:
        original = session.get(DocumentRow, document_id)
        assert original is not None
        first = parts[0].pages
        original.page_first, original.page_last = (first[0], first[1]) if first else (None, None)
        created: list[DocumentRow] = []
        for result in parts[1:]:
            pages: list[int | None] = list(result.pages) if result.pages else [None, None]
            row = DocumentRow(
                sha256=original.sha256,
                source=original.source,
                filename=original.filename,
                mime=original.mime,
                size=original.size,
                state=None,
                meta={**(original.meta or {}), "part": result.part},
                split_from=original.id,
                page_first=pages[0],
                page_last=pages[1],
            )
            session.add(row)
            transition(
                session,
                row,
                S.RECEIVED,
                actor=_actor("splitter", result.lineage, "splitter"),
                stage="split",
                input_digest=original.sha256,
                outcome="split",
                detail={"split_from": original.id, "pages": result.pages, "part": result.part},
            )
            created.append(row)
        session.flush()
        return [row.id for row in created]


def process_document(
    store: Store,
    files: FileStore,
    document_id: int,
    reader: DocumentReader,
    *,
    prepared: ExtractionResult | None = None,
    more_parts: list[ExtractionResult] | None = None,
    policy_path: Path | None = None,
    today: date | None = None,
    auto_approve: bool = True,
    holder: str | None = None,
) -> ProcessOutcome:
    """Run one document through every stage it has not passed yet, each in its own transaction.

    The document is claimed first; one claimed by another process is left to it (``skipped``).
    The file is read outside any transaction, so a long OCR never holds the store's write lock.
    """
    holder = holder or process_holder()
    with claimed(store, document_id, holder=holder, ttl=claim_ttl(), states=PENDING_STATES) as ours:
        if not ours:
            with store.session() as session:
                document = session.get(DocumentRow, document_id)
                if document is None:
                    raise DocumentNotFound(f"no document {document_id}", document_id=document_id)
                return ProcessOutcome(
                    document.id,
                    document.state,
                    document.doc_type,
                    skipped=True,
                    busy=document.state in PENDING_STATES,
                )
        outcome, split_off, parts = _process_claimed(
            store,
            files,
            document_id,
            reader,
            prepared,
            list(more_parts or []),
            policy_path,
            today,
            auto_approve,
        )
    # The further documents of the file, each claimed and run through the stages on its own.
    for new_id, part in zip(split_off, parts, strict=True):
        outcome.parts.append(
            process_document(
                store,
                files,
                new_id,
                reader,
                prepared=part,
                policy_path=policy_path,
                today=today,
                auto_approve=auto_approve,
                holder=holder,
            )
        )
    return outcome


def _process_claimed(
    store: Store,
    files: FileStore,
    document_id: int,
    reader: DocumentReader,
    prepared: ExtractionResult | None,
    more_parts: list[ExtractionResult],
    policy_path: Path | None,
    today: date | None,
    auto_approve: bool,
) -> tuple[ProcessOutcome, list[int], list[ExtractionResult]]:
    """The stages of one claimed document; with the ids and readings of the documents split off it."""
    split_off: list[int] = []
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None  # claimed, so it exists
        if document.state in (S.PARSED, S.CLASSIFIED):
            # A process died between stages of one read: start the read again from the file.
            recover = Actor(PIPELINE)
            transition(
                session,
                document,
                S.FAILED,
                actor=recover,
                stage="recover",
                outcome=ProcessingInterrupted.code,
            )
            transition(session, document, S.RECEIVED, actor=recover, stage="recover", outcome="retry")
        unread = document.state == S.RECEIVED
        pages = _pages(document)
        request = ReadRequest(b"", document.filename, f"doc:{document.id}", pages=pages) if unread else None
        sha = document.sha256
    result: ExtractionResult | None = None
    if request is not None:
        if prepared is None:
            request = ReadRequest(files.get(sha), request.filename, request.source, pages=pages)
            results = iter(reader.extract_many([request]))
            prepared, *more_parts = take_parts(next(results), results)
        # A file that held several documents: this one keeps the file and its first pages, every
        # further document becomes a document of its own, processed (and claimed) after this one.
        if more_parts:
            split_off = _split_off(store, document_id, [prepared, *more_parts])
        with store.session() as session:
            document = session.get(DocumentRow, document_id)
            assert document is not None
            result = _read(session, document, prepared)
            state = document.state
            from ledgerbot.trials import record_trial

            record_trial(session, document, prepared)
    else:
        with store.session() as session:
            document = session.get(DocumentRow, document_id)
            assert document is not None
            state = document.state
            if state in (S.EXTRACTED, S.VALIDATED):
                row = latest_extraction(session, document.id)
                result = ExtractionResult.model_validate(row.result) if row else None
            else:
                skipped = ProcessOutcome(document.id, document.state, document.doc_type, skipped=True)
                return skipped, split_off, more_parts
    if result is None or state not in (S.EXTRACTED, S.VALIDATED):
        doc_type = result.doc_type.value if result and result.doc_type else None
        return ProcessOutcome(document_id, state, doc_type), split_off, more_parts
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None
        codes = _match(session, document, result, policy_path, today, auto_approve)
        matched = ProcessOutcome(document_id, document.state, document.doc_type, codes=codes)
    return matched, split_off, more_parts


def pending_documents(session: Session, limit: int | None = None) -> list[int]:
    """Documents a processing run should pick up, oldest first."""
    query = select(DocumentRow.id).where(DocumentRow.state.in_(PENDING_STATES)).order_by(DocumentRow.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def process_pending(
    store: Store,
    files: FileStore,
    reader: DocumentReader,
    *,
    policy_path: Path | None = None,
    today: date | None = None,
    on_error: Callable[[int, Exception], None] | None = None,
    progress: Callable[[Any], Any] = lambda items: items,
    holder: str | None = None,
) -> list[ProcessOutcome]:
    """Process every pending document; a fault on one is recorded as failed and the run goes on.

    Any number of runs may work on one store at once: each document is claimed before it is
    read, so a document is read and moved by one run only; the others skip it.
    """
    holder = holder or process_holder()
    ttl = claim_ttl()
    with store.session() as session:
        ids = pending_documents(session)
        unread_ids = set(
            session.scalars(
                select(DocumentRow.id).where(DocumentRow.id.in_(ids), DocumentRow.state.in_(_UNREAD))
            )
        )
    # One streaming pass through the reader for everything still unread: models load once and
    # OCR of the whole batch shares the worker pool. A document is claimed as the reader asks
    # for it (the reader reads a window ahead); ``ahead`` keeps the claimed ones in order, so
    # each result meets its document. If the reader itself breaks on a document, that document
    # fails and the stream restarts after it.
    queue = deque(i for i in ids if i in unread_ids)
    ahead: deque[int] = deque()

    # Documents whose file could not even be loaded for the reader (gone from the file store):
    # they fail on their own, outside the reader's stream, so its order is not disturbed.
    unloadable: deque[tuple[int, Exception]] = deque()

    def load(doc_id: int) -> ReadRequest | None:
        try:
            return _request(store, files, doc_id)
        except Exception as error:  # whatever it is, it is this document's failure
            unloadable.append((doc_id, error))
            return None

    def requests() -> Iterator[ReadRequest]:
        for doc_id in list(ahead):
            request = load(doc_id)
            if request is None:
                ahead.remove(doc_id)
            else:
                yield request
        while queue:
            doc_id = queue.popleft()
            if try_claim(store, doc_id, holder=holder, ttl=ttl, states=_UNREAD):
                request = load(doc_id)
                if request is not None:
                    ahead.append(doc_id)
                    yield request

    def read_items() -> Iterator[tuple[int, list[ExtractionResult] | Exception]]:
        results = iter(reader.extract_many(requests()))
        while True:
            read: list[ExtractionResult] | Exception
            try:
                # The file's first document and the further ones the reader found in it.
                read = take_parts(next(results), results)
            except StopIteration:
                if not ahead:
                    yield from _drain(unloadable)
                    return
                read = LedgerbotError("the reader gave fewer results than files", code="E098")
            except Exception as error:  # the reader broke on the next document
                read = error
                # The document the reader broke on leaves ``ahead`` below, before the new
                # stream starts, so the new stream re-requests only the ones after it.
                results = iter(reader.extract_many(requests()))
            yield from _drain(unloadable)
            yield ahead.popleft(), read

    outcomes: list[ProcessOutcome] = []
    try:
        items: Iterator[tuple[int, list[ExtractionResult] | Exception | None]] = itertools.chain(
            read_items(), ((i, None) for i in ids if i not in unread_ids)
        )
        for doc_id, prepared in progress(items):
            try:
                if isinstance(prepared, Exception):
                    raise prepared
                first, *more = prepared or [None]
                outcome = process_document(
                    store,
                    files,
                    doc_id,
                    reader,
                    prepared=first,
                    more_parts=more,
                    policy_path=policy_path,
                    today=today,
                    holder=holder,
                )
                # Busy (another process holds it) or skipped (another process finished it since
                # this run listed it): that process's outcome, not this run's.
                if not (outcome.busy or outcome.skipped):
                    outcomes.append(outcome)
                    outcomes.extend(outcome.parts)
            except Exception as error:  # one bad document never stops the batch
                if on_error:
                    on_error(doc_id, error)
                failed = _mark_failed(store, doc_id, error, holder)
                if not failed.busy:
                    outcomes.append(failed)
    finally:
        for doc_id in ahead:
            release(store, doc_id, holder)
    return outcomes


def _drain(failed: deque[tuple[int, Exception]]) -> Iterator[tuple[int, Exception]]:
    while failed:
        yield failed.popleft()


def _pages(document: DocumentRow) -> tuple[int, int] | None:
    if document.page_first and document.page_last:
        return (document.page_first, document.page_last)
    return None


def _request(store: Store, files: FileStore, doc_id: int) -> ReadRequest:
    with store.session() as session:
        document = session.get(DocumentRow, doc_id)
        assert document is not None
        sha, name, pages = document.sha256, document.filename, _pages(document)
    if not files.exists(sha):
        raise OriginalMissing(
            f"document {doc_id}: its original file {sha[:12]} is missing from the file store"
        )
    return ReadRequest(files.get(sha), name, f"doc:{doc_id}", pages=pages)


def _mark_failed(store: Store, doc_id: int, error: Exception, holder: str | None = None) -> ProcessOutcome:
    """Move a document this process holds to ``failed`` with the error's code.

    A document another process holds (or moved on meanwhile) is not touched: its outcome is
    that process's to record.
    """
    code = error_code(error)
    holder = holder or process_holder()
    with claimed(store, doc_id, holder=holder, ttl=claim_ttl()) as ours, store.session() as session:
        document = session.get(DocumentRow, doc_id)
        assert document is not None
        if not ours:
            return ProcessOutcome(doc_id, document.state, document.doc_type, codes=[code], busy=True)
        if S.FAILED in _allowed(document.state):
            transition(
                session,
                document,
                S.FAILED,
                actor=Actor(PIPELINE),
                stage="process",
                outcome=code,
                detail={"error": f"{type(error).__name__}: {error}"[:500]},
            )
        return ProcessOutcome(doc_id, document.state, document.doc_type, codes=[code])


def _allowed(state: str) -> frozenset[DocState]:
    from ledgerbot.core.lifecycle import ALLOWED

    return ALLOWED[DocState(state)]


__all__ = ["DocType", "DocumentReader", "ProcessOutcome", "process_document", "process_pending"]
