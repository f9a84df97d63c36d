"""The demo flow on a small batch: mail -> robots -> sandbox ERP, in a real headless Chromium."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow
from sandbox.demo import run_demo

pytestmark = [pytest.mark.heavy, pytest.mark.slow, pytest.mark.browser]
FINAL_OR_WAITING = {"posted", "exception", "rejected", "failed", "duplicate", "matched"}


@pytest.fixture(scope="module")
def demo_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ``var/`` as on a fresh machine: the demo installs the models shipped with the code
    (their training is tested in ``tests/classifiers``), as ``make demo`` does."""
    return tmp_path_factory.mktemp("var")


def test_a_mailed_batch_ends_in_the_erp_exactly_as_in_the_store(
    demo_var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("LEDGERBOT_")]:
        monkeypatch.delenv(key)
    before = dict(os.environ)
    summary = run_demo(demo_var, n=14)
    # The demo's settings for its robots (home, models, ERP, mailbox) do not outlive it.
    assert dict(os.environ) == before
    assert summary["erp_agrees_with_store"] is True
    assert summary["documents_received"] >= summary["mails_sent_documents"] - 1
    assert summary["posted_total"] >= 1, summary
    assert summary["failed"] == 0, summary
    # The shipped models were installed, nothing was trained.
    assert (demo_var / "models" / "cascade").is_dir() and not (demo_var / "training-corpus").exists()
    home = demo_var / "demo"
    store = Store(f"sqlite:///{home / 'ledgerbot.db'}")
    with store.session() as s:
        states = {d.filename: d.state for d in s.scalars(select(DocumentRow))}
    assert set(states.values()) <= FINAL_OR_WAITING, states
    # No invoice with an injected mismatch reached the ERP.
    truths = {p.stem: json.loads(p.read_text()) for p in (home / "batch").glob("doc-*.json")}
    with sqlite3.connect(home / "erp.db") as conn:
        posted_numbers = {n for (n,) in conn.execute("SELECT invoice_number FROM invoices")}
    for truth in truths.values():
        if truth.get("mismatches") and truth.get("doc_type") == "invoice":
            number = truth["fields"]["invoice_number"]
            duplicate = any(m["type"] == "duplicate" for m in truth["mismatches"])
            assert duplicate or number not in posted_numbers, truth["mismatches"]
    assert (home / "ap-report.xlsx").stat().st_size > 5000
