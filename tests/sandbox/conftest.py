"""Fixtures for the sandbox tests. ERP fixtures are named ``erp_*``."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.sandbox.erp_support import ErpClock


@pytest.fixture
def erp_clock() -> ErpClock:
    return ErpClock()


@pytest.fixture
def erp_sleeps() -> list[float]:
    """Every sleep the ERP's slow pages asked for (recorded instead of slept)."""
    return []


@pytest.fixture(scope="session")
def erp_seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database seeded with the default master data, copied by each test (seeding costs time)."""
    from sandbox.erp.db import ErpDatabase

    path = tmp_path_factory.mktemp("erp-template") / "erp.db"
    ErpDatabase(path).initialise()
    return path


@pytest.fixture
def erp_app_factory(
    tmp_path: Path, erp_seeded_db: Path, erp_clock: ErpClock, erp_sleeps: list[float]
) -> Callable[..., FastAPI]:
    """Builds ERPs over one database file in tmp_path, with the test clock and a recording sleep."""
    from sandbox.erp import create_app

    db_path = tmp_path / "erp.db"
    shutil.copyfile(erp_seeded_db, db_path)

    def make(**options: Any) -> FastAPI:
        options.setdefault("session_ttl", 600)
        options.setdefault("clock", erp_clock)
        options.setdefault("sleep", erp_sleeps.append)
        return create_app(db_path, **options)

    return make


@pytest.fixture
def erp_app(erp_app_factory: Callable[..., FastAPI]) -> FastAPI:
    return erp_app_factory()


@pytest.fixture
def erp_anon(erp_app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client that has not logged in."""
    with TestClient(erp_app) as client:
        yield client


@pytest.fixture
def erp_client(erp_anon: TestClient) -> TestClient:
    """A client logged in as the robot account."""
    response = erp_anon.post("/login", data={"username": "ap-robot", "password": "robot-pass-1", "next": "/"})
    assert response.status_code == 200 and response.url.path == "/"
    return erp_anon
