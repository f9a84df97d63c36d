"""Vendor templates for the automation engineer: drafts, shadow results and active ones, with versions.

Lists every template of the templates folder with its status, version, origin and shadow record;
shows one (its YAML, its shadow readings next to the generic reading and the clerk's values, its
status history); an admin promotes, edits (a new version, validated) or retires one. A clerk or
an admin can also ask for a corrected document to teach its vendor's template.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore
from review_app import audit, learning
from review_app.actions import NotAllowed, load_document
from review_app.deps import Context, CsrfUser, CurrentUser, DbSession
from review_app.routes._page import redirect_with_notice, render
from review_app.routes.documents import DocumentId
from review_app.security import SignedIn

router = APIRouter(tags=["vendor templates"])


def _admin(user: SignedIn) -> None:
    if user.role != "admin":
        raise NotAllowed("only an admin (the automation engineer) changes vendor templates")


@router.get("/templates", response_class=HTMLResponse, summary="Vendor templates")
def index(request: Request, context: Context, user: CurrentUser) -> Response:
    from extractors.templates.lifecycle import list_templates

    entries = list(list_templates(learning.templates_dir()))
    order = {"draft": 0, "shadow": 1, "active": 2, "retired": 3, "broken": 4}
    entries.sort(key=lambda e: (order.get(str(e["status"]), 5), str(e["id"])))
    return render(request, context, user, "vendor_templates.html", {"entries": entries})


@router.get("/templates/{template_id}", response_class=HTMLResponse, summary="One vendor template")
def show(request: Request, template_id: str, context: Context, user: CurrentUser) -> Response:
    import json

    from extractors.templates.lifecycle import _path, shadow_records
    from extractors.templates.schema import load_template

    folder = learning.templates_dir()
    path = _path(folder, template_id)
    template = load_template(path)
    history = folder / "history" / template.id / "status.jsonl"
    changes = [json.loads(line) for line in history.read_text().splitlines()] if history.is_file() else []
    return render(
        request,
        context,
        user,
        "vendor_template.html",
        {
            "template": template,
            "yaml": path.read_text(encoding="utf-8"),
            "shadow": shadow_records(folder, template.id)[-50:],
            "changes": changes,
        },
    )


@router.post("/templates/{template_id}/promote", response_class=HTMLResponse, summary="Trust a template")
def promote(template_id: str, context: Context, session: DbSession, user: CsrfUser) -> Response:
    from extractors.templates.lifecycle import set_status
    from ledgerbot.template_registry import sync

    _admin(user)
    folder = learning.templates_dir()
    done = set_status(folder, template_id, "active", reason=f"promoted by {user.username}")
    sync(session, folder, template_id, actor=f"user:{user.username}", reason="promoted on the templates page")
    session.commit()
    return redirect_with_notice(
        f"/templates/{template_id}", f"template {template_id}@{done['version']} is active", context
    )


@router.post("/templates/{template_id}/retire", response_class=HTMLResponse, summary="Retire a template")
def retire(template_id: str, context: Context, session: DbSession, user: CsrfUser) -> Response:
    from extractors.templates.lifecycle import set_status
    from ledgerbot.template_registry import sync

    _admin(user)
    folder = learning.templates_dir()
    done = set_status(folder, template_id, "retired", reason=f"retired by {user.username}")
    sync(session, folder, template_id, actor=f"user:{user.username}", reason="retired on the templates page")
    session.commit()
    return redirect_with_notice(
        f"/templates/{template_id}", f"template {template_id}@{done['version']} is retired", context
    )


@router.post("/templates/{template_id}/edit", response_class=HTMLResponse, summary="Edit a template")
def edit(
    template_id: str,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    text: Annotated[str, Form(alias="yaml")],
    reason: Annotated[str, Form()] = "edited",
) -> Response:
    from extractors.templates.lifecycle import edit_template
    from ledgerbot.template_registry import sync

    _admin(user)
    folder = learning.templates_dir()
    done = edit_template(folder, template_id, text, by=user.username, reason=reason)
    sync(session, folder, template_id, actor=f"user:{user.username}", reason=f"edited: {reason}")
    session.commit()
    return redirect_with_notice(
        f"/templates/{template_id}", f"template {template_id} is now version {done['version']}", context
    )


@router.post(
    "/documents/{document_id}/learn-template",
    response_class=HTMLResponse,
    summary="Teach the vendor's template",
)
def learn(document_id: DocumentId, context: Context, session: DbSession, user: CsrfUser) -> Response:
    document = load_document(session, document_id)
    done = learning.after_corrections(session, document, FileStore(get_settings().files_dir))
    learned = done.get("learned")
    audit.record(session, document, user.username, "template_learn", detail=done)
    session.commit()
    if learned is None:
        message = "nothing to learn: the vendor's template read this document as corrected"
        return redirect_with_notice(f"/documents/{document_id}", message, context)
    return redirect_with_notice(
        f"/templates/{learned['template_id']}",
        f"template {learned['template_id']}@{learned['version']} learned ({learned['status']}): "
        f"{learned['reason']}",
        context,
    )
