"""Robot runs from the command line: one pass (`run`) or on a schedule (`schedule`)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit


@app.command()
def run(
    mail: Annotated[bool, typer.Option("--mail/--no-mail", help="Read the AP mailbox first")] = True,
    pull: Annotated[bool, typer.Option("--pull/--no-pull", help="Pull master data from the ERP")] = True,
) -> None:
    """Intake -> processing -> posting, once. One JSON summary on stdout."""
    from ledgerbot import runner

    emit(runner.run_once(mail=mail, pull=pull))


@app.command()
def schedule(
    intake_every: Annotated[float, typer.Option(help="Minutes between intake + processing runs")] = 5,
    post_every: Annotated[float, typer.Option(help="Minutes between posting runs")] = 15,
    pull_every: Annotated[float, typer.Option(help="Minutes between ERP master-data pulls")] = 60,
    iterations: Annotated[int, typer.Option(help="Stop after this many loop turns (0 = run forever)")] = 0,
) -> None:
    """Run the robots on their cadences on this worker until stopped (Ctrl-C / SIGTERM).

    Posting holds the ERP account's lease, so several machines running this never drive one ERP
    account at the same time. Each run prints one JSON line; a failing run is reported and the
    schedule goes on.
    """
    from ledgerbot import runner

    jobs = [
        ("erp_pull", pull_every * 60, runner.erp_pull),
        ("intake", intake_every * 60, lambda: {"mail": runner.mail_intake(), "processing": runner.process()}),
        ("posting", post_every * 60, runner.post),
    ]
    due = {name: 0.0 for name, _, _ in jobs}
    turns = 0
    while iterations == 0 or turns < iterations:
        turns += 1
        for name, every, job in jobs:
            if time.monotonic() < due[name]:
                continue
            due[name] = time.monotonic() + every
            try:
                emit({"job": name, "ok": True, "summary": job()})
            except Exception as error:  # a failing run is reported; the next one is on schedule
                code = getattr(error, "code", "E099")
                emit({"job": name, "ok": False, "error": {"code": code, "message": str(error)[:500]}})
        if iterations == 0 or turns < iterations:
            time.sleep(max(1.0, min(due.values()) - time.monotonic()))
