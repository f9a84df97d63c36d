"""User administration for admins: who may sign in, with which role, locale and approval limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from ledgerbot.core.store.review import ROLES, UserRow
from review_app.deps import Context, CsrfUser, CurrentUser, DbSession, RowId, served_over_https
from review_app.routes._page import redirect_with_notice, render
from review_app.security import Forbidden, SignedIn, UserError, add_user, update_user
from review_app.validation import Reading, known_locale, read_amount

router = APIRouter(tags=["users"])
UserId = RowId
LOCALES = ("en_GB", "en_US", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "nl_NL", "it_IT", "es_ES", "pl_PL")


def _admin(user: SignedIn) -> None:
    if not user.is_admin:
        raise Forbidden("only an admin manages users")


def _limit(text: str, reading: Reading) -> Decimal | None:
    """An approval limit as the admin typed it, read like any amount (``7.500,00``, ``7,500.00``)."""
    try:
        return read_amount(text, reading)
    except ValueError as error:
        raise UserError(f"approval limit {error}") from None


def _locale(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > 20 or not known_locale(stripped):
        raise UserError(f"{stripped[:20]!r} is not a locale (for example de_DE or en_GB)")
    return stripped


@router.get("/admin/users", response_class=HTMLResponse, summary="Users (admins only)")
def users_page(request: Request, context: Context, session: DbSession, user: CurrentUser) -> Response:
    _admin(user)
    rows = list(session.scalars(select(UserRow).order_by(UserRow.username)))
    return render(
        request,
        context,
        user,
        "users.html",
        {
            "users": rows,
            "roles": ROLES,
            "locales": LOCALES,
            "default_locale": context.settings.default_locale,
        },
    )


@router.post("/admin/users", response_class=HTMLResponse, summary="Add a user (admins only)")
def create_user(
    request: Request,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)],
    locale: Annotated[str, Form(max_length=40)] = "",
    approval_limit: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    _admin(user)
    row = add_user(session, username, password, role)
    row.locale = _locale(locale)
    row.approval_limit = _limit(approval_limit, context.controls.reading(user, {}))
    session.commit()
    secure = served_over_https(request, context.settings)
    return redirect_with_notice("/admin/users", f"user {row.username} added as {row.role}", context, secure)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse, summary="Change a user (admins only)")
def change_user(
    request: Request,
    user_id: UserId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    role: Annotated[str, Form(max_length=20)],
    active: Annotated[str, Form(max_length=5)] = "",
    locale: Annotated[str, Form(max_length=40)] = "",
    approval_limit: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    _admin(user)
    row = session.get(UserRow, user_id)
    if row is None:
        raise UserError(f"no user {user_id}")
    if row.id == user.user_id and (role != "admin" or not active):
        raise UserError("an admin cannot take away their own admin role or sign-in")
    changes = update_user(
        session,
        row,
        role=role,
        active=bool(active),
        locale=_locale(locale),
        approval_limit=_limit(approval_limit, context.controls.reading(user, {})),
        password=password or None,
    )
    session.commit()
    message = f"user {row.username}: " + (", ".join(changes) + " changed" if changes else "nothing changed")
    return redirect_with_notice(
        "/admin/users", message, context, served_over_https(request, context.settings)
    )
