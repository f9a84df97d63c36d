"""The circuit breaker on the target system: a down ERP pauses posting, reported once per run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ledgerbot.circuit import CircuitBreaker
from ledgerbot.core.domain import DocState
from ledgerbot.core.store import FileStore, Store
from tests.support import approved_document, clean_invoices, seed_master_data, state_of, vendor_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_n_faults_in_a_row_and_tries_one_after_the_pause() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, pause=60, clock=clock)
    for outcome in ("retry_later", "retry_later", "posted", "retry_later", "retry_later"):
        breaker.record(outcome)
    assert breaker.allow() and breaker.state == "closed"  # an answer in between resets the count
    breaker.record("rejected")  # a business refusal is an answer too
    for _ in range(3):
        breaker.record("retry_later")
    assert not breaker.allow() and breaker.state == "open"
    report = breaker.pause_report(7)
    assert report is not None and report["documents_left_for_later"] == 7
    assert report["after_consecutive_faults"] == 3
    clock.now += 61
    assert breaker.allow() and breaker.state == "half_open"
    breaker.record("retry_later")  # the trial failed: a fresh window at once
    assert not breaker.allow()
    clock.now += 61
    breaker.record("posted")
    assert breaker.state == "closed" and breaker.pause_report(0) is None


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.slow
@pytest.mark.browser
def test_a_down_erp_costs_n_documents_then_posting_pauses(tmp_path: Path, file_store: FileStore) -> None:
    from adapters.sandbox_erp.client import SandboxErp
    from ledgerbot.posting import post_approved

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    seed_master_data(store)
    ids = [approved_document(store, file_store, inv, vendor_of(inv)) for inv in list(clean_invoices())[:6]]
    breaker = CircuitBreaker(failures=2, pause=300)
    with SandboxErp(_closed_port(), "ap-robot", "x", timeout_ms=3000) as erp:  # nothing listens there
        summary = post_approved(
            store, erp, screenshots=tmp_path, attempts=2, backoff=0.01, breaker=breaker
        ).summary()
        assert summary["retry_later"] == 2 and summary["posted"] == 0
        assert summary["paused"]["documents_left_for_later"] == 4
        # The next run inside the window leaves the ERP alone and says so, once.
        again = post_approved(store, erp, screenshots=tmp_path, attempts=2, backoff=0.01, breaker=breaker)
        assert again.summary()["paused"]["documents_left_for_later"] == 6 and not again.retry_later
    assert all(state_of(store, i) == DocState.APPROVED for i in ids)
