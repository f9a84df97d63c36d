"""The exception queue: filter, sort, paginate; as a page and as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ledgerbot.core.store.models import utcnow
from review_app import queue
from review_app.actions import parse_amount
from review_app.deps import Context, CurrentUser, DbSession, ReviewContext, page_view
from review_app.routes._page import json_response, render
from review_app.schemas import QueueItem, QueuePageOut
from review_app.security import SignedIn

router = APIRouter(tags=["queue"])
SORT_KEYS = ("age", "amount", "vendor", "reason", "assignee")


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str | None = Field(default=None, max_length=50)
    vendor: str | None = Field(default=None, max_length=300)
    assignee: str | None = Field(
        default=None, max_length=100, description='A user name, "me" or "-" (nobody)'
    )
    min_amount: str | None = Field(default=None, max_length=30)
    max_amount: str | None = Field(default=None, max_length=30)
    sort: Literal["age", "amount", "vendor", "reason", "assignee"] = "age"
    desc: bool = False
    page: int = Field(default=1, ge=1, le=100000)

    def to_filter(self, user: SignedIn, page_size: int) -> queue.QueueFilter:
        return queue.QueueFilter(
            reason=self.reason or None,
            vendor=self.vendor or None,
            assignee=user.username if self.assignee == "me" else (self.assignee or None),
            min_amount=parse_amount(self.min_amount),
            max_amount=parse_amount(self.max_amount),
            sort=self.sort,
            descending=self.desc,
            page=self.page,
            page_size=page_size,
        )


def _sla(hours: float, warn: float, breach: float) -> str:
    return "breach" if hours >= breach else "warn" if hours >= warn else "ok"


def _queue_version(context: ReviewContext, session: Session) -> int:
    """Apply what the pipeline did since the last look, then read the version the page shows."""
    if context.sync():
        # A transaction that has read already (the user's session) goes on seeing the store as
        # it was then: start another one to see what the sync applied.
        session.commit()
    return queue.version(session)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One row of the queue page: a ``QueueItem`` without pydantic's validation of trusted rows."""

    document_id: int
    state: str
    vendor_id: str | None
    vendor_name: str
    invoice_number: str | None
    currency: str | None
    total: Decimal | None
    reasons: list[str]
    received_at: datetime
    age_hours: float
    sla: str
    assignee: str | None
    awaiting_second_approval: bool
    # Formatted here: a method call or a %-format inside the row loop costs the template more
    # than all the row's other values together.
    received: str  # ISO 8601 to the minute
    age: str  # whole hours


@dataclass(frozen=True, slots=True)
class QueueView:
    """One page of the queue without its rows: what the pager and the headings show."""

    total: int
    page: int
    pages: int
    page_size: int
    sort: str
    descending: bool


def _rows(context: Context, entries: list[queue.Entry], now: datetime) -> list[QueueRow]:
    settings = context.settings
    warn, breach = settings.sla_warn_hours, settings.sla_breach_hours
    rows = []
    for e in entries:
        hours = queue.age_hours(e.received_at, now)
        rows.append(
            QueueRow(
                document_id=e.document_id,
                state=e.state,
                vendor_id=e.vendor_id,
                vendor_name=e.vendor_name,
                invoice_number=e.invoice_number,
                currency=e.currency,
                total=e.total,
                reasons=[r for r in e.reasons.split(",") if r],
                received_at=e.received_at,
                age_hours=round(hours, 1),
                sla=_sla(hours, warn, breach),
                assignee=e.assignee,
                awaiting_second_approval=e.awaiting_second_approval,
                received=e.received_at.isoformat(timespec="minutes"),
                age=f"{hours:.0f}",
            )
        )
    return rows


def _page(
    context: Context, session: DbSession, user: SignedIn, params: QueueQuery, at: int
) -> tuple[queue.QueueFilter, queue.QueuePage, QueueView]:
    f = params.to_filter(user, context.settings.page_size)
    result = queue.list_queue(session, f, context.cache, at)
    view = QueueView(
        total=result.total,
        page=result.page,
        pages=result.pages,
        page_size=result.page_size,
        sort=params.sort,
        descending=params.desc,
    )
    return f, result, view


def _rows_html(
    context: Context, user: SignedIn, f: queue.QueueFilter, result: queue.QueuePage, at: int
) -> Markup:
    """The table rows of one page, rendered once per queue version, user and minute.

    The rows are most of the queue page's cost, and they change only with the queue (the
    version), with who looks (their own rows have no Claim button) and with the time (ages and
    SLA colours, shown in whole hours: counted to the whole minute, they are at most a minute late).
    """
    now = utcnow().replace(second=0, microsecond=0)
    key = ("rows.html", f, user.username, now)
    html: Markup | None = context.cache.get(at, key)
    if html is None:
        rows = _rows(context, result.entries, now)
        html = Markup(context.pages.get_template("queue_rows.html").render(rows=rows, user=user))
        context.cache.put(at, key, html)
    return html


@router.get("/api/queue", response_model=QueuePageOut, summary="One page of the exception queue")
def queue_json(
    context: Context, session: DbSession, user: CurrentUser, params: Annotated[QueueQuery, Query()]
) -> Response:
    _, result, view = _page(context, session, user, params, _queue_version(context, session))
    rows = _rows(context, result.entries, utcnow())
    page = QueuePageOut(
        items=[QueueItem(**{key: getattr(row, key) for key in QueueItem.model_fields}) for row in rows],
        total=view.total,
        page=view.page,
        pages=view.pages,
        page_size=view.page_size,
        sort=view.sort,
        descending=view.descending,
    )
    return json_response(page)


@router.get("/queue", response_class=HTMLResponse, summary="The exception queue page")
async def queue_page(request: Request, context: Context, params: Annotated[QueueQuery, Query()]) -> Response:
    # The most viewed page: its whole work in one trip to the thread pool (see ``page_view``).
    return await run_in_threadpool(_queue_page, request, context, params)


def _queue_page(request: Request, context: ReviewContext, params: QueueQuery) -> Response:
    with page_view(request, context) as (session, user):
        at = _queue_version(context, session)
        f, result, page = _page(context, session, user, params, at)
        rows_html = _rows_html(context, user, f, result, at)
        reasons = [code for code in queue.reason_codes(session, context.cache, at) if code]
    query = {
        key: (str(value).lower() if isinstance(value, bool) else value)
        for key, value in params.model_dump(exclude_defaults=True, exclude={"page"}).items()
    }
    # Links are built here once rather than by template macros per column: the queue page is the
    # most viewed page and template calls are its main cost.
    sort_links = {}
    for key in SORT_KEYS:
        flip = not page.descending if page.sort == key else False
        target = {**query, "sort": key, "desc": "true" if flip else "false"}
        arrow = (" ▼" if page.descending else " ▲") if page.sort == key else ""
        sort_links[key] = {"url": "/queue?" + urlencode(target), "arrow": arrow}
    prev_url = "/queue?" + urlencode({**query, "page": page.page - 1}) if page.page > 1 else None
    next_url = "/queue?" + urlencode({**query, "page": page.page + 1}) if page.page < page.pages else None
    return render(
        request,
        context,
        user,
        "queue.html",
        {
            "page": page,
            "rows_html": rows_html,
            "params": params,
            "query": query,
            "reasons": reasons,
            "sort_links": sort_links,
            "prev_url": prev_url,
            "next_url": next_url,
        },
    )
