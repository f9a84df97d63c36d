"""The sandbox ERP web application: server-rendered screens only, no API, deliberately legacy in feel.

``create_app`` builds one instance over one SQLite file (seeded on first start). The screens
and every id/name a robot may target are described in ``sandbox/erp/README.md``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from sandbox.erp.auth import SESSION_COOKIE, SessionManager, default_users
from sandbox.erp.db import ErpDatabase
from sandbox.erp.entry import LINE_FIELDS, FieldError, InvoiceForm, line_field, post_invoice, validate
from sandbox.erp.formatting import format_amount, format_date, format_price, format_quantity, format_timestamp
from sandbox.masterdata import DEFAULT_SEED

DEFAULT_SESSION_TTL = 900.0
PO_STATUSES = ("open", "closed")


class LoginRequired(Exception):
    """Raised by the session dependency; answered with a redirect to the login screen."""

    def __init__(self, next_url: str, expired: bool) -> None:
        self.next_url = next_url
        self.expired = expired


@dataclass(frozen=True)
class Session:
    session_id: str
    user: str


class SlowPages:
    """Every ``every``-th request to a list screen sleeps ``seconds``, like an overloaded legacy host."""

    def __init__(self, every: int, seconds: float, sleep: Callable[[float], None]) -> None:
        self.every, self.seconds, self._sleep = every, seconds, sleep
        self._count = 0
        self._lock = threading.Lock()

    def tick(self) -> None:
        if self.every <= 0:
            return
        with self._lock:
            self._count += 1
            slow = self._count % self.every == 0
        if slow:
            self._sleep(self.seconds)


def current_session(request: Request) -> Session:
    """The logged-in session, or a redirect to the login screen (remembering where to return)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    user, expired = request.app.state.sessions.resolve(session_id)
    if user is None or session_id is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = request.url.path  # a lost POST cannot be replayed; return to its screen
        raise LoginRequired(target, expired)
    return Session(session_id=session_id, user=user)


Auth = Annotated[Session, Depends(current_session)]


