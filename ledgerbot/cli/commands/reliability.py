"""Recovery and integrity commands: retry failed documents, verify the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, fail, stderr

audit_app = typer.Typer(help="The audit trail: verify its hash chain.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-compute the audit trail's hash chain: one JSON object; exit 1 (E030) when it is broken."""
    from ledgerbot.core.errors import AuditChainBroken
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.audit_chain import verify

    with get_store().session() as session:
        report = verify(session)
    emit(report.as_dict())
    if not report.ok:
        raise fail(report.line(), code=AuditChainBroken.code)
    stderr.print(report.line(), highlight=False)


@app.command()
def retry(
    doc: Annotated[str | None, typer.Argument(help="Document id or sha256 prefix")] = None,
    code: Annotated[
        str | None,
        typer.Option("--code", help="Every failed document whose failure has this code (E204, E2xx)"),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why it is retried; kept in the audit trail")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who asks (default: user:<login name>)")] = None,
) -> None:
    """Send failed documents back for another try: one JSON line per document retried."""
    from ledgerbot.core.errors import LedgerbotError
    from ledgerbot.core.store import get_store
    from ledgerbot.retry import default_actor, failed_ids, resolve
    from ledgerbot.retry import retry as retry_one

    if (doc is None) == (code is None):
        raise fail("give either a document or --code, not both or neither", code="E015")
    if not reason.strip():
        raise fail("a retry needs a reason (--reason)", code="E015")
    store = get_store()
    ids = [resolve(store, doc)] if doc is not None else failed_ids(store, code)
    refused = 0
    for doc_id in ids:
        try:
            emit(retry_one(store, doc_id, reason=reason, by=by or default_actor()).as_dict())
        except LedgerbotError as error:
            refused += 1
            stderr.print(f"[red]error[/red] {error}", highlight=False, markup=False)
    stderr.print(f"{len(ids) - refused} document(s) sent back for another try", highlight=False)
    if refused and doc is not None:
        raise typer.Exit(1)
