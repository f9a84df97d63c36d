"""Vendor template drafts: drafted from a corrected document, checked against it, accepted by an admin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore
from review_app import audit, learning
from review_app.actions import NotAllowed, load_document
from review_app.deps import Context, CsrfUser, CurrentUser, DbSession
from review_app.routes._page import redirect_with_notice, render
from review_app.routes.documents import DocumentId

router = APIRouter(tags=["templates"])


@router.post(
    "/documents/{document_id}/template-draft", response_class=HTMLResponse, summary="Draft a template"
)
def draft(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    document = load_document(session, document_id)
    if learning.draft_offer(session, document) is None:
        raise learning.DraftError(
            f"no template draft on offer for document {document_id}: the vendor needs corrections on record, "
            "no template yet, and template drafting installed"
        )
    made = learning.make_draft(
        session, document, FileStore(get_settings().files_dir), context.settings.drafts_dir
    )
    audit.record(
        session,
        document,
        user.username,
        "template_draft",
        detail={
            "template_id": made.template_id,
            "agreement": made.agreement,
            "checks": [[c.field, c.corrected, c.drafted] for c in made.checks],
        },
    )
    session.commit()
    return redirect_with_notice(
        f"/documents/{document_id}/template-draft",
        f"template {made.template_id} drafted; it reads {made.agreement} corrected fields as corrected",
        context,
    )


@router.get(
    "/documents/{document_id}/template-draft", response_class=HTMLResponse, summary="A drafted template"
)
def show(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CurrentUser
) -> Response:
    document = load_document(session, document_id)
    path = learning.staged_draft(context.settings.drafts_dir, document_id)
    checks: list[learning.FieldCheck] = []
    if path is not None:
        # The check ran when the draft was made; its outcome is on the audit event.
        for event in reversed(document.events):
            if event.detail.get("action") == "template_draft":
                checks = [learning.FieldCheck(*row) for row in event.detail.get("checks") or []]
                break
    return render(
        request,
        context,
        user,
        "template_draft.html",
        {
            "document": document,
            "template_yaml": path.read_text(encoding="utf-8") if path else None,
            "template_id": path.stem if path else None,
            "checks": checks,
        },
    )


@router.post(
    "/documents/{document_id}/template-draft/accept",
    response_class=HTMLResponse,
    summary="Accept a drafted template",
)
def accept(
    request: Request, document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser
) -> Response:
    if user.role != "admin":
        raise NotAllowed("only an admin (the automation engineer) accepts vendor templates")
    document = load_document(session, document_id)
    written = learning.accept_draft(context.settings.drafts_dir, document_id)
    from ledgerbot.template_registry import sync

    sync(session, written.parent, written.stem, actor=f"user:{user.username}", reason="draft accepted")
    audit.record(session, document, user.username, "template_accept", detail={"template": written.name})
    session.commit()
    return redirect_with_notice(
        f"/documents/{document_id}", f"template {written.name} is now in use", context
    )
