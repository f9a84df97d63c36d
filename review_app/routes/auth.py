"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerbot.core.errors import LoginSlowedDown
from review_app.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Context,
    CsrfRejected,
    CsrfUser,
    DbSession,
    client_address,
    served_over_https,
)
from review_app.security import authenticate, close_session, new_token, open_session, tokens_match

router = APIRouter(tags=["auth"])


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" or "https://..." would make the login an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _login_page(
    request: Request,
    context: Context,
    *,
    error: str | None = None,
    next_url: str = "/queue",
    status: int = 200,
) -> Response:
    token = new_token()
    response = context.pages.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "error": error, "next": _safe_next(next_url)},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request, context.settings),
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse, summary="The sign-in form")
def login_form(request: Request, context: Context, next: str | None = None) -> Response:
    return _login_page(request, context, next_url=next or "/queue")


@router.post("/login", response_class=HTMLResponse, summary="Sign in")
def login(
    request: Request,
    context: Context,
    session: DbSession,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise CsrfRejected("the sign-in form expired; reload the page and try again")
    client = client_address(request, context.settings)
    try:
        user = authenticate(session, context.settings, username, password, client)
    except LoginSlowedDown as error:
        page = _login_page(
            request, context, error=f"{error.message} ({error.code})", next_url=next, status=429
        )
        page.headers["Retry-After"] = str(error.evidence.get("retry_after", 1))
        return page
    if user is None:
        session.commit()  # the failed attempt counts towards throttling even though we answer 401
        return _login_page(
            request, context, error="Unknown user name or wrong password.", next_url=next, status=401
        )
    token = open_session(session, context.settings, user)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=served_over_https(request, context.settings),
        max_age=int(context.settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", response_class=HTMLResponse, summary="Sign out")
def logout(request: Request, session: DbSession, user: CsrfUser) -> Response:
    close_session(session, request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
