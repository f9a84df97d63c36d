"""The store: SQLAlchemy models, engine, migrations and content-addressed files."""

# The review app's tables are part of the store: registering them here keeps the metadata (and an
# Alembic autogenerate) whole whichever entry point imported the store.
# Every audit row is chained whichever entry point writes it (the hook registers on import).
from ledgerbot.core.store import audit_chain as _audit_chain  # noqa: F401
from ledgerbot.core.store import registry as _registry  # noqa: F401
from ledgerbot.core.store import review as _review  # noqa: F401
from ledgerbot.core.store.engine import Store, get_store
from ledgerbot.core.store.files import FileStore

__all__ = ["FileStore", "Store", "get_store"]
