"""Finance reports: the AP period report as an Excel workbook (``ledgerbot report``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledgerbot.core.store import Store
from ledgerbot.reports.data import ReportData, ReportError, collect
from ledgerbot.reports.excel import SHEETS, write_workbook


def write_report(store: Store, start: date, end: date, out: Path) -> Path:
    """Write the finance report for ``start``..``end`` (inclusive) to ``out`` and return the path."""
    if out.suffix.lower() != ".xlsx":
        raise ReportError(f"the report is an Excel workbook; name it .xlsx, not {out.name!r}")
    return write_workbook(collect(store, start, end), out)


__all__ = ["SHEETS", "ReportData", "ReportError", "collect", "write_report"]
