"""Shared fixtures: an isolated store per test on SQLite, and on the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore, Store

PG_ADMIN_URL = os.environ.get("LEDGERBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own LEDGERBOT_HOME, so nothing leaks into ./var."""
    home = tmp_path / "var"
    monkeypatch.setenv("LEDGERBOT_HOME", str(home))
    # Folders a developer's shell may point elsewhere: a test writes only under its own home.
    for name in ("DATABASE_URL", "MODELS", "TEMPLATES_DIR", "REPORT_DIR"):
        monkeypatch.delenv(f"LEDGERBOT_{name}", raising=False)
    get_settings.cache_clear()
    import ledgerbot.core.store.engine as engine

    monkeypatch.setattr(engine, "_default", None)
    yield home
    get_settings.cache_clear()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"ledgerbot_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each database the product supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    store = Store(url)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def file_store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


def _schedule_rank(item: pytest.Item) -> tuple[int, float]:
    """Heavy modules first, the longest-allowed of them first; then slow ones; then the rest."""
    if item.get_closest_marker("heavy"):
        timeout = item.get_closest_marker("timeout")
        return 0, -float(timeout.args[0]) if timeout and timeout.args else 0.0
    return (1 if item.get_closest_marker("slow") else 2), 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order whole modules longest-first, so that the parallel workers (``-n 2 --dist loadfile``
    with ``--no-loadscope-reorder``) finish together instead of one running a long module last.
    The order of tests inside a module is kept."""
    modules: dict[str, tuple[int, float]] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        module = item.nodeid.split("::", 1)[0]
        modules[module] = min(modules.get(module, (3, 0.0)), _schedule_rank(item))
        first.setdefault(module, index)
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(
        key=lambda item: (
            *modules[item.nodeid.split("::", 1)[0]],
            first[item.nodeid.split("::", 1)[0]],
            order[id(item)],
        )
    )
