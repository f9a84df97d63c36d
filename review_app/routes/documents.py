"""One document: the review page, its JSON, and its rendered page images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased
from starlette.concurrency import run_in_threadpool

from extractors.einvoice.model import EInvoice
from extractors.einvoice.reader import parse_einvoice
from ledgerbot.core.domain import HEADER_FIELDS, DocType
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from ledgerbot.core.store.review import CommentRow, UserRow
from review_app import queue
from review_app.actions import NoSuchDocument
from review_app.deps import Context, CurrentUser, DbSession, ReviewContext, RowId, page_view
from review_app.evidence import other_document
from review_app.routes._page import json_response, render
from review_app.schemas import DocumentOut
from review_app.security import SignedIn
from review_app.view import document_file, document_page_view, document_view

router = APIRouter(tags=["documents"])
DocumentId = RowId


@router.get("/api/documents/{document_id}", response_model=DocumentOut, summary="One document under review")
def document_json(
    document_id: DocumentId, context: Context, session: DbSession, user: CurrentUser
) -> Response:
    return json_response(document_view(session, document_id, context.renderer))


XML_MIMES = ("application/xml", "text/xml")


def _einvoice(
    session: Session, context: ReviewContext, document_id: int
) -> tuple[EInvoice | None, str | None]:
    """The e-invoice a file without page images holds, read from its XML, or why it cannot be shown."""
    sha256, mime = document_file(session, document_id)
    if mime not in XML_MIMES or not context.renderer.files.exists(sha256):
        return None, None
    try:
        return parse_einvoice(context.renderer.files.get(sha256)), None
    except LedgerbotError as error:
        return None, f"{error.message} ({error.code})"


@dataclass(frozen=True)
class Pair:
    """A suspected duplicate beside this document: each header field of both, and whether they differ."""

    other_id: int
    other_filename: str
    other_state: str
    rows: list[tuple[str, str, str, bool]]  # label, this value, other value, differs


# The suspected duplicates beside a document, each with its newest reading, in one statement.
_NEWEST = aliased(ExtractionRow)
_OTHERS = (
    select(DocumentRow.id, DocumentRow.filename, DocumentRow.state, ExtractionRow.result)
    .join(
        ExtractionRow,
        ExtractionRow.id
        == select(func.max(_NEWEST.id)).where(_NEWEST.document_id == DocumentRow.id).scalar_subquery(),
    )
    .where(DocumentRow.id.in_(bindparam("ids", expanding=True)))
    .order_by(DocumentRow.id)
)
# Documents shown side by side at most: a document suspected of many duplicates shows the first.
MAX_PAIRS = 3


def _duplicates(session: Session, view: DocumentOut) -> list[Pair]:
    ids = sorted(
        {
            found
            for e in view.exceptions
            if e.code == "DUPLICATE_SUSPECT" and (found := other_document(e.evidence)) is not None
        }
        - {view.id}
    )[:MAX_PAIRS]
    if not ids:
        return []
    pairs = []
    for row in session.connection().execute(_OTHERS, {"ids": ids}):
        other = (row.result or {}).get("fields") or {}
        rows = []
        for field in view.fields:
            mine = field.value or ""
            theirs = "" if other.get(field.name) is None else str(other[field.name])
            rows.append((field.label, mine, theirs, mine != theirs))
        pairs.append(Pair(row.id, row.filename, row.state, rows))
    return pairs


# Read by every document page: built once, run on the connection without ORM objects.
_COMMENTS = (
    select(CommentRow.at, CommentRow.username, CommentRow.text)
    .where(CommentRow.document_id == bindparam("document_id"))
    .order_by(CommentRow.id)
)
_USERNAMES = select(UserRow.username)


def document_page_response(
    request: Request,
    context: ReviewContext,
    session: Session,
    user: SignedIn,
    document_id: int,
    *,
    submitted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The document page; after a refused correction, with the person's own values and the reasons."""
    view, offer = document_page_view(session, document_id, context.renderer)
    einvoice, einvoice_error = (None, None) if view.pages else _einvoice(session, context, document_id)
    users: list[str] = []
    if user.can_assign:
        users = list(session.connection().execute(_USERNAMES).scalars())
    return render(
        request,
        context,
        user,
        "document.html",
        {
            "doc": view,
            "users": users,
            "doc_types": [t.value for t in DocType],
            "header_fields": HEADER_FIELDS,
            "draft_offer": offer,
            "submitted": submitted or {},
            "errors": errors or {},
            "locale": user.locale or context.settings.default_locale,
            "override_reasons": context.controls.override_reasons,
            "reject_reasons": context.controls.reject_reasons,
            "next_id": queue.next_document(session, document_id, user.username, view.received_at),
            "einvoice": einvoice,
            "duplicates": _duplicates(session, view),
            "comments": session.connection().execute(_COMMENTS, {"document_id": document_id}).all(),
            "currency": next((f.value for f in view.fields if f.name == "currency"), None),
            "einvoice_error": einvoice_error,
        },
        status=status,
    )


@router.get("/documents/{document_id}", response_class=HTMLResponse, summary="The document review page")
async def document_page(request: Request, document_id: DocumentId, context: Context) -> Response:
    # The second most viewed page: its whole work in one trip to the thread pool (see ``page_view``).
    return await run_in_threadpool(_document_page, request, context, document_id)


def _document_page(request: Request, context: ReviewContext, document_id: int) -> Response:
    with page_view(request, context) as (session, user):
        return document_page_response(request, context, session, user, document_id)


@router.get(
    "/documents/{document_id}/pages/{page}.png",
    response_class=FileResponse,
    summary="A page of the original, rendered as PNG",
    responses={200: {"content": {"image/png": {}}}},
)
def page_image(
    document_id: DocumentId,
    page: Annotated[int, Path(ge=1, le=1000)],
    context: Context,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    sha256, mime = document_file(session, document_id)
    # The file goes out in chunks read in the thread pool: hand the connection back first.
    session.commit()
    path = context.renderer.page_png(sha256, mime, page)
    # The content is addressed by sha256: a page image never changes, so the browser may keep it.
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get(
    "/documents/{document_id}/original",
    response_class=FileResponse,
    summary="The original file as it was received",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def original_file(
    document_id: DocumentId, context: Context, session: DbSession, user: CurrentUser
) -> Response:
    row = (
        session.connection()
        .execute(
            select(DocumentRow.sha256, DocumentRow.mime, DocumentRow.filename).where(
                DocumentRow.id == document_id
            )
        )
        .first()
    )
    session.commit()
    if row is None or not context.renderer.files.exists(row.sha256):
        raise NoSuchDocument(f"no original file for document {document_id}")
    # Always a download, never shown inline: a received file is untrusted content.
    return FileResponse(
        context.renderer.files.path_for(row.sha256),
        media_type=row.mime or "application/octet-stream",
        filename=row.filename or f"document-{document_id}",
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )
