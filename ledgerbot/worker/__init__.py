"""Scale-out mode: the processing and posting stages as procrastinate jobs on PostgreSQL."""

from ledgerbot.worker.app import build_app, enqueue_pending, ensure_schema, recover_stalled

__all__ = ["build_app", "enqueue_pending", "ensure_schema", "recover_stalled"]
