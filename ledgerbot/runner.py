"""One robot run of each kind, assembled from settings: what robot tasks and the CLI call.

Each function opens what it needs (store, mailbox, browser), runs one pass, closes everything
and returns a JSON-able summary; failures of single items are in the summary, not raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

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


def run_once(settings: Settings | None = None, *, mail: bool = True, pull: bool = True) -> dict[str, Any]:
    """Intake (mail, ERP master data) -> processing -> posting, once."""
    summary: dict[str, Any] = {}
    if pull:
        summary["erp_pull"] = erp_pull(settings)
    if mail:
        summary["mail_intake"] = mail_intake(settings)
    summary["processing"] = process(settings)
    summary["posting"] = post(settings)
    return summary
