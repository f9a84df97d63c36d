"""Small reads of a SQLite store with the standard library, for commands that start often.

Loading SQLAlchemy costs about half a second of CPU; a command that only reads a few rows
(``ledgerbot status``, which model version an extraction loads) should not pay it on the default
embedded store. ``query`` answers one statement on a SQLite file whose schema is at every head
revision of this code, opened read-only; it answers None for anything else (another database, a
store still to migrate, a missing file or table, any SQLite error), and the caller then takes
the full way through ``ledgerbot.core.store``, which migrates and writes as it always does.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

MIGRATIONS_DIR = Path(__file__).with_name("store") / "migrations"

# Documents per life-cycle state (``Store.state_counts`` runs it too).
COUNT_BY_STATE = "SELECT state, COUNT(*) FROM documents GROUP BY state"

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
# A SQLite file URL as the settings give it; ``sqlite://`` (memory) and URLs with options are not.
_SQLITE_FILE = re.compile(r"^sqlite(?:\+pysqlite)?:///([^?]+)$")


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


def query(url: str, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]] | None:
    """The rows of ``sql`` on the store at ``url``, or None where this quick read cannot answer."""
    found = _SQLITE_FILE.match(url)
    if found is None:
        return None
    path = Path(found.group(1))
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10)) as db:
            applied = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
            if applied != head_revisions():
                return None
            return db.execute(sql, parameters).fetchall()
    except sqlite3.Error:
        return None


def state_counts(url: str) -> dict[str, int] | None:
    """Documents per life-cycle state, every state listed (zero included), or None as ``query``."""
    from ledgerbot.core.states import DocState

    rows = query(url, COUNT_BY_STATE)
    if rows is None:
        return None
    return {**{state.value: 0 for state in DocState}, **{str(state): int(n) for state, n in rows}}
