"""State-changing actions on a document; every one needs a session and the page's CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from ledgerbot.core.domain import HEADER_FIELDS
from review_app import actions
from review_app.actions import Correction, Result
from review_app.config import policy_path
from review_app.deps import Context, CsrfUser, DbSession, ReviewContext
from review_app.routes._page import redirect_with_notice
from review_app.schemas import ActionOut

router = APIRouter(tags=["actions"])
DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_LINES = 500
RESPONSES: dict[int | str, dict[str, object]] = {
    303: {"description": "Back to the document page, with a notice"},
    200: {"model": ActionOut, "description": "When the client asks for JSON"},
}


def _done(
    request: Request, context: ReviewContext, session: Session, document_id: int, result: Result
) -> Response:
    session.commit()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            ActionOut(ok=True, message=result.message, detail=result.detail).model_dump(mode="json")
        )
    return redirect_with_notice(f"/documents/{document_id}", result.message, context)


@router.post("/documents/{document_id}/claim", response_class=HTMLResponse, responses=RESPONSES)
def claim(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    return _done(request, context, session, document_id, actions.claim(session, user, document_id))


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
    fields = {
        key.removeprefix("field."): value
        for key, value in form.items()
        if key.startswith("field.") and isinstance(value, str) and key.removeprefix("field.") in HEADER_FIELDS
    }
    unknown = [k for k in form if k.startswith("field.") and k.removeprefix("field.") not in HEADER_FIELDS]
    if unknown:
        raise actions.InvalidValue(f"{unknown[0].removeprefix('field.')!r} is not an invoice field")
    doc_type = form.get("doc_type")
    confirm = frozenset(key.removeprefix("confirm.") for key in form if key.startswith("confirm."))
    change = Correction(
        fields=fields, doc_type=doc_type if isinstance(doc_type, str) and doc_type else None, confirm=confirm
    )
    result = actions.correct(session, user, document_id, change, policy_path=policy_path())
    return _done(request, context, session, document_id, result)


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
            raise actions.InvalidValue(f"{key!r} is not a line field")
        index = int(index_text)
        if column == "remove":
            removed.add(index)
        elif column in actions.LINE_KEYS:
            rows.setdefault(index, {})[column] = value
        else:
            raise actions.InvalidValue(f"{column!r} is not a line column")
    lines = [rows[i] for i in sorted(rows) if i not in removed]
    result = actions.correct(session, user, document_id, Correction(lines=lines), policy_path=policy_path())
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/link-po", response_class=HTMLResponse, responses=RESPONSES)
def link_po(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    po_number: Annotated[str, Form(max_length=50)],
) -> Response:
    result = actions.link_po(session, user, document_id, po_number, policy_path=policy_path())
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/approve", response_class=HTMLResponse, responses=RESPONSES)
def approve(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    result = actions.approve(
        session,
        user,
        document_id,
        fallback_threshold=context.settings.fallback_second_approver_threshold,
        policy_path=policy_path(),
    )
    return _done(request, context, session, document_id, result)


@router.post("/documents/{document_id}/reject", response_class=HTMLResponse, responses=RESPONSES)
def reject(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    return _done(request, context, session, document_id, actions.reject(session, user, document_id, reason))


@router.post("/documents/{document_id}/send-back", response_class=HTMLResponse, responses=RESPONSES)
def send_back(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _done(request, context, session, document_id, actions.send_back(session, user, document_id, note))
