"""Fixtures of the model-operations tests: a migrated store with the registry, on each database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def root(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The models folder of a fresh install whose trained models wait as candidates."""
    if request.param == "postgresql":
        monkeypatch.setenv("LEDGERBOT_DATABASE_URL", request.getfixturevalue("pg_url"))
    monkeypatch.setenv("LEDGERBOT_MODELOPS_TRAINED_STATE", "candidate")
    get_settings.cache_clear()
    get_store()  # a migrated store in this test's home
    return get_settings().models_dir
