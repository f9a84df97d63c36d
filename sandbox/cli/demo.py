"""``ledgerbot demo``: the end-to-end demo on the sandbox ERP and a private IMAP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import emit, stderr


def demo(
    var: Annotated[Path, typer.Option(help="Working folder; the demo resets var/demo")] = Path("var"),
    n: Annotated[int, typer.Option("--n", help="Documents in the generated batch")] = 60,
) -> None:
    """End to end: sandbox ERP + IMAP server, a mailed batch, every robot, a checked summary."""
    from sandbox.demo import run_demo

    summary = run_demo(var, n=n)
    emit(summary)
    stderr.print(
        f"[bold]demo done[/bold]: {summary['documents_received']} documents received, "
        f"{summary['auto_posted']} posted straight through, "
        f"{sum(summary['sent_to_review_by_reason'].values())} open exceptions, "
        f"{summary['failed']} failed; ERP agrees with the store: {summary['erp_agrees_with_store']}"
    )
