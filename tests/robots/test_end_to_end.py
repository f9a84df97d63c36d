"""The demo flow on a small batch: mail -> robots -> sandbox ERP, in a real headless Chromium."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from classifiers.train import train_all
from classifiers.transformer import TransformerConfig
from extractors.generic.training import train_ranker
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow
from sandbox.corpus import generate_corpus
from sandbox.demo import run_demo

pytestmark = [pytest.mark.slow, pytest.mark.browser]
FINAL_OR_WAITING = {"posted", "exception", "rejected", "failed", "duplicate", "matched"}


@pytest.fixture(scope="module")
def trained_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small but real models: a cascade and a ranker trained on a generated development corpus."""
    var = tmp_path_factory.mktemp("var")
    corpus = var / "training-corpus"
    generate_corpus(corpus, n=160, seed=5, split="dev", scans=False)
    models = var / "models"
    config = TransformerConfig(max_length=64, batch_size=8, epochs=1, max_steps=20, threads=2)
    train_all([corpus], models, transformer_config=config, seed=0)
    train_ranker(corpus, models_dir=models, log=lambda _m: None)
    return var


def test_a_mailed_batch_ends_in_the_erp_exactly_as_in_the_store(
    trained_var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("LEDGERBOT_")]:
        monkeypatch.delenv(key)
    summary = run_demo(trained_var, n=14)
    assert summary["erp_agrees_with_store"] is True
    assert summary["documents_received"] >= summary["mails_sent_documents"] - 1
    assert summary["posted_total"] >= 1, summary
    assert summary["failed"] == 0, summary
    home = trained_var / "demo"
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