def _safe_next(url: str | None) -> str:
    """Only local paths: ``next`` must not turn the login screen into an open redirect."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def create_app(
    db_path: Path | str,
    *,
    seed: int = DEFAULT_SEED,
    session_ttl: float = DEFAULT_SESSION_TTL,
    slow_every: int = 0,
    slow_seconds: float = 2.0,
    users: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> FastAPI:
    """One ERP over ``db_path`` (created and seeded from ``seed`` if new).

    ``clock`` and ``sleep`` exist so tests can expire sessions and observe slow pages without
    waiting; ``slow_every=0`` turns slow pages off.
    """
    db = ErpDatabase(Path(db_path))
    db.initialise(seed)
    sessions = SessionManager(db, users if users is not None else default_users(), session_ttl, clock)
    slow = SlowPages(slow_every, slow_seconds, sleep)

    env = Environment(
        loader=PackageLoader("sandbox.erp", "pages"), autoescape=select_autoescape(default=True)
    )
    env.filters.update(
        date=format_date,
        amount=format_amount,
        price=format_price,
        qty=format_quantity,
        timestamp=format_timestamp,
    )
    env.globals.update(line_field=line_field, LINE_FIELDS=LINE_FIELDS)
    templates = Jinja2Templates(env=env)

    app = FastAPI(title="Sandbox ERP", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db = db
    app.state.sessions = sessions
    app.state.slow = slow

    def page_url(request: Request, page: int) -> str:
        query = dict(request.query_params)
        query["page"] = str(page)
        return f"{request.url.path}?{urlencode(query)}"

    env.globals["page_url"] = page_url

    def render(
        request: Request, template: str, session: Session | None, /, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        context.update(user=session.user if session else None, server_time=time.strftime("%d.%m.%Y %H:%M:%S"))
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    @app.exception_handler(LoginRequired)
    async def _login_redirect(request: Request, exc: LoginRequired) -> Response:
        query = {"next": exc.next_url}
        if exc.expired:
            query["reason"] = "expired"
        response = RedirectResponse(f"/login?{urlencode(query)}", status_code=303)
        if exc.expired:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- login -------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/", reason: str = "") -> HTMLResponse:
        return render(
            request, "login.html", None, next=_safe_next(next), reason=reason, error=None, username=""
        )

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        next_url = _safe_next(str(form.get("next", "/")))
        if not await run_in_threadpool(sessions.authenticate, username, password):
            return render(
                request,
                "login.html",
                None,
                status_code=401,
                next=next_url,
                reason="",
                error="Invalid user name or password.",
                username=username,
            )
        session_id = await run_in_threadpool(sessions.open, username)
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax", path="/")
        return response

    @app.get("/logout")
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login?reason=logout", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, session: Auth) -> HTMLResponse:
        return render(request, "home.html", session, counts=db.counts())

    # -- master data -------------------------------------------------------------------------

    @app.get("/vendors", response_class=HTMLResponse)
    def vendor_list(request: Request, session: Auth, page: str = "1", name: str = "") -> HTMLResponse:
        slow.tick()
        result = db.list_vendors(_page_number(page), name.strip())
        return render(request, "vendor_list.html", session, result=result, name=name)

    @app.get("/vendors/{vendor_id}", response_class=HTMLResponse)
    def vendor_detail(request: Request, session: Auth, vendor_id: str) -> HTMLResponse:
        vendor = db.vendor(vendor_id)
        if vendor is None:
            return render(request, "not_found.html", session, 404, what=f"Vendor {vendor_id}")
        return render(request, "vendor_detail.html", session, vendor=vendor)

    @app.get("/orders", response_class=HTMLResponse)
    def order_list(
        request: Request, session: Auth, page: str = "1", vendor_id: str = "", status: str = ""
    ) -> HTMLResponse:
        slow.tick()
        status = status if status in PO_STATUSES else ""
        result = db.list_orders(_page_number(page), vendor_id.strip(), status)
        return render(
            request,
            "order_list.html",
            session,
            result=result,
            vendor_id=vendor_id,
            status=status,
            statuses=PO_STATUSES,
        )

    @app.get("/orders/{po_number}", response_class=HTMLResponse)
    def order_detail(request: Request, session: Auth, po_number: str) -> HTMLResponse:
        order = db.order(po_number)
        if order is None:
            return render(request, "not_found.html", session, 404, what=f"Purchase order {po_number}")
        return render(request, "order_detail.html", session, order=order)

    @app.get("/receipts", response_class=HTMLResponse)
    def receipt_list(request: Request, session: Auth, page: str = "1", po_number: str = "") -> HTMLResponse:
        slow.tick()
        result = db.list_receipts(_page_number(page), po_number.strip())
        return render(request, "receipt_list.html", session, result=result, po_number=po_number)

    @app.get("/receipts/{receipt_number}", response_class=HTMLResponse)
    def receipt_detail(request: Request, session: Auth, receipt_number: str) -> HTMLResponse:
        receipt = db.receipt(receipt_number)
        if receipt is None:
            return render(request, "not_found.html", session, 404, what=f"Goods receipt {receipt_number}")
        return render(request, "receipt_detail.html", session, receipt=receipt)

    # -- invoices ----------------------------------------------------------------------------

    def entry_page(
        request: Request,
        session: Session,
        form: InvoiceForm,
        errors: list[FieldError],
        status_code: int = 200,
    ) -> HTMLResponse:
        by_field: dict[str, list[FieldError]] = {}
        for error in errors:
            by_field.setdefault(error.field, []).append(error)
        token = sessions.issue_form_token(session.session_id)
        return render(
            request,
            "invoice_entry.html",
            session,
            status_code=status_code,
            form=form,
            errors=errors,
            field_errors=by_field,
            form_token=token,
        )

    @app.get("/invoices/new", response_class=HTMLResponse)
    def invoice_entry(
        request: Request, session: Auth, vendor_id: str = "", po_number: str = ""
    ) -> HTMLResponse:
        form = InvoiceForm()
        form.header["vendor_id"] = vendor_id.strip().upper()
        form.header["po_number"] = po_number.strip().upper()
        order = db.order(po_number) if po_number.strip() else None
        if order is not None:
            form.header["vendor_id"] = form.header["vendor_id"] or order["vendor_id"]
            form.header["currency"] = order["currency"]
        return entry_page(request, session, form, [])

    @app.post("/invoices/new", response_class=HTMLResponse)
    async def invoice_submit(request: Request, session: Auth) -> Response:
        data = await request.form()
        form = InvoiceForm.from_form(data)
        action = str(data.get("action", "post"))
        token = str(data.get("form_token", ""))

        def handle() -> Response:
            if not sessions.consume_form_token(session.session_id, token):
                error = FieldError(
                    "form",
                    "FORM_TOKEN_INVALID",
                    "This form has expired or was already submitted. "
                    "Check the posted invoices before entering it again.",
                )
                return entry_page(request, session, form, [error], 409)
            if action == "add_row":
                form.add_row()
                return entry_page(request, session, form, [])
            invoice, errors = validate(form, db)
            if invoice is None:
                return entry_page(request, session, form, errors, 422)
            doc_number, errors = post_invoice(db, invoice, user=session.user, now=clock())
            if doc_number is None:
                return entry_page(request, session, form, errors, 409)
            return RedirectResponse(f"/invoices/{doc_number}?posted=1", status_code=303)

        return await run_in_threadpool(handle)

    @app.get("/invoices", response_class=HTMLResponse)
    def invoice_list_redirect(request: Request, session: Auth) -> Response:
        return RedirectResponse("/invoices/search", status_code=303)

    @app.get("/invoices/search", response_class=HTMLResponse)
    def invoice_search(
        request: Request,
        session: Auth,
        page: str = "1",
        vendor_id: str = "",
        invoice_number: str = "",
        external_ref: str = "",
    ) -> HTMLResponse:
        slow.tick()
        result = db.search_invoices(_page_number(page), vendor_id, invoice_number.strip(), external_ref)
        criteria = {"vendor_id": vendor_id, "invoice_number": invoice_number, "external_ref": external_ref}
        return render(
            request,
            "invoice_search.html",
            session,
            result=result,
            criteria=criteria,
            searched=any(criteria.values()),
        )

    @app.get("/invoices/{doc_number}", response_class=HTMLResponse)
    def invoice_detail(request: Request, session: Auth, doc_number: str, posted: str = "") -> HTMLResponse:
        invoice = db.invoice(doc_number)
        if invoice is None:
            return render(request, "not_found.html", session, 404, what=f"Document {doc_number}")
        return render(request, "invoice_detail.html", session, invoice=invoice, just_posted=posted == "1")

    return app
