"""Where the documents of a file begin: the split page, its JSON, page thumbnails, and the correction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from review_app import splits
from review_app.deps import Context, CsrfUser, CurrentUser, DbSession, RowId, served_over_https
from review_app.routes._page import json_response, redirect_with_notice, render
from review_app.schemas import ActionOut, SplitOut
from review_app.view import document_file

router = APIRouter(tags=["split"])
DocumentId = RowId
# A draft names each document's pages: "1-2,3-4,...", at most one per page of the longest file.
Draft = Annotated[str | None, Query(max_length=4000, description='Page ranges, e.g. "1-2,3-4"')]
RESPONSES: dict[int | str, dict[str, object]] = {
    303: {"description": "To the split page of the new documents, with a notice"},
    200: {"model": ActionOut, "description": "When the client asks for JSON"},
}


@router.get(
    "/documents/{document_id}/split",
    response_class=HTMLResponse,
    summary="The file's pages as thumbnails and where its documents begin, with a draft correction",
)
def split_page(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CurrentUser,
    parts: Draft = None,
    move: Annotated[int | None, Query(ge=1, le=100000, description="A boundary being moved")] = None,
) -> Response:
    view = splits.split_view(session, context.renderer, document_id, parts, move)
    return render(request, context, user, "split.html", {"view": view})


@router.get(
    "/api/documents/{document_id}/split",
    response_model=SplitOut,
    summary="Where the documents of this document's file begin",
)
def split_json(document_id: DocumentId, context: Context, session: DbSession, user: CurrentUser) -> Response:
    return json_response(splits.split_out(splits.split_view(session, context.renderer, document_id)))


@router.get(
    "/documents/{document_id}/thumbs/{page}.png",
    response_class=FileResponse,
    summary="A page of the file as a small PNG (any page of the file, not only the document's own)",
    responses={200: {"content": {"image/png": {}}}},
)
def thumbnail(
    document_id: DocumentId,
    page: Annotated[int, Path(ge=1, le=100000)],
    context: Context,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    sha256, mime = document_file(session, document_id)
    session.commit()  # hand the connection back before rendering
    path = context.renderer.thumbnail_png(sha256, mime, page)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.post(
    "/documents/{document_id}/split",
    response_class=HTMLResponse,
    responses=RESPONSES,
    summary="Re-create the file's documents from these page ranges (a changed split needs a reason)",
)
def apply_split(
    request: Request,
    document_id: DocumentId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    parts: Annotated[str, Form(max_length=4000)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    result, done = splits.apply(
        session, user, document_id, parts, reason, context.renderer, controls=context.controls
    )
    session.commit()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(ActionOut(ok=True, message=result.message, detail=result.detail).model_dump())
    return redirect_with_notice(
        f"/documents/{done.created[0]}/split",
        result.message,
        context,
        served_over_https(request, context.settings),
    )
