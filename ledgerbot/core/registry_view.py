"""Which model version runs, read from the registry without loading the database layer.

Every extraction asks the model registry which cascade and ranker version to load and whether
another one is in shadow or canary: a few one-row reads. Through SQLAlchemy they cost its import
(about half a second of CPU) on every start of ``ledgerbot extract``. On a SQLite store whose
schema is at this code's head revisions they are read here with the standard library
(``ledgerbot.core.sqlite_read``). Anything else (PostgreSQL, a store still to migrate, a version
the registry has not seen and must register, a read that fails) goes the full way through
``ledgerbot.core.modelops``, which migrates and registers as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledgerbot.core.settings import get_settings
from ledgerbot.core.sqlite_read import query

# The registered kinds of model, by artifact name; other artifacts (a cascade's components) are
# pinned by the model that uses them and are not registered on their own.
KINDS = {"cascade": "classifier", "extractor-ranker": "ranker"}


def root_key(root: Path) -> str:
    return str(Path(root).resolve())


def in_canary(sha256: str, share: float) -> bool:
    """Whether a document is decided by the canary: a stable hash of its sha256 below ``share``."""
    if share <= 0:
        return False
    bucket = int(hashlib.sha256(f"canary:{sha256}".encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    return bucket < share


@dataclass(frozen=True)
class Trial:
    """A version of a model in shadow or canary beside the active one."""

    model_id: int
    name: str
    version: str
    state: str
    share: float

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def decides(self, sha256: str) -> bool:
        return self.state == "canary" and in_canary(sha256, self.share)


@dataclass(frozen=True)
class Registered:
    model_id: int
    version: str
    state: str


def registered(url: str, root: Path, name: str) -> list[Registered] | None:
    """The registry's versions of ``name`` under ``root``, or None where this quick read cannot
    answer (``ledgerbot.core.sqlite_read.query``)."""
    rows = query(
        url,
        "SELECT id, version, state FROM model_versions WHERE root = ? AND name = ?",
        (root_key(root), name),
    )
    return None if rows is None else [Registered(int(i), str(v), str(state)) for i, v, state in rows]


def _quick(root: Path, name: str) -> list[Registered] | None:
    settings = get_settings()
    if not settings.has_store:
        return []
    return registered(settings.resolved_database_url, root, name)


def chosen_version(root: Path, name: str, latest: str | None, exists: Iterable[str]) -> str | None:
    """The version to load for ``latest``: the registry's active one, else the newest artifact
    (``ledgerbot.core.modelops.chosen_version``, which this answers without it where it can)."""
    if name not in KINDS or latest is None:
        return latest
    rows = _quick(root, name)
    if rows == [] and not get_settings().has_store:
        return latest
    if rows is not None and any(row.version == latest for row in rows):
        active = next((row.version for row in rows if row.state == "active"), None)
        return active if active is not None and active in set(exists) else latest
    from ledgerbot.core.modelops import chosen_version as through_store

    return through_store(root, name, latest, exists)


def trial_for(root: Path, name: str) -> Trial | None:
    """The canary (else the shadow) version of ``name``, or None
    (``ledgerbot.core.modelops.trial_for``, which this answers without it where it can)."""
    rows = _quick(root, name)
    if rows is None:
        from ledgerbot.core.modelops import trial_for as through_store

        return through_store(root, name)
    for state in ("canary", "shadow"):
        row = next((r for r in rows if r.state == state), None)
        if row is not None:
            return Trial(row.model_id, name, row.version, state, get_settings().modelops.canary_share)
    return None
