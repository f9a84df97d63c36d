"""The store: SQLAlchemy models, engine, migrations and content-addressed files.

Importing the package loads only the engine (SQLAlchemy Core): a command that only counts rows
(``ledgerbot status``) does not build the ORM mappers. The mapped tables, the review app's and the
registry's included, and the audit chain's hook are registered together by
``ledgerbot.core.store.models``, which every session and every migration loads first.
"""

from ledgerbot.core.store.engine import Store, get_store
from ledgerbot.core.store.files import FileStore

__all__ = ["FileStore", "Store", "get_store"]
