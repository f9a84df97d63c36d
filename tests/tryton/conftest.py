"""One real Tryton for the whole test run: installed once, seeded once, served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.tryton.client import TrytonErp
from ledgerbot.core.store import Store
from sandbox.corpus.planner import TAX_RATES
from sandbox.tryton.environment import (
    ROBOT_LOGIN,
    ROBOT_PASSWORD,
    RunningTryton,
    ensure_installed,
    running_tryton,
    seed_payload,
    seeded_database,
)
from tests.support import MASTER

# The orders the tests invoice: open and closed, EUR, GBP and USD, full, partial, split and
# missing deliveries. Seeding all 320 orders would take minutes.
SEEDED_ORDERS = [po.po_number for po in MASTER.purchase_orders[:20]]


@pytest.fixture(scope="session")
def tryton_template() -> Path:
    install = ensure_installed()
    return seeded_database(install, seed_payload(MASTER, TAX_RATES, SEEDED_ORDERS))


@pytest.fixture(scope="session")
def tryton(tryton_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTryton]:
    install = ensure_installed()
    with running_tryton(install, tryton_template, tmp_path_factory.mktemp("tryton")) as server:
        yield server


@pytest.fixture
def tryton_rpc(tryton: RunningTryton) -> Iterator[TrytonErp]:
    with TrytonErp(tryton.url, tryton.database, ROBOT_LOGIN, ROBOT_PASSWORD, mode="rpc") as erp:
        yield erp


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    return store
