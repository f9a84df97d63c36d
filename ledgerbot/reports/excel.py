"""The finance report as an Excel workbook: one sheet per view, native charts, typed cells."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ledgerbot.reports.data import ReportData

MONEY = "#,##0.00"
COUNT = "#,##0"
PERCENT = "0.0%"
CPU = "0.0000"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")

SHEETS = (
    "Summary",
    "Processed invoices",
    "Open exceptions",
    "Exceptions by reason",
    "Exceptions by vendor",
    "Spend by vendor",
    "Review decisions",
    "Drift trend",
    "Drift per stage",
    "Stage latency",
    "Cost per stage",
    "Cost per document",
)


def _cell_value(value: Any) -> Any:
    # Excel has no time zones; the report states that its times are UTC.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _table(
    ws: Worksheet,
    headers: Sequence[tuple[str, str | None, int]],
    rows: Sequence[Sequence[Any]],
    *,
    top: int = 1,
) -> None:
    """A header row (frozen, filtered) and typed rows; ``headers`` = (title, number format, width)."""
    for col, (title, _fmt, width) in enumerate(headers, start=1):
        cell = ws.cell(row=top, column=col, value=title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, values in enumerate(rows, start=top + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=_cell_value(value))
            fmt = headers[col - 1][1]
            if fmt and value is not None:
                cell.number_format = fmt
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    last = get_column_letter(len(headers))
    ws.auto_filter.ref = f"A{top}:{last}{top + max(len(rows), 1)}"


def _bar_chart(
    title: str, y_title: str, data_ref: Reference, cats_ref: Reference, *, horizontal: bool = False
) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.y_axis.title = y_title
    chart.legend = None
    chart.add_data(data_ref, titles_from_data=True)
    chart.set_categories(cats_ref)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.height, chart.width = 9, 18
    return chart


def _summary(ws: Worksheet, data: ReportData) -> None:
    ws["A1"] = "Accounts payable report"
    ws["A1"].font = Font(bold=True, size=14)
    facts: list[tuple[str, Any, str | None]] = [
        ("Period from", data.start, DATE),
        ("Period to", data.end, DATE),
        ("As of (UTC)", data.as_of, DATETIME),
        ("Invoices and credit notes posted", len(data.processed), COUNT),
        ("Documents reaching a decision (matched or sent to review)", data.decided, COUNT),
        ("Approved straight through", data.straight_through, COUNT),
        ("Straight-through rate", data.straight_through_rate, PERCENT),
        ("Open exceptions", len(data.open_exceptions), COUNT),
        ("CPU seconds per document (mean, documents received)", data.cpu_per_document.get("mean"), CPU),
        ("Audit trail (hash chain)", data.audit_trail, None),
    ]
    totals: dict[str, Decimal] = {}
    for invoice in data.processed:
        totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.total
    facts += [(f"Posted total {currency}", amount, MONEY) for currency, amount in sorted(totals.items())]
    for row, (label, value, fmt) in enumerate(facts, start=3):
        ws.cell(row=row, column=1, value=label).font = Font(bold=True)
        cell = ws.cell(row=row, column=2, value=_cell_value(value))
        if fmt:
            cell.number_format = fmt
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 18
    top = len(facts) + 5
    ageing = data.ageing()
    _table(ws, [("Open exceptions by age", None, 46), ("Exceptions", COUNT, 18)], ageing, top=top)
    chart = _bar_chart(
        "Open exceptions by age",
        "exceptions",
        Reference(ws, min_col=2, min_row=top, max_row=top + len(ageing)),
        Reference(ws, min_col=1, min_row=top + 1, max_row=top + len(ageing)),
    )
    ws.add_chart(chart, "D3")
    ws.freeze_panes = None  # a summary page, not a list: nothing to keep in view


def _processed(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Document", COUNT, 11),
        ("Type", None, 12),
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("Invoice number", None, 18),
        ("Invoice date", DATE, 12),
        ("Due date", DATE, 12),
        ("PO number", None, 13),
        ("Currency", None, 9),
        ("Net", MONEY, 14),
        ("Tax", MONEY, 12),
        ("Posted amount", MONEY, 15),
        ("ERP document", None, 16),
        ("ERP account", None, 30),
        ("Posted at (UTC)", DATETIME, 17),
        ("Approved by", None, 30),
        ("Approved at (UTC)", DATETIME, 17),
    ]
    rows = [
        (
            i.document_id,
            i.doc_type,
            i.vendor_id,
            i.vendor_name,
            i.invoice_number,
            i.invoice_date,
            i.due_date,
            i.po_number,
            i.currency,
            i.subtotal,
            i.tax_amount,
            i.total,
            i.erp_doc_number,
            i.erp_account,
            i.posted_at,
            i.approved_by,
            i.approved_at,
        )
        for i in data.processed
    ]
    _table(ws, headers, rows)


def _open_exceptions(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Exception", COUNT, 11),
        ("Document", COUNT, 11),
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("Invoice number", None, 18),
        ("Currency", None, 9),
        ("Amount", MONEY, 14),
        ("Reason", None, 22),
        ("Message", None, 60),
        ("Raised at (UTC)", DATETIME, 17),
        ("Age (days)", COUNT, 11),
        ("Age bucket", None, 14),
    ]
    rows = [
        (
            e.exception_id,
            e.document_id,
            e.vendor_id,
            e.vendor_name,
            e.invoice_number,
            e.currency,
            e.total,
            e.code,
            e.message,
            e.raised_at,
            e.age_days,
            e.bucket,
        )
        for e in data.open_exceptions
    ]
    _table(ws, headers, rows)


def _by_reason(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Reason", None, 26),
        ("Exceptions", COUNT, 13),
        ("Documents", COUNT, 12),
        ("Review rate (of documents decided)", PERCENT, 16),
        ("Resolved", COUNT, 11),
        ("Still open", COUNT, 11),
        ("Hours to resolve, median", "0.0", 14),
        ("Hours to resolve, p90", "0.0", 14),
    ]
    rows = [
        (
            r.code,
            r.exceptions,
            r.documents,
            r.review_rate,
            r.resolved,
            r.still_open,
            r.hours_to_resolve_p50,
            r.hours_to_resolve_p90,
        )
        for r in data.reasons
    ]
    _table(ws, headers, rows)
    if rows:
        chart = _bar_chart(
            "Exceptions by reason",
            "exceptions",
            Reference(ws, min_col=2, min_row=1, max_row=len(rows) + 1),
            Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1),
            horizontal=True,
        )
        ws.add_chart(chart, "J2")


def _by_vendor(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("Documents decided", COUNT, 12),
        ("Straight through", COUNT, 12),
        ("Straight-through rate", PERCENT, 13),
        ("Documents with exceptions", COUNT, 14),
        ("Exceptions", COUNT, 12),
    ]
    rows = [
        (
            v.vendor_id or "(no vendor)",
            v.vendor_name,
            v.decided,
            v.straight_through,
            (v.straight_through / v.decided) if v.decided else None,
            v.documents_with_exceptions,
            v.exceptions,
        )
        for v in data.exceptions_by_vendor
    ]
    _table(ws, headers, rows)


def _spend(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("Currency", None, 9),
        ("Invoices", COUNT, 10),
        ("Credit notes", COUNT, 10),
        ("Net", MONEY, 15),
        ("Tax", MONEY, 14),
        ("Total", MONEY, 15),
    ]
    rows = [
        (
            s.vendor_id,
            s.vendor_name,
            s.currency,
            s.invoices,
            s.credit_notes,
            s.subtotal,
            s.tax_amount,
            s.total,
        )
        for s in data.spend
    ]
    _table(ws, headers, rows)
    if rows:
        chart = _bar_chart(
            "Posted spend by vendor",
            "total",
            Reference(ws, min_col=8, min_row=1, max_row=len(rows) + 1),
            Reference(ws, min_col=2, min_row=2, max_row=len(rows) + 1),
            horizontal=True,
        )
        chart.height = max(9, 0.6 * len(rows))
        ws.add_chart(chart, "J2")


def _review_decisions(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Document", COUNT, 11),
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("At (UTC)", DATETIME, 17),
        ("User", None, 14),
        ("Action", None, 15),
        ("Over exceptions", None, 28),
        ("Reason code", None, 18),
        ("Reason", None, 34),
        ("Explanation", None, 60),
    ]
    rows = [
        (
            d.document_id,
            d.vendor_id,
            d.vendor_name,
            d.at,
            d.user,
            d.action,
            d.overridden,
            d.reason_code,
            d.reason_label,
            d.reason,
        )
        for d in data.review_decisions
    ]
    _table(ws, headers, rows)


def _drift(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Day", None, 12),
        ("Documents", "0", 11),
        ("Low-confidence type share", "0.0%", 16),
        ("New-vendor share", "0.0%", 14),
    ]
    rows = [
        (d["day"], d["documents"], d["low_confidence_share"], d["new_vendor_share"]) for d in data.drift_days
    ]
    _table(ws, headers, rows)


def _drift_stages(ws: Worksheet, data: ReportData) -> None:
    from ledgerbot.observability import CONFIDENCE_BUCKETS

    headers = [
        ("Day", None, 12),
        ("Stage", None, 22),
        ("Decisions", "0", 11),
        ("Low-confidence share", "0.0%", 16),
        ("Template-read share", "0.0%", 16),
        *((f"<= {bound}", "0", 8) for bound in CONFIDENCE_BUCKETS),
    ]
    rows = [
        (
            d["day"],
            d["stage"],
            d["documents"],
            d.get("low_confidence_share"),
            d.get("template_share"),
            *(d.get("histogram") or [None] * len(CONFIDENCE_BUCKETS)),
        )
        for d in data.drift_stages
    ]
    _table(ws, headers, rows)


def _latency(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Stage", None, 14),
        ("Documents", "0", 11),
        ("p50 seconds", "0.000", 12),
        ("p95 seconds", "0.000", 12),
        ("p99 seconds", "0.000", 12),
    ]
    rows = [
        (stage, f["documents"], f.get("p50"), f.get("p95"), f.get("p99"))
        for stage, f in data.stage_latency.items()
    ]
    _table(ws, headers, rows)


def _cost_per_stage(ws: Worksheet, data: ReportData) -> None:
    headers = [
        ("Stage", None, 14),
        ("Documents", COUNT, 11),
        ("CPU seconds", CPU, 13),
        ("Mean per document", CPU, 13),
        ("p50", CPU, 11),
        ("p95", CPU, 11),
        ("p99", CPU, 11),
    ]
    figures = [*data.cpu_per_stage.items(), ("whole document", data.cpu_per_document)]
    rows = [
        (
            stage,
            f.get("documents", 0),
            f.get("total"),
            f.get("mean"),
            f.get("p50"),
            f.get("p95"),
            f.get("p99"),
        )
        for stage, f in figures
    ]
    _table(ws, headers, rows)


def _cost_per_document(ws: Worksheet, data: ReportData) -> None:
    from ledgerbot.cost import STAGES

    headers = [
        ("Document", COUNT, 11),
        ("File", None, 30),
        ("Vendor id", None, 11),
        ("Vendor", None, 30),
        ("State", None, 11),
        *((f"{stage} CPU s", CPU, 12) for stage in STAGES),
        ("Total CPU s", CPU, 12),
    ]
    rows = [
        (
            c.document_id,
            c.filename,
            c.vendor_id,
            c.vendor_name,
            c.state,
            *(c.stages.get(stage) for stage in STAGES),
            c.total,
        )
        for c in data.document_costs
    ]
    _table(ws, headers, rows)


def write_workbook(data: ReportData, out: Path) -> Path:
    """Write ``data`` to ``out`` (.xlsx) atomically: a reader never sees a half-written file."""
    workbook = Workbook()
    sheets = [workbook.active] + [workbook.create_sheet() for _ in SHEETS[1:]]
    for ws, title, fill in zip(
        sheets,
        SHEETS,
        (
            _summary,
            _processed,
            _open_exceptions,
            _by_reason,
            _by_vendor,
            _spend,
            _review_decisions,
            _drift,
            _drift_stages,
            _latency,
            _cost_per_stage,
            _cost_per_document,
        ),
        strict=True,
    ):
        assert ws is not None
        ws.title = title
        fill(ws, data)
    workbook.properties.title = f"Accounts payable report {data.start.isoformat()} to {data.end.isoformat()}"
    workbook.properties.creator = "ledgerbot"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    workbook.save(partial)
    partial.replace(out)
    return out
