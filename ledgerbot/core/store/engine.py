"""Engine and session factory for the store: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text

from ledgerbot.core.errors import ConfigError
from ledgerbot.core.settings import Settings, get_settings
from ledgerbot.core.states import DocState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the review app read while a robot writes; busy_timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Transactions are begun by _sqlite_begin below, not by the driver.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    """Begin every transaction IMMEDIATE: it takes the write lock up front.

    A deferred transaction that reads and then writes fails at once ("database is locked", no
    busy wait) when another process committed in between; with several processes on one store
    that happens all the time. IMMEDIATE makes it wait its turn (busy_timeout) instead, and
    makes a read-then-write (a claim check, the audit chain's head) atomic.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise ConfigError(f"unsupported database URL scheme: {url.split(':', 1)[0]}", code="E002")


class Store:
    """The one way into the database: an engine, a session factory and migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory: sessionmaker[Session] | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Store:
        settings = settings or get_settings()
        return cls(settings.resolved_database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        session = self._sessions()()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _sessions(self) -> sessionmaker[Session]:
        if self._factory is None:
            # Deferred: the ORM and its mappers cost more than a read-only command's whole run;
            # importing the models registers every table and the audit chain's hook.
            from sqlalchemy.orm import sessionmaker

            from ledgerbot.core.store import models  # noqa: F401

            self._factory = sessionmaker(self.engine, expire_on_commit=False)
        return self._factory

    def state_counts(self) -> dict[str, int]:
        """Documents per life-cycle state, every state listed (zero included), read with one
        query and no ORM."""
        counts = {state.value: 0 for state in DocState}
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT state, COUNT(*) FROM documents GROUP BY state"))
            counts.update({str(state): int(n) for state, n in rows})
        return counts

    def migrate(self, revision: str = "heads") -> None:
        from alembic import command

        command.upgrade(alembic_config(self.url), revision)

    def is_migrated(self) -> bool:
        return inspect(self.engine).has_table("alembic_version")

    def is_current(self) -> bool:
        """Whether the schema is at every head revision, read without loading Alembic.

        Loading Alembic and its migration scripts takes about a second; a command that only reads
        the store (``ledgerbot status``) should not pay it when there is nothing to migrate.
        """
        if not self.is_migrated():
            return False
        with self.engine.connect() as conn:
            applied = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        return applied == head_revisions()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions no other migration builds on, from the version files' own declarations."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return frozenset(revisions - parents)


_default: Store | None = None


def get_store() -> Store:
    """The process-wide store from settings, migrated on first use."""
    global _default
    if _default is None:
        store = Store.from_settings()
        if not store.is_current():
            store.migrate()
        _default = store
    return _default
