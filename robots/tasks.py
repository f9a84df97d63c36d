"""Robocorp task entry points: thin loops over the library, one per scheduled robot.

Run one with ``python -m robocorp.tasks run robots/tasks.py -t NAME``; the log is written to
``output/log.html``. Item-level problems are in the returned summary (and the log); a task
fails only when the robot itself cannot run (mailbox or ERP unreachable).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from robocorp import log
from robocorp.tasks import task

from ledgerbot import runner


def _report(name: str, summary: dict[str, object]) -> dict[str, object]:
    log.info(f"{name}: {json.dumps(summary, default=str)}")
    return summary


@task
def mail_intake() -> dict[str, object]:
    """Store every invoice attachment and link of the AP mailbox; move processed mail."""
    return _report("mail intake", runner.mail_intake())


@task
def folder_intake() -> dict[str, object]:
    """Store every file of the inbox folder; a file that cannot be taken is recorded with its code."""
    return _report("folder intake", runner.folder_intake())


@task
def erp_pull() -> dict[str, object]:
    """Bring vendors, purchase orders and goods receipts over from the ERP's screens."""
    return _report("erp pull", runner.erp_pull())


@task
def process_documents() -> dict[str, object]:
    """Classify, extract, validate and match every document waiting in the store."""
    return _report("processing", runner.process())


@task
def post_invoices() -> dict[str, object]:
    """Key every approved invoice into the ERP, exactly once."""
    return _report("posting", runner.post())


@task
def finance_report() -> dict[str, object]:
    """The finance workbook for the last 30 days, under output/."""
    from ledgerbot.core.store import get_store
    from ledgerbot.reports import write_report

    end = date.today()
    out = write_report(get_store(), end - timedelta(days=30), end, Path("output") / f"ap-report-{end}.xlsx")
    return _report("finance report", {"file": str(out)})
