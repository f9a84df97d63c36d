"""One robot run of each kind, assembled from settings: what robot tasks and the CLI call.

Each function opens what it needs (store, mailbox, browser), runs one pass, closes everything
and returns a JSON-able summary; failures of single items are in the summary, not raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.settings import Settings, get_settings
from ledgerbot.core.store import FileStore, Store, get_store
from ledgerbot.core.target import TargetSystem
from ledgerbot.targets import open_target


def _context(settings: Settings | None) -> tuple[Settings, Store, FileStore]:
    settings = settings or get_settings()
    return settings, get_store(), FileStore(settings.files_dir)


def mail_intake(settings: Settings | None = None) -> dict[str, Any]:
    from ledgerbot.mail.intake import ImapMailbox, run_mail_intake

    settings, store, files = _context(settings)
    mail = settings.mail
    mailbox = ImapMailbox(mail)
    try:
        return run_mail_intake(store, files, mailbox, mail).summary()
    finally:
        mailbox.close()


def mail_intake_reported(settings: Settings | None = None) -> dict[str, Any]:
    """Mail intake whose mailbox-wide failure (unreachable, bad settings) is reported, not raised,
    so that processing and posting after it still run."""
    try:
        return mail_intake(settings)
    except LedgerbotError as error:
        return {"error": error.as_dict()}


def folder_intake(settings: Settings | None = None, folder: Path | None = None) -> dict[str, Any]:
    """Receive every file of the inbox folder (``LEDGERBOT_INBOX``), each on its own.

    Files stay where they are; a file that cannot be taken is a failed document with its code,
    and running it again records nothing twice.
    """
    from ledgerbot.core.safe_files import display_name
    from ledgerbot.intake import folder_entries, receive_path

    _, store, files = _context(settings)
    folder = folder or get_settings().worker.inbox
    if folder is None or not folder.is_dir():
        return {"received": 0, "failed": 0, "already_received": 0, "details": []}
    details = []
    for path in folder_entries(folder, skip=("received", "failed")):
        received = receive_path(store, files, path, source="folder")
        details.append({"file": display_name(path.name), **received.as_dict()})
    return {
        "received": sum(1 for d in details if "code" not in d and not d.get("already_received")),
        "failed": sum(1 for d in details if "code" in d and not d.get("already_received")),
        "already_received": sum(1 for d in details if d.get("already_received")),
        "details": details,
    }


def _target(settings: Settings) -> TargetSystem:
    return open_target(settings.target)


def erp_pull(settings: Settings | None = None, *, full: bool = False) -> dict[str, Any]:
    from ledgerbot.erp_sync import pull_master_data

    settings, store, _ = _context(settings)
    target = _target(settings)
    try:
        return pull_master_data(store, target, full=full).summary()
    finally:
        target.close()


def process(
    settings: Settings | None = None, *, progress: Callable[[Any], Any] = lambda items: items
) -> dict[str, Any]:
    from ledgerbot.processing import PipelineReader, process_pending

    settings, store, files = _context(settings)
    outcomes = process_pending(
        store, files, PipelineReader(), policy_path=settings.policy.path, progress=progress
    )
    by_state: dict[str, int] = {}
    for outcome in outcomes:
        by_state[outcome.state] = by_state.get(outcome.state, 0) + 1
    return {"processed": len(outcomes), "by_state": by_state}


def post(
    settings: Settings | None = None, *, progress: Callable[[Any], Any] = lambda items: items
) -> dict[str, Any]:
    from ledgerbot.posting import post_approved

    settings, store, _ = _context(settings)
    target = _target(settings)
    try:
        return post_approved(
            store,
            target,
            screenshots=settings.screenshots_dir,
            attempts=settings.target.post_attempts,
            backoff=settings.target.post_backoff_seconds,
            lease=timedelta(seconds=settings.target.lease_seconds),
            progress=progress,
        ).summary()
    finally:
        target.close()


def run_once(
    settings: Settings | None = None, *, mail: bool = True, pull: bool = True, posting: bool = True
) -> dict[str, Any]:
    """Intake (mail, ERP master data) -> processing -> posting, once."""
    summary: dict[str, Any] = {}
    if pull:
        summary["erp_pull"] = erp_pull(settings)
    if mail:
        summary["mail_intake"] = mail_intake_reported(settings)
    summary["processing"] = process(settings)
    if posting:
        summary["posting"] = post(settings)
    return summary
