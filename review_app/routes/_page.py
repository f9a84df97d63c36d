"""Rendering a page for a signed-in user: the layout's common values and the one-shot notice."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

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


def redirect_with_notice(url: str, message: str, context: ReviewContext) -> Response:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        NOTICE_COOKIE,
        quote(message[:300]),
        httponly=True,
        samesite="lax",
        secure=context.settings.cookie_secure,
        max_age=60,
    )
    return response
