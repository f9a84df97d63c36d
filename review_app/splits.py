"""The split page: a file's pages as thumbnails, where its documents begin, and a clerk's correction.

A correction is drafted in the page's address (``?parts=1-2,3-4``): adding, removing or moving a
boundary is a link to the draft it leads to, so nothing changes in the store until the clerk
applies the draft. Applying goes through ``ledgerbot.splitting.apply_resplit``, the path
``ledgerbot resplit`` takes too: the file's current documents are rejected, new ones are opened
from the corrected pages, the correction is stored as the splitter's training data, and every
document it moves gets its audit event with the clerk and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import ReasonMissing
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, ExtractionRow
from ledgerbot.splitting import (
    FilePart,
    FileSplit,
    Resplit,
    SplitCorrectionRefused,
    apply_resplit,
    check_parts,
    current_split,
    refusal,
)
from review_app import audit, queue, validation
from review_app.actions import (
    DEFAULT_CONTROLS,
    MAX_REASON,
    Controls,
    InvalidValue,
    NoSuchDocument,
    Result,
    hold_claim,
)
from review_app.actions import load_document as _load_document
from review_app.render import PageRenderer
from review_app.schemas import ErrorOut, SplitOut, SplitPartOut
from review_app.security import SignedIn

Parts = tuple[tuple[int, int], ...]
UNCERTAIN = "SPLIT_UNCERTAIN"
# What the audit trail says when a clerk confirms a split as shown without a note.
CONFIRMED = "split confirmed as shown"


# --- drafts: the page ranges in the address, and what each boundary control makes of them ------


def parse_parts(text: str, pages: int) -> Parts:
    """``"1-2,3-4"`` (a single page may stand alone: ``"5"``) as page ranges of a ``pages``-page file."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > pages:
        raise InvalidValue(f"more documents than the file has pages ({pages})")
    parts = []
    for item in items:
        first, _, last = item.partition("-")
        last = last or first
        if not (first.isdigit() and last.isdigit() and len(first) <= 6 and len(last) <= 6):
            raise InvalidValue(f"{item[:20]!r} is not a page range like 3-5 or 6")
        parts.append((int(first), int(last)))
    return tuple(check_parts(parts, pages))


def format_parts(parts: Sequence[tuple[int, int]]) -> str:
    return ",".join(f"{first}-{last}" for first, last in parts)


def _index_starting_at(parts: Parts, page: int) -> int:
    """The position of the document that begins on ``page``, if it is not the file's first document."""
    for k, (first, _) in enumerate(parts):
        if first == page and k > 0:
            return k
    raise InvalidValue(f"no boundary at page {page}")


def add_boundary(parts: Parts, page: int, pages: int) -> Parts:
    """A document begins on ``page``: the one holding it is cut there, or, on a page in no document
    (a blank separator), a new one runs from it to the next document or the end of the file."""
    for k, (first, last) in enumerate(parts):
        if first < page <= last:
            return (*parts[:k], (first, page - 1), (page, last), *parts[k + 1 :])
        if first == page:
            raise InvalidValue(f"a document already begins at page {page}")
    if not 1 <= page <= pages:
        raise InvalidValue(f"the file has no page {page}")
    following = [first for first, _ in parts if first > page]
    end = following[0] - 1 if following else pages
    return tuple(sorted((*parts, (page, end))))


def remove_boundary(parts: Parts, page: int) -> Parts:
    """The document beginning on ``page`` joins the one before it (with any pages between them)."""
    k = _index_starting_at(parts, page)
    return (*parts[: k - 1], (parts[k - 1][0], parts[k][1]), *parts[k + 1 :])


def move_targets(parts: Parts, page: int) -> range:
    """Where the boundary at ``page`` may go: after the previous document's first page, up to its own last."""
    k = _index_starting_at(parts, page)
    return range(parts[k - 1][0] + 1, parts[k][1] + 1)


def move_boundary(parts: Parts, page: int, to: int) -> Parts:
    """The document beginning on ``page`` begins on ``to`` instead; the pages between change sides."""
    k = _index_starting_at(parts, page)
    if to == page or to not in move_targets(parts, page):
        raise InvalidValue(f"the boundary at page {page} cannot move to page {to}")
    (before_first, before_last), (_, last) = parts[k - 1], parts[k]
    earlier_end = to - 1 if to > page else min(before_last, to - 1)
    return (*parts[: k - 1], (before_first, earlier_end), (to, last), *parts[k + 1 :])


