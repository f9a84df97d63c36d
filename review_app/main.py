"""The review app: FastAPI, server-rendered pages, one process over the same store as the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerbot.core.errors import (
    ApprovalLimitExceeded,
    ClaimHeld,
    CorrectionInvalid,
    FourEyesRequired,
    LedgerbotError,
    LoginSlowedDown,
    ReasonMissing,
    SplitCorrectionRefused,
)
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore, Store
from review_app import evidence
from review_app.actions import ActionError, Conflict, Controls
from review_app.config import ReviewSettings, get_review_settings
from review_app.deps import CsrfRejected, NotSignedIn, ReviewContext
from review_app.queue import QueueCache, QueueSync
from review_app.render import NotRenderable, PageRenderer
from review_app.security import Forbidden, SessionTouches
from review_app.validation import show_money, show_number

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    # No inline script or style anywhere: the page's JS positions boxes through the CSSOM.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds the security headers to every response (plain ASGI: no per-request task overhead)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Invoice data never sits in a shared or back-button cache.
        private = scope["path"].startswith(("/queue", "/documents", "/api")) and not scope["path"].endswith(
            ".png"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
                if private:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# HTTP answers of the review errors catalogued in ledgerbot.core.errors.
_STATUS: dict[type[LedgerbotError], int] = {
    CorrectionInvalid: 422,
    ReasonMissing: 422,
    ClaimHeld: 409,
    ApprovalLimitExceeded: 403,
    FourEyesRequired: 403,
    LoginSlowedDown: 429,
    SplitCorrectionRefused: 422,
}


def _status(error: LedgerbotError) -> int:
    if isinstance(error, ActionError):
        return error.status
    if type(error) in _STATUS:
        return _STATUS[type(error)]
    if isinstance(error, CsrfRejected | Forbidden):
        return 403
    if isinstance(error, NotRenderable):
        return 404
    return 400


def create_app(store: Store | None = None, settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or get_review_settings()
    if store is None:
        from ledgerbot.core.store import get_store

        store = get_store()
    core = get_settings()
    # Compiled once per process; the page files ship with the code, so nothing is re-checked
    # per request (auto_reload would stat every template on every render).
    pages = Jinja2Templates(
        env=Environment(
            loader=FileSystemLoader(HERE / "pages"), autoescape=select_autoescape(), auto_reload=False
        )
    )
    pages.env.filters["num"] = show_number
    pages.env.filters["money"] = show_money
    pages.env.filters["reason_words"] = evidence.words
    pages.env.globals["evidence"] = evidence.describe
    context = ReviewContext(
        store=store,
        settings=settings,
        renderer=PageRenderer(FileStore(core.files_dir), settings.cache_dir, settings.render_scale),
        sync=QueueSync(store, settings.sync_interval_seconds),
        pages=pages,
        cache=QueueCache(),
        controls=Controls.from_settings(settings),
        touches=SessionTouches(store),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The thread pool is per event loop, so it is sized once the server's loop runs.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="ledgerbot review",
        summary="Where AP clerks resolve invoice exceptions",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.review = context
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, error: NotSignedIn) -> Response:
        if request.url.path.startswith("/api") or request.method != "GET":
            return JSONResponse(error.as_dict(), status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StaleDataError)
    async def _concurrent_change(request: Request, error: StaleDataError) -> Response:
        # Two people acted on the same document at once; the document's version column let only
        # one of them through. The other gets a clear conflict, never a 500.
        return await _ledgerbot_error(
            request, Conflict("someone else changed this document at the same moment; reload and check")
        )

    @app.exception_handler(LedgerbotError)
    async def _ledgerbot_error(request: Request, error: LedgerbotError) -> Response:
        status = _status(error)
        wants_json = request.url.path.startswith("/api") or "application/json" in request.headers.get(
            "accept", ""
        )
        if wants_json:
            body_json: dict[str, Any] = {"code": error.code, "message": error.message}
            if isinstance(error, CorrectionInvalid):
                body_json["errors"] = error.errors
            return JSONResponse(body_json, status_code=status)
        body: dict[str, Any] = {"request": request, "error": error, "status": status}
        return pages.TemplateResponse(request, "error.html", body, status_code=status)

    from review_app.routes import (
        actions,
        auth,
        documents,
        models,
        queue,
        splits,
        template_drafts,
        users,
        vendor_templates,
    )

    for module in (auth, queue, documents, actions, splits, template_drafts, users, vendor_templates, models):
        app.include_router(module.router)

    from review_app.metrics import mount_metrics

    mount_metrics(app, store)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index() -> Response:
        return RedirectResponse("/queue", status_code=303)

    return app
