"""The store: SQLAlchemy models, engine, migrations and content-addressed files."""

from ledgerbot.store.engine import Store, get_store
from ledgerbot.store.files import FileStore

__all__ = ["FileStore", "Store", "get_store"]