# --- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One page of the file on the split page, with the boundary controls in front of it."""

    number: int
    part: int | None  # the draft's document holding the page (1-based); None: in no document
    boundary: bool  # a document of the draft begins here, after another one
    first: bool  # the draft's first document begins here
    changed: bool  # whether a document begins here differs from the stored split
    doubtful: bool  # the splitter was unsure whether a document begins here
    add: str | None = None  # links to the draft each control leads to
    remove: str | None = None
    move: str | None = None
    here: str | None = None  # in move mode: the boundary being moved goes here


@dataclass(frozen=True)
class DraftPart:
    number: int
    first: int
    last: int
    document: FilePart | None  # the stored document with exactly these pages, if there is one


@dataclass(frozen=True)
class SplitView:
    document_id: int
    split: FileSplit
    draft: Parts
    draft_text: str
    changed: bool
    slots: list[Slot]
    parts: list[DraftPart]
    doubtful: list[int]
    splitter: str | None
    confidence: str | None
    uncertain: bool
    refused: SplitCorrectionRefused | None
    moving: int | None
    cancel: str  # the draft without move mode
    reset: str  # the stored split


def file_pages(session: Session, renderer: PageRenderer, document_id: int) -> int:
    """The page count of the document's file, or ``E521`` when it has no pages to split."""
    row = session.execute(
        select(DocumentRow.sha256, DocumentRow.mime).where(DocumentRow.id == document_id)
    ).first()
    if row is None:
        raise NoSuchDocument(f"no document {document_id}")
    pages = renderer.page_count(row.sha256, row.mime)
    if not pages:
        raise SplitCorrectionRefused(
            f"the file of document {document_id} ({row.mime}) has no pages to split, or is not stored"
        )
    return pages


def _starts(parts: Parts) -> set[int]:
    return {first for first, _ in parts[1:]}


def _reading(session: Session, split: FileSplit) -> tuple[set[int], str | None, str | None, bool]:
    """What the splitter said of the stored documents: doubtful pages, its name, its least sureness,
    and whether a split doubt is open on any of them."""
    ids = [part.document_id for part in split.parts]
    newest = select(func.max(ExtractionRow.id)).where(ExtractionRow.document_id.in_(ids))
    results = session.scalars(
        select(ExtractionRow.result).where(ExtractionRow.id.in_(newest.group_by(ExtractionRow.document_id)))
    )
    doubtful: set[int] = set()
    splitter = confidence = None
    for result in results:
        lineage: dict[str, Any] = (result or {}).get("lineage") or {}
        doubtful |= {int(p) for p in str(lineage.get("split_doubts") or "").split(",") if p.isdigit()}
        splitter = splitter or lineage.get("splitter")
        confidence = confidence or lineage.get("split_confidence")
    open_doubts = session.scalars(
        select(ExceptionRow.evidence).where(
            ExceptionRow.document_id.in_(ids), ExceptionRow.code == UNCERTAIN, ExceptionRow.status == "open"
        )
    ).all()
    for evidence in open_doubts:
        pages = str((evidence or {}).get("doubtful_pages") or "")
        doubtful |= {int(p) for p in pages.split(",") if p.isdigit()}
    return doubtful, splitter, confidence, bool(open_doubts)


