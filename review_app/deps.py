"""Request dependencies: the app context, a database session, the signed-in user and the CSRF check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store import Store
from review_app.actions import Controls
from review_app.config import ReviewSettings
from review_app.queue import QueueCache, QueueSync
from review_app.render import PageRenderer
from review_app.security import (
    SessionTouches,
    SignedIn,
    is_trusted_proxy,
    resolve_session,
    tokens_match,
    trusted_client,
)

SESSION_COOKIE = "lb_session"
LOGIN_CSRF_COOKIE = "lb_login_csrf"
NOTICE_COOKIE = "lb_notice"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Requests that only read: their sessions never take the store's write lock (see ``db_session``).
READ_METHODS = frozenset({"GET", "HEAD"})


class NotSignedIn(LedgerbotError):
    code = "E704"


class CsrfRejected(LedgerbotError):
    code = "E705"


@dataclass
class ReviewContext:
    """Everything the routes share, built once by ``create_app``."""

    store: Store
    settings: ReviewSettings
    renderer: PageRenderer
    sync: QueueSync
    pages: Jinja2Templates
    cache: QueueCache
    controls: Controls
    touches: SessionTouches


async def get_context(request: Request) -> ReviewContext:
    # async on purpose: a plain attribute read should not cost a hop to the thread pool.
    context: ReviewContext = request.app.state.review
    return context


Context = Annotated[ReviewContext, Depends(get_context)]


async def db_session(request: Request, context: Context) -> AsyncIterator[Session]:
    # async on purpose: opening a session touches no database (the connection is taken on first
    # use, in a thread) and closing one hands the connection back without waiting; as a sync
    # generator, each would cost a hop to the thread pool and back on every request. No query
    # ever runs on the event loop: with the pool empty it would block the loop that returns
    # connections to the pool.
    # A page view only reads, so on SQLite it takes no lock: views in every worker process run
    # side by side, and never wait behind a writer. Actions keep the write lock from their start.
    opened = context.store.read_session() if request.method in READ_METHODS else context.store.session()
    with opened as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]
# A row id in a path: a table's integer key, so a number no column holds is a 422, not a database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def client_address(request: Request, settings: ReviewSettings) -> str | None:
    """The caller's address when trusted proxies vouch for it; ``None`` when it is not known."""
    peer = request.client.host if request.client else None
    return trusted_client(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


def served_over_https(request: Request, settings: ReviewSettings) -> bool:
    """Whether the browser talks HTTPS: directly, or to a trusted proxy that says so."""
    if settings.cookie_secure or request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and is_trusted_proxy(peer, settings.trusted_proxies)


def _signed_in(request: Request, session: Session, context: ReviewContext) -> SignedIn | None:
    """The session cookie's user, read in ``session``; a last use it owes is noted, not yet written."""
    idle = timedelta(minutes=context.settings.idle_minutes)
    return resolve_session(session, request.cookies.get(SESSION_COOKIE), idle=idle, touches=context.touches)


def _write_touches(context: ReviewContext) -> None:
    if context.touches.pending:
        # In a write transaction of its own: the request's reads never hold the write lock.
        context.touches.write()


def current_user(request: Request, session: DbSession, context: Context) -> SignedIn:
    user = _signed_in(request, session, context)
    # Hand the connection back before the route waits for a thread: a request must not hold
    # one of the pool's connections while it queues, or a burst can exhaust the pool with
    # requests that wait for threads held by requests that wait for connections.
    session.commit()
    _write_touches(context)
    if user is None:
        raise NotSignedIn("sign in first")
    return user


@contextmanager
def page_view(request: Request, context: ReviewContext) -> Iterator[tuple[Session, SignedIn]]:
    """A page view's read session and signed-in user, for a route that runs in one thread trip.

    The most viewed pages do their whole work in one call to the thread pool, with this instead
    of the ``DbSession`` and ``CurrentUser`` dependencies: the user is read in the page's own
    read transaction, so the view takes one connection, one transaction and one thread once,
    where the dependencies take each twice (and FastAPI's dependency solving costs more than the
    session read). The user is checked exactly as ``current_user`` checks it.
    """
    with context.store.read_session() as session:
        user = _signed_in(request, session, context)
        _write_touches(context)
        if user is None:
            raise NotSignedIn("sign in first")
        yield session, user


CurrentUser = Annotated[SignedIn, Depends(current_user)]


async def csrf_checked(request: Request, user: CurrentUser) -> SignedIn:
    """The signed-in user, once the request proves it came from one of our pages."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not tokens_match(user.csrf_token, given):
        raise CsrfRejected("the form's security token is missing or stale; reload the page and try again")
    return user


CsrfUser = Annotated[SignedIn, Depends(csrf_checked)]
