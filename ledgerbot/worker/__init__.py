"""Scale-out mode: the processing and posting stages as procrastinate jobs on PostgreSQL.

    export LEDGERBOT_DATABASE_URL=postgresql+psycopg://user@db/ledgerbot
    export LEDGERBOT_ERP_URL=http://erp:8070        # posting robot's target (optional)
    ledgerbot worker --metrics-port 9108            # on every machine, as many as wanted
    ledgerbot worker dispatch                        # queue what is waiting now (also periodic)

The first worker migrates the store (alembic) and applies procrastinate's own schema with its
schema manager; both happen under a PostgreSQL advisory lock, so workers can start together.
The files folder (``LEDGERBOT_HOME/files``) must be shared between machines. Jobs are
at-least-once; their effects are exactly-once (idempotent stages, search-before-type posting,
one posting job per ERP account through procrastinate's ``lock``). Workers whose heartbeat stops
(killed, cut off) have their running jobs retried by the periodic ``recover_stalled`` job and by
every worker at start-up. The embedded SQLite mode needs none of this and stays the default.
"""

from ledgerbot.worker.app import build_app, enqueue_pending, ensure_schema, recover_stalled

__all__ = ["build_app", "enqueue_pending", "ensure_schema", "recover_stalled"]
