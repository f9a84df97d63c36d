"""Rendering a page for a signed-in user: the layout's common values, the one-shot notice, JSON bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from review_app.deps import NOTICE_COOKIE, ReviewContext
from review_app.security import SignedIn


def render(
    request: Request,
    context: ReviewContext,
    user: SignedIn,
    template: str,
    values: dict[str, Any],
    status: int = 200,
) -> Response:
    notice = request.cookies.get(NOTICE_COOKIE)
    body = {
        "user": user,
        "csrf_token": user.csrf_token,
        "notice": unquote(notice) if notice else None,
        **values,
    }
    response = context.pages.TemplateResponse(request, template, body, status_code=status)
    if notice:
        response.delete_cookie(NOTICE_COOKIE)
    return response


def redirect_with_notice(url: str, message: str, context: ReviewContext, secure: bool = False) -> Response:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        NOTICE_COOKIE,
        quote(message[:300]),
        httponly=True,
        samesite="lax",
        secure=secure or context.settings.cookie_secure,
        max_age=60,
    )
    return response


def json_response(model: BaseModel) -> Response:
    """A validated model as JSON, serialised in the route's own thread.

    Returned as a response, so FastAPI does not validate it a second time in another trip to the
    thread pool, which the request would wait for while its session still holds a database
    connection (enough of those at once, and requests wait for threads held by requests that
    wait for connections). The route keeps ``response_model`` for the OpenAPI schema.
    """
    return JSONResponse(model.model_dump(mode="json"))
