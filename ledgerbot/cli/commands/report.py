"""``ledgerbot report``: the finance report for a period as an Excel workbook."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, stderr


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from error


@app.command()
def report(
    start: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD, UTC)")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period, included (YYYY-MM-DD, UTC)")],
    out: Annotated[Path, typer.Option("--out", help="Workbook to write (.xlsx)")],
) -> None:
    """Processed invoices, open exceptions with ageing, straight-through rate, exceptions and
    spend by vendor, with charts. Prints one JSON object naming the file and its figures."""
    from ledgerbot.core.store import get_store
    from ledgerbot.reports import SHEETS, collect
    from ledgerbot.reports.data import ReportError
    from ledgerbot.reports.excel import write_workbook

    first, last = _day(start), _day(end)
    if out.suffix.lower() != ".xlsx":
        raise ReportError(f"the report is an Excel workbook; name it .xlsx, not {out.name!r}")
    started = datetime.now()
    data = collect(get_store(), first, last)
    path = write_workbook(data, out)
    stderr.print(f"report written to {path} in {(datetime.now() - started).total_seconds():.1f}s")
    emit(
        {
            "out": str(path),
            "from": first.isoformat(),
            "to": last.isoformat(),
            "sheets": list(SHEETS),
            "posted": len(data.processed),
            "open_exceptions": len(data.open_exceptions),
            "decided": data.decided,
            "straight_through_rate": round(data.straight_through_rate, 4),
            "audit_trail": data.audit_trail,
        }
    )
