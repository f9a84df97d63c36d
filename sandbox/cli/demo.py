"""``ledgerbot demo``: the end-to-end demo on the sandbox ERP or a real Tryton, with a private IMAP server."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ledgerbot.cli.app import emit, stderr
from sandbox.demo_targets import TARGETS, DemoTargetName


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    # A terminated demo unwinds like an interrupted one: the servers it started are stopped.
    sys.exit(128 + signum)


def demo(
    var: Annotated[Path, typer.Option(help="Working folder; the demo resets var/demo")] = Path("var"),
    n: Annotated[int, typer.Option("--n", help="Documents in the generated batch")] = 60,
    target: Annotated[
        str,
        typer.Option(help=f"The ERP invoices are posted into: {' or '.join(TARGETS)}, through its screens"),
    ] = "sandbox",
) -> None:
    """End to end: an ERP + IMAP server, a mailed batch, every robot, a checked summary."""
    from sandbox.demo import run_demo

    if target not in TARGETS:
        raise typer.BadParameter(f"{target!r} is not one of {', '.join(TARGETS)}", param_hint="--target")
    chosen: DemoTargetName = "tryton" if target == "tryton" else "sandbox"
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    summary = run_demo(var, n=n, target=chosen)
    emit(summary)
    stderr.print(
        f"[bold]demo done[/bold] in {summary['wall_seconds']} s: {summary['documents_received']} documents "
        f"received, {summary['auto_posted']} posted straight through into {summary['target']}, "
        f"{sum(summary['sent_to_review_by_reason'].values())} open exceptions, "
        f"{summary['failed']} failed; ERP agrees with the store: {summary['erp_agrees_with_store']}"
    )
    stderr.print(f"finance workbook: {summary['report']}")
    stderr.print(
        "work the open exceptions in the review app: `ledgerbot users add YOUR_NAME --role admin` "
        "then `ledgerbot review` (both open the demo's store until you have documents of your own)"
    )
