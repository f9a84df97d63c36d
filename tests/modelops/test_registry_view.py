"""The registry read without the database layer: the same answers as the full read, without
SQLAlchemy's import on a current SQLite store, and the full read wherever it cannot answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledgerbot.core import modelops, registry_view
from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.modelops import promote, register_trained
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store
from tests.modelops.test_registry import save

REPO = Path(__file__).resolve().parents[2]


def _shadowed(root: Path) -> tuple[str, str]:
    first, second = save(root, "a" * 64, 1), save(root, "b" * 64, 2)
    register_trained(root, first.ref)
    register_trained(root, second.ref)
    with get_store().session() as session:
        promote(session, root, "cascade", second.version, actor="user:ann", reason="try it")
    return first.version, second.version


def test_the_quick_read_answers_as_the_store_does(root: Path) -> None:
    active, candidate = _shadowed(root)
    store = ArtifactStore(root)
    versions = store.versions("cascade")
    for name in ("cascade", "extractor-ranker"):
        assert registry_view.trial_for(root, name) == modelops.trial_for(root, name)
    trial = registry_view.trial_for(root, "cascade")
    assert trial is not None and (trial.version, trial.state) == (candidate, "shadow")
    quick = registry_view.chosen_version(root, "cascade", candidate, versions)
    assert quick == modelops.chosen_version(root, "cascade", candidate, versions) == active
    url = get_settings().resolved_database_url
    rows = registry_view.registered(url, root, "cascade")
    if url.startswith("sqlite"):
        assert rows is not None and {(r.version, r.state) for r in rows} == {
            (active, "active"),
            (candidate, "shadow"),
        }
    else:  # PostgreSQL goes the full way
        assert rows is None


def test_extraction_reads_the_registry_without_loading_sqlalchemy(root: Path) -> None:
    if not get_settings().resolved_database_url.startswith("sqlite"):
        return
    active, candidate = _shadowed(root)
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ledgerbot.core.artifacts import ArtifactStore\n"
        "from ledgerbot.trials import _trial_for\n"
        f"root = Path({str(root)!r})\n"
        "trial = _trial_for(root, 'cascade')\n"
        "print(json.dumps([ArtifactStore(root).resolve('cascade').version, trial.version, trial.state,"
        " 'sqlalchemy' in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [active, candidate, "shadow", False], done.stderr


def test_a_store_to_migrate_or_a_version_to_register_goes_the_full_way(root: Path) -> None:
    if not get_settings().resolved_database_url.startswith("sqlite"):
        return
    from alembic import command

    from ledgerbot.core.store.engine import alembic_config

    first = save(root, "a" * 64, 1)
    url = get_settings().resolved_database_url
    # Not registered yet: the quick read finds nothing, the full read registers it as it runs.
    assert registry_view.registered(url, root, "cascade") == []
    assert ArtifactStore(root).resolve("cascade").version == first.version
    assert [r.state for r in registry_view.registered(url, root, "cascade") or []] == ["active"]
    store = get_store()
    command.downgrade(alembic_config(store.url), "1850")
    assert registry_view.registered(url, root, "cascade") is None  # an older schema: not read here
    assert ArtifactStore(root).resolve("cascade").version == first.version
    assert store.is_current()  # the full read brought it up to date
    assert registry_view.registered("sqlite://", root, "cascade") is None
    assert registry_view.registered(url.replace("ledgerbot.db", "missing.db"), root, "cascade") is None
