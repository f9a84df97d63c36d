"""Engine and session factory for the store: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text

from ledgerbot.core.errors import ConfigError
from ledgerbot.core.settings import Settings, get_settings
from ledgerbot.core.sqlite_read import COUNT_BY_STATE, head_revisions
from ledgerbot.core.states import DocState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


# Execution options a session's engine carries to ``_sqlite_begin``: how its transactions begin.
READ_ONLY = "ledgerbot_read_only"
LOCK_WAIT_MS = "ledgerbot_lock_wait_ms"
# The lock wait of every other transaction, in milliseconds (SQLite's busy_timeout).
BUSY_TIMEOUT_MS = 30000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the review app read while a robot writes; busy_timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    # Transactions are begun by _sqlite_begin below, not by the driver.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    """Begin a write transaction IMMEDIATE (the write lock up front), a read-only one DEFERRED.

    A deferred transaction that reads and then writes fails at once ("database is locked", no
    busy wait) when another process committed in between; with several processes on one store
    that happens all the time. IMMEDIATE makes it wait its turn (busy_timeout) instead, and
    makes a read-then-write (a claim check, the audit chain's head) atomic.

    A read-only transaction (``Store.read_session``) takes no lock, so readers in any number of
    processes never wait for each other or for a writer (WAL). ``query_only`` makes a write in
    one fail loudly instead of upgrading it to a write that may fail on a moved snapshot. A
    transaction with a lock wait (``Store.session(lock_wait=...)``) waits that long for the write
    lock instead of the usual busy_timeout.
    """
    options = connection.get_execution_options()
    # Per database connection (the pool's record), so each pragma runs only when it changes.
    state = connection.connection.info
    read_only = bool(options.get(READ_ONLY))
    if state.get(READ_ONLY, False) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        state[READ_ONLY] = read_only
    if read_only:
        connection.exec_driver_sql("BEGIN")
        return
    wait = options.get(LOCK_WAIT_MS)
    if wait is None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait)}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


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
        self._factories: dict[tuple[bool, int | None], sessionmaker[Session]] = {}

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Store:
        settings = settings or get_settings()
        return cls(settings.resolved_database_url)

    @contextmanager
    def session(self, *, lock_wait: float | None = None) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error.

        On SQLite it holds the write lock from its start; ``lock_wait`` (seconds) bounds the wait
        for it (the default waits out any writer), for a write that may give up and retry later.
        """
        wait_ms = None if lock_wait is None else max(0, round(lock_wait * 1000))
        with _unit(self._sessions(read_only=False, lock_wait_ms=wait_ms)) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A unit of reading: never takes the write lock, so it never waits for a writer.

        On SQLite a write in it fails ("attempt to write a readonly database"). PostgreSQL reads
        take no locks that writers wait on in the first place; there each statement commits on
        its own (see ``_reader``).
        """
        with _unit(self._sessions(read_only=True, lock_wait_ms=None)) as session:
            yield session

    def _reader(self) -> Engine:
        """The engine of read-only work.

        On PostgreSQL its statements run without BEGIN and COMMIT (two round trips fewer per
        unit): under READ COMMITTED, the default, each statement of a transaction reads its own
        snapshot anyway, so a read-only unit sees exactly what it would inside a transaction.
        """
        if self.engine.dialect.name == "postgresql":
            return self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self.engine.execution_options(**{READ_ONLY: True})

    def _sessions(self, *, read_only: bool, lock_wait_ms: int | None) -> sessionmaker[Session]:
        key = (read_only, lock_wait_ms)
        factory = self._factories.get(key)
        if factory is None:
            # Deferred: the ORM and its mappers cost more than a read-only command's whole run;
            # importing the models registers every table and the audit chain's hook.
            from sqlalchemy.orm import sessionmaker

            from ledgerbot.core.store import models  # noqa: F401

            bind = self.engine
            if read_only:
                bind = self._reader()
            elif lock_wait_ms is not None:
                bind = bind.execution_options(**{LOCK_WAIT_MS: lock_wait_ms})
            factory = sessionmaker(bind, expire_on_commit=False)
            self._factories[key] = factory
        return factory

    def state_counts(self) -> dict[str, int]:
        """Documents per life-cycle state, every state listed (zero included), read with one
        query and no ORM."""
        counts = {state.value: 0 for state in DocState}
        with self._reader().connect() as conn:
            rows = conn.execute(text(COUNT_BY_STATE))
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


@contextmanager
def _unit(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session from ``factory`` that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


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
