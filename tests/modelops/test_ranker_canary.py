"""A candidate extraction ranker in canary reads its share of documents; a worse one is rolled back."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType, ExtractionResult, InvoiceFields
from ledgerbot.core.modelops import promote, register_trained, trial_for
from ledgerbot.core.registry_view import Trial, in_canary
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.core.store.registry import ModelEventRow, ModelRunRow, ModelVersionRow
from ledgerbot.trials import RANKER, RANKER_PREFIX, RankerTrial, record_trial
from tests.modelops.clerk import correct

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extractors"))


class Reads:
    """A stand-in extractor that reads every document with one invoice number and its own lineage."""

    def __init__(self, number: str, version: str) -> None:
        self.number = number
        self.version = version

    def extract(self, document: object, doc_type: DocType | None) -> ExtractionResult:
        return ExtractionResult(
            source="x",
            doc_type=doc_type,
            method="generic",
            fields=InvoiceFields(invoice_number=self.number),
            field_confidence={"invoice_number": 0.9},
            lineage={"extractor": f"generic@{self.version}", "invoice_number": "ranked first"},
        )


def _rankers(root: Path) -> tuple[str, str]:
    store = ArtifactStore(root)
    versions = []
    for digest in ("a" * 64, "b" * 64):
        version = store.new_version(RANKER, digest)
        store.save(RANKER, version, lambda _folder: None, {"data_sha256": digest})
        register_trained(root, f"{RANKER}@{version}")
        versions.append(version)
    return versions[0], versions[1]


def _active_reading(n: int) -> ExtractionResult:
    return ExtractionResult(
        source=f"{n}.pdf",
        doc_type=DocType.INVOICE,
        method="generic",
        fields=InvoiceFields(invoice_number=f"A-{n}"),
        lineage={"text_layer": "pdfplumber", "extractor": "generic@active", "due_date": "payment terms"},
    )


def test_canary_documents_get_the_candidates_reading_and_the_rest_the_active_one() -> None:
    trial = RankerTrial(Trial(1, RANKER, "v2", "canary", 0.5), Reads("C-1", "v2"))
    for n in range(100):
        data = f"document {n}".encode()
        chosen = trial.decide(data, object(), _active_reading(n))
        canary = in_canary(hashlib.sha256(data).hexdigest(), 0.5)
        assert chosen.lineage[RANKER_PREFIX + "arm"] == ("canary" if canary else "active")
        if canary:
            assert chosen.fields.invoice_number == "C-1"
            assert chosen.lineage["extractor"] == "generic@v2"
            assert "due_date" not in chosen.lineage  # the active ranker's note on a field it read
            assert chosen.lineage["text_layer"] == "pdfplumber"  # the pipeline's lineage stays
        else:
            assert chosen.fields.invoice_number == f"A-{n}"
            assert chosen.lineage["extractor"] == "generic@active"
        assert json.loads(chosen.lineage[RANKER_PREFIX + "candidate"])["invoice_number"] == "C-1"
    # A template's reading is no ranker's: untouched, no trial noted.
    template = _active_reading(0).model_copy(update={"method": "template:acme"})
    assert trial.decide(b"x", object(), template) is template
    assert not any(k.startswith(RANKER_PREFIX) for k in template.lineage)


def test_a_shadow_ranker_never_decides() -> None:
    trial = RankerTrial(Trial(1, RANKER, "v2", "shadow", 1.0), Reads("C-1", "v2"))
    chosen = trial.decide(b"document", object(), _active_reading(1))
    assert chosen.fields.invoice_number == "A-1"
    assert chosen.lineage[RANKER_PREFIX + "arm"] == "shadow"


def test_a_ranker_canary_5_points_worse_is_rolled_back_within_50_canary_documents(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Active ranker: 2% of its documents get a field corrected; canary: 7%, outcomes simulated."""
    monkeypatch.setenv("LEDGERBOT_MODELOPS_CANARY_SHARE", "0.2")
    get_settings.cache_clear()
    active_version, candidate_version = _rankers(root)
    with get_store().session() as session:
        promote(session, root, RANKER, candidate_version, to="canary", actor="user:ann", reason="try")
    found = trial_for(root, RANKER)
    assert found is not None and found.state == "canary" and found.share == 0.2
    trial = RankerTrial(found, Reads("C", candidate_version))
    canary_seen = active_seen = 0
    rolled_back_at = None
    with get_store().session() as session:
        for n in range(2000):
            data = f"document {n}".encode()
            result = trial.decide(data, object(), _active_reading(n))
            arm = result.lineage[RANKER_PREFIX + "arm"]
            if arm == "canary":
                canary_seen += 1
                corrected = canary_seen % 100 in (7, 21, 35, 50, 64, 78, 92)  # 7 in 100
            else:
                active_seen += 1
                corrected = active_seen % 50 == 25  # 2 in 100
            document = DocumentRow(
                sha256=hashlib.sha256(data).hexdigest(),
                source="test",
                filename=f"{n}.pdf",
                mime="application/pdf",
                size=len(data),
                state="extracted",
                vendor_id="V-A",
            )
            session.add(document)
            session.flush()
            if corrected:
                correct(session, document, "field", "invoice_number", "right")
            record_trial(session, document, result)
            if session.get(ModelVersionRow, found.model_id).state == "retired":  # type: ignore[union-attr]
                rolled_back_at = canary_seen
                break
    # The regression is there from the canary's first document, so the canary count is the clock.
    assert rolled_back_at is not None and rolled_back_at <= 50, rolled_back_at
    print(f"ranker canary rolled back after {rolled_back_at} canary documents, {active_seen} active")
    with get_store().session() as session:
        event = session.scalars(select(ModelEventRow).order_by(ModelEventRow.id.desc())).first()
        assert event is not None and event.actor == "system:modelops" and event.to_state == "retired"
        assert "correction rate worse" in event.reason
        active = session.scalar(
            select(ModelVersionRow.state).where(ModelVersionRow.version == active_version)
        )
        assert active == "active"
        arms = {arm for arm in session.scalars(select(ModelRunRow.arm))}
        assert arms == {"canary", "active"}
    # The next run finds no ranker trial: the active ranker reads every document again.
    assert trial_for(root, RANKER) is None
    assert RankerTrial.load(root) is None
