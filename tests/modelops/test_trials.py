"""Shadow and canary: a better candidate in shadow shows its gain, a worse canary is rolled back.

The classifiers here are small stand-ins returning the cascade's own ``Classification``: what is
tested is the routing, storage, comparison and rollback around any classifier, and training a
real cascade for it would cost a minute of CPU per run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.cascade import Classification
from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType, ExtractionResult
from ledgerbot.core.modelops import (
    ArmRates,
    Trial,
    canary_verdict,
    compare,
    promote,
    register_trained,
    trial_for,
)
from ledgerbot.core.registry_view import in_canary
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.core.store.registry import ModelEventRow, ModelRunRow, ModelVersionRow
from ledgerbot.trials import ClassifierTrial, record_trial
from tests.modelops.clerk import correct


class Fixed:
    """A classifier that answers from a table keyed by the document's text."""

    def __init__(self, answers: dict[str, DocType], version: str) -> None:
        self.answers = answers
        self.version = version

    def classify(self, documents: Sequence[str]) -> list[Classification]:
        return [
            Classification(self.answers[d], 0.9, "baseline", False, "baseline@x", self.version, 0.9)
            for d in documents
        ]


def _models(root: Path) -> tuple[str, str]:
    store = ArtifactStore(root)
    versions = []
    for digest in ("a" * 64, "b" * 64):
        version = store.new_version("cascade", digest)
        store.save("cascade", version, lambda _folder: None, {"data_sha256": digest})
        register_trained(root, f"cascade@{version}")
        versions.append(version)
    return versions[0], versions[1]


def _document(session: object, n: int, vendor: str) -> DocumentRow:
    data = f"document {n}".encode()
    row = DocumentRow(
        sha256=hashlib.sha256(data).hexdigest(),
        source="test",
        filename=f"{n}.pdf",
        mime="application/pdf",
        size=len(data),
        state="extracted",
        vendor_id=vendor,
    )
    session.add(row)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return row


def test_no_trial_costs_one_query_and_nothing_per_document(root: Path) -> None:
    _models(root)
    assert trial_for(root, "cascade") is None
    assert ClassifierTrial.load(root) is None


