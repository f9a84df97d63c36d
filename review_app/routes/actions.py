"""State-changing actions on a document; every one needs a session and the page's CSRF token."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from ledgerbot.core.errors import CorrectionInvalid, LedgerbotError
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from review_app import actions, learning, queue
from review_app.actions import Correction, Result
from review_app.deps import Context, CsrfUser, DbSession, ReviewContext, RowId, served_over_https
from review_app.routes._page import redirect_with_notice
from review_app.routes.documents import document_page_response
from review_app.schemas import ActionOut
from review_app.security import SignedIn

log = logging.getLogger("ledgerbot.review")
router = APIRouter(tags=["actions"])
DocumentId = RowId
MAX_LINES = 500
RESPONSES: dict[int | str, dict[str, object]] = {
    303: {"description": "Back to the document page, with a notice"},
    200: {"model": ActionOut, "description": "When the client asks for JSON"},
}


def _done(
    request: Request,
    context: ReviewContext,
    session: Session,
    document_id: int,
    result: Result,
    then: str = "",
    username: str = "",
) -> Response:
    """Commit and answer; ``then="next"`` goes on to the queue's next document (confirm-and-next)."""
    following = queue.next_document(session, document_id, username) if then == "next" else None
    session.commit()
    if "application/json" in request.headers.get("accept", ""):
        detail = {**result.detail, **({"next_document": following} if following else {})}
        return JSONResponse(ActionOut(ok=True, message=result.message, detail=detail).model_dump(mode="json"))
    target = f"/documents/{following}" if following else f"/documents/{document_id}"
    return redirect_with_notice(target, result.message, context, served_over_https(request, context.settings))


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _corrected(
    request: Request,
    context: ReviewContext,
    session: Session,
    user: SignedIn,
    document_id: int,
    change: Correction,
    form: dict[str, str],
) -> Response:
    """Apply a correction; a value that does not read re-shows the page with the clerk's edits kept."""
    try:
        result = actions.correct(session, user, document_id, change, controls=context.controls)
    except CorrectionInvalid as error:
        session.rollback()
        if _wants_json(request):
            raise
        return document_page_response(
            request, context, session, user, document_id, submitted=form, errors=error.errors, status=422
        )
    response = _done(request, context, session, document_id, result, form.get("then", ""), user.username)
    # The vendor's template learns from the saved values after the answer has gone out: the clerk
    # never waits for it, and a failure to learn costs nothing but the lesson (it is logged).
    response.background = BackgroundTask(_learn_from_corrections, context.store, document_id)
    return response


def _learn_from_corrections(store: Store, document_id: int) -> None:
    try:
        with store.session() as session:
            document = session.get(DocumentRow, document_id)
            if document is not None:
                learning.after_corrections(session, document, FileStore(get_settings().files_dir))
    except LedgerbotError as error:
        log.warning("template learning after corrections failed", extra={"code": error.code})


@router.post("/documents/{document_id}/claim", response_class=HTMLResponse, responses=RESPONSES)
def claim(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    result = actions.claim(session, user, document_id, context.controls)
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/release", response_class=HTMLResponse, responses=RESPONSES)
def release(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    return _done(request, context, session, document_id, actions.release(session, user, document_id))


@router.post("/documents/{document_id}/assign", response_class=HTMLResponse, responses=RESPONSES)
def assign(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    assignee: Annotated[str, Form(max_length=100)],
) -> Response:
    return _done(request, context, session, document_id, actions.assign(session, user, document_id, assignee))


async def _form(request: Request) -> dict[str, str]:
    # Read once here (async) so the handlers stay synchronous and use the session in one thread.
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form)]


@router.post("/documents/{document_id}/fields", response_class=HTMLResponse, responses=RESPONSES)
def correct_fields(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    form: FormFields,
) -> Response:
    """Correct header fields (form keys ``field.<name>``) and, optionally, the document type."""
    fields = {key.removeprefix("field."): value for key, value in form.items() if key.startswith("field.")}
    doc_type = form.get("doc_type")
    confirm = frozenset(key.removeprefix("confirm.") for key in form if key.startswith("confirm."))
    change = Correction(fields=fields, doc_type=doc_type or None, confirm=confirm)
    return _corrected(request, context, session, user, document_id, change, form)


@router.post("/documents/{document_id}/lines", response_class=HTMLResponse, responses=RESPONSES)
def correct_lines(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    form: FormFields,
) -> Response:
    """Replace the line items: form keys ``line-<i>.<column>``; a row with ``line-<i>.remove`` is dropped."""
    rows: dict[int, dict[str, str]] = {}
    removed: set[int] = set()
    for key, value in form.items():
        if not key.startswith("line-") or "." not in key or not isinstance(value, str):
            continue
        head, column = key.split(".", 1)
        index_text = head.removeprefix("line-")
        if not index_text.isdigit() or int(index_text) >= MAX_LINES:
            raise actions.InvalidValue(f"{key[:60]!r} is not a line field")
        index = int(index_text)
        if column == "remove":
            removed.add(index)
        elif column in actions.LINE_KEYS:
            rows.setdefault(index, {})[column] = value
        else:
            raise actions.InvalidValue(f"{column[:60]!r} is not a line column")
    lines = [(i, rows[i]) for i in sorted(rows) if i not in removed]
    return _corrected(request, context, session, user, document_id, Correction(lines=lines), form)


@router.post("/documents/{document_id}/link-po", response_class=HTMLResponse, responses=RESPONSES)
def link_po(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    po_number: Annotated[str, Form(max_length=50)],
) -> Response:
    result = actions.link_po(session, user, document_id, po_number, controls=context.controls)
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/approve", response_class=HTMLResponse, responses=RESPONSES)
def approve(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    reason_code: Annotated[str, Form(max_length=50)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    then: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Approve; over open exceptions (an override) a reason from the list and words are required."""
    result = actions.approve(
        session, user, document_id, controls=context.controls, reason_code=reason_code or None, reason=reason
    )
    return _done(request, context, session, document_id, result, then, user.username)


@router.post("/documents/{document_id}/reject", response_class=HTMLResponse, responses=RESPONSES)
def reject(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    reason: Annotated[str, Form(max_length=2000)] = "",
    reason_code: Annotated[str, Form(max_length=50)] = "",
    then: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Reject with a reason from the list and words; a clerk's rejection of a large total is a proposal."""
    result = actions.reject(
        session, user, document_id, reason, reason_code=reason_code or None, controls=context.controls
    )
    return _done(request, context, session, document_id, result, then, user.username)


@router.post("/documents/{document_id}/send-back", response_class=HTMLResponse, responses=RESPONSES)
def send_back(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    result = actions.send_back(session, user, document_id, note, controls=context.controls)
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/comments", response_class=HTMLResponse, responses=RESPONSES)
def add_comment(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    text: Annotated[str, Form(max_length=4000)],
) -> Response:
    return _done(request, context, session, document_id, actions.comment(session, user, document_id, text))