def split_view(
    session: Session,
    renderer: PageRenderer,
    document_id: int,
    draft_text: str | None = None,
    moving: int | None = None,
) -> SplitView:
    """The split page of ``document_id``'s file, showing ``draft_text`` (the stored split if not given)."""
    pages = file_pages(session, renderer, document_id)
    split = current_split(session, document_id, pages)
    stored: Parts = tuple(split.ranges)
    draft = parse_parts(draft_text, pages) if draft_text else stored
    if moving is not None:
        _index_starting_at(draft, moving)
    base = f"/documents/{document_id}/split"

    def link(parts: Parts, move: int | None = None) -> str:
        query: dict[str, Any] = {} if parts == stored else {"parts": format_parts(parts)}
        if move is not None:
            query["move"] = move
        return f"{base}?{urlencode(query, safe=',')}" if query else base

    doubtful, splitter, confidence, uncertain = _reading(session, split)
    owner = {page: k for k, (first, last) in enumerate(draft, start=1) for page in range(first, last + 1)}
    starts, stored_starts = _starts(draft), _starts(stored)
    targets = move_targets(draft, moving) if moving is not None else range(0)
    slots = []
    for number in range(1, pages + 1):
        boundary = number in starts
        controls: dict[str, str | None] = {}
        if moving is not None:
            if number in targets and number != moving:
                controls["here"] = link(move_boundary(draft, moving, number))
        elif boundary:
            controls["remove"] = link(remove_boundary(draft, number))
            if len(move_targets(draft, number)) > 1:
                controls["move"] = link(draft, move=number)
        elif number != draft[0][0]:
            controls["add"] = link(add_boundary(draft, number, pages))
        slots.append(
            Slot(
                number=number,
                part=owner.get(number),
                boundary=boundary,
                first=number == draft[0][0],
                changed=boundary != (number in stored_starts),
                doubtful=number in doubtful,
                **controls,
            )
        )
    by_pages = {(part.first, part.last): part for part in split.parts}
    return SplitView(
        document_id=document_id,
        split=split,
        draft=draft,
        draft_text=format_parts(draft),
        changed=draft != stored,
        slots=slots,
        parts=[
            DraftPart(k, first, last, by_pages.get((first, last)))
            for k, (first, last) in enumerate(draft, start=1)
        ],
        doubtful=sorted(doubtful),
        splitter=splitter,
        confidence=confidence,
        uncertain=uncertain,
        refused=refusal(session, split),
        moving=moving,
        cancel=link(draft),
        reset=base,
    )


def split_out(view: SplitView) -> SplitOut:
    """The stored split as the JSON API gives it."""
    refused = view.refused
    return SplitOut(
        document_id=view.document_id,
        root_id=view.split.root_id,
        filename=view.split.filename,
        pages=view.split.pages,
        parts=[
            SplitPartOut(
                document_id=p.document_id, first=p.first, last=p.last, state=p.state, doc_type=p.doc_type
            )
            for p in view.split.parts
        ],
        doubtful_pages=view.doubtful,
        splitter=view.splitter,
        split_confidence=_number(view.confidence),
        uncertain=view.uncertain,
        refused=ErrorOut(code=refused.code, message=refused.message) if refused else None,
    )


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


# --- applying a draft --------------------------------------------------------------------------


def apply(
    session: Session,
    user: SignedIn,
    document_id: int,
    draft_text: str,
    reason: str,
    renderer: PageRenderer,
    controls: Controls = DEFAULT_CONTROLS,
) -> tuple[Result, Resplit]:
    """Re-create the file's documents from the draft, in the caller's transaction.

    A changed split needs the clerk's words on why; confirming the split as shown does not.
    Someone else's live claim on one of the file's documents stops it, as it stops any action.
    """
    document = _load_document(session, document_id, lock=True)
    pages = file_pages(session, renderer, document.id)
    parts = parse_parts(draft_text, pages)
    split = current_split(session, document.id, pages)
    words = " ".join(reason.split())
    if len(words) > MAX_REASON:
        raise ReasonMissing(f"the explanation is over {MAX_REASON} characters")
    if validation.has_control(words):
        raise ReasonMissing("the explanation contains control characters")
    changed = list(parts) != split.ranges
    if changed and not words:
        raise ReasonMissing("say in a few words why the split was wrong")
    for part in split.parts:
        if not DocState(part.state).is_final:
            row = session.get(DocumentRow, part.document_id)
            assert row is not None
            hold_claim(session, user, row, controls)
    done = apply_resplit(
        session,
        document.id,
        parts,
        actor=audit.user_actor(user.username),
        reason=words or CONFIRMED,
        pages=pages,
    )
    queue.refresh(session, [*done.replaced, *done.created])
    opened = ", ".join(f"#{i}" for i in done.created)
    verb = "re-split" if changed else "split confirmed"
    return (
        Result(
            f"{verb}: {len(done.created)} document(s) ({opened}) are read again from their pages",
            {"documents": done.created, "replaced": done.replaced, "correction_id": done.correction_id},
        ),
        done,
    )