def test_a_better_candidate_in_shadow_shows_its_gain_per_field_and_vendor(root: Path) -> None:
    active_version, candidate_version = _models(root)
    with get_store().session() as session:
        promote(session, root, "cascade", candidate_version, actor="user:ann", reason="try")
    trial = trial_for(root, "cascade")
    assert trial is not None and trial.state == "shadow"
    texts = [f"document {n}" for n in range(20)]
    truth = {t: DocType.INVOICE if n % 2 else DocType.CREDIT_NOTE for n, t in enumerate(texts)}
    # The active model calls every document an invoice; the candidate is right but on two.
    active = Fixed({t: DocType.INVOICE for t in texts}, f"cascade@{active_version}")
    wrong = {texts[0], texts[1]}
    candidate = Fixed(
        {t: (DocType.STATEMENT if t in wrong else d) for t, d in truth.items()},
        f"cascade@{candidate_version}",
    )
    shadow = ClassifierTrial(trial, candidate)
    decided, notes = shadow.decide([t.encode() for t in texts], texts, active.classify(texts))
    # Shadow outputs are never acted on: every decision is the active model's.
    assert [c.version for c in decided] == [f"cascade@{active_version}"] * len(texts)
    with get_store().session() as session:
        for n, (text, classification, note) in enumerate(zip(texts, decided, notes, strict=True)):
            document = _document(session, n, "V-A" if n < 10 else "V-B")
            result = ExtractionResult(source=text, doc_type=classification.doc_type)
            result.lineage.update(classification.lineage())
            result.lineage.update(note)
            record_trial(session, document, result)
            if truth[text] != classification.doc_type:  # the clerk fixes what the active model got wrong
                correct(session, document, "doc_type", "doc_type", truth[text].value)
    with get_store().session() as session:
        report = compare(session, root, "cascade")
        assert (
            session.scalar(select(ModelVersionRow.state).where(ModelVersionRow.version == candidate_version))
            == "shadow"
        )
    doc_type = report["per_field"]["doc_type"]
    assert doc_type["documents"] == 20 and doc_type["judged"] == 10  # the ten the clerk touched
    assert doc_type["agreement"] == 0.45  # 9 invoices both called invoice, of 20
    assert doc_type["candidate_accuracy"] == 0.9 and doc_type["active_accuracy"] == 0.0
    assert report["per_vendor"]["V-A"]["candidate_accuracy"] == 0.8  # its two misses are vendor A's
    assert report["per_vendor"]["V-B"]["candidate_accuracy"] == 1.0
    _load_commands()
    cli = CliRunner().invoke(app, ["models", "compare", "cascade"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["per_field"]["doc_type"]["candidate_accuracy"] == 0.9


def test_canary_routing_is_a_stable_share_of_documents() -> None:
    shas = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(4000)]
    picked = [s for s in shas if in_canary(s, 0.1)]
    assert 0.08 < len(picked) / len(shas) < 0.12
    assert picked == [s for s in shas if in_canary(s, 0.1)]
    assert not any(in_canary(s, 0.0) for s in shas)


def test_the_rollback_rule_needs_enough_documents_and_a_significant_gap() -> None:
    rule: dict[str, Any] = {"margin": 0.0, "alpha": 0.05, "minimum": 20}
    same = canary_verdict(ArmRates(100, 10, 0), ArmRates(1000, 100, 0), **rule)
    assert not same.rollback
    few = canary_verdict(ArmRates(10, 5, 0), ArmRates(1000, 20, 0), **rule)
    assert not few.rollback  # a wide gap, but too few canary documents to tell
    worse = canary_verdict(ArmRates(100, 25, 0), ArmRates(1000, 100, 0), **rule)
    assert worse.rollback and worse.z_corrections is not None and worse.z_corrections > 1.645
    exceptions = canary_verdict(ArmRates(100, 10, 20), ArmRates(1000, 100, 50), **rule)
    assert exceptions.rollback and "exception" in exceptions.reason
    tolerated = canary_verdict(ArmRates(100, 25, 0), ArmRates(1000, 100, 0), **{**rule, "margin": 0.2})
    assert not tolerated.rollback


def test_a_worse_canary_is_rolled_back_within_50_canary_documents(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Active: 2% of documents corrected; canary: 7% (a 5-point regression), outcomes simulated."""
    monkeypatch.setenv("LEDGERBOT_MODELOPS_CANARY_SHARE", "0.2")
    get_settings.cache_clear()
    active_version, candidate_version = _models(root)
    with get_store().session() as session:
        promote(session, root, "cascade", candidate_version, to="canary", actor="user:ann", reason="try")
    trial = trial_for(root, "cascade")
    assert trial is not None and trial.state == "canary" and trial.share == 0.2
    canary_seen = active_seen = 0
    rolled_back_at = None
    with get_store().session() as session:
        for n in range(2000):
            sha = hashlib.sha256(f"document {n}".encode()).hexdigest()
            arm = "canary" if trial.decides(sha) else "active"
            if arm == "canary":
                canary_seen += 1
                corrected = canary_seen % 100 in (7, 21, 35, 50, 64, 78, 92)  # 7 in 100
            else:
                active_seen += 1
                corrected = active_seen % 50 == 25  # 2 in 100
            document = _document(session, n, "V-A")
            if corrected:
                correct(session, document, "doc_type", "doc_type", DocType.INVOICE.value)
            result = ExtractionResult(source=str(n), doc_type=DocType.INVOICE)
            result.lineage.update(
                {
                    "modelops.trial": trial.ref,
                    "modelops.model_id": str(trial.model_id),
                    "modelops.arm": arm,
                    "modelops.candidate": '{"doc_type": "invoice"}',
                    "modelops.active": '{"doc_type": "invoice"}',
                }
            )
            record_trial(session, document, result)
            state = session.get(ModelVersionRow, trial.model_id).state  # type: ignore[union-attr]
            if state == "retired":
                rolled_back_at = canary_seen
                break
            # The active arm runs ahead (it takes 80% of the traffic); the regression starts when
            # the canary has its first document, so the canary count is the clock.
    assert rolled_back_at is not None and rolled_back_at <= 50, rolled_back_at
    print(f"rolled back after {rolled_back_at} canary documents, {active_seen} active")
    with get_store().session() as session:
        event = session.scalars(select(ModelEventRow).order_by(ModelEventRow.id.desc())).first()
        assert event is not None and event.actor == "system:modelops" and event.to_state == "retired"
        assert "correction rate worse" in event.reason
        assert (
            session.scalar(select(ModelVersionRow.state).where(ModelVersionRow.version == active_version))
            == "active"
        )
        assert session.query(ModelRunRow).count() == n + 1
    # The next pipeline run finds no trial: the active model decides every document again.
    assert trial_for(root, "cascade") is None


def test_a_trial_object_routes_canary_documents_to_the_candidate() -> None:
    trial = Trial(1, "cascade", "v2", "canary", 0.5)
    texts = [f"document {n}" for n in range(200)]
    active = Fixed({t: DocType.INVOICE for t in texts}, "cascade@v1")
    candidate = Fixed({t: DocType.CREDIT_NOTE for t in texts}, "cascade@v2")
    decided, notes = ClassifierTrial(trial, candidate).decide(
        [t.encode() for t in texts], texts, active.classify(texts)
    )
    for text, classification, note in zip(texts, decided, notes, strict=True):
        canary = in_canary(hashlib.sha256(text.encode()).hexdigest(), 0.5)
        assert note["modelops.arm"] == ("canary" if canary else "active")
        assert classification.version == ("cascade@v2" if canary else "cascade@v1")


def test_a_trial_that_cannot_be_recorded_never_costs_the_document(root: Path) -> None:
    with get_store().session() as session:
        document = _document(session, 1, "V-A")
        result = ExtractionResult(source="x", doc_type=DocType.INVOICE)
        result.lineage.update(
            {"modelops.arm": "shadow", "modelops.model_id": "not a number", "modelops.candidate": "{}"}
        )
        record_trial(session, document, result)
        assert session.get(DocumentRow, document.id) is not None
        assert session.query(ModelRunRow).count() == 0
