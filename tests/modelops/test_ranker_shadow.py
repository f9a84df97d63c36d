"""A candidate extraction ranker in shadow reads the same document; its fields are compared, not used."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType
from ledgerbot.core.modelops import compare, promote, register_trained
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from ledgerbot.core.store.review import CorrectionRow
from ledgerbot.trials import RankerTrial, record_trial

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extractors"))


def test_a_ranker_in_shadow_is_compared_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    from invoice_fixtures import Invoice  # type: ignore[import-not-found]

    from extractors.generic import GenericExtractor
    from textlayer import read_document

    monkeypatch.setenv("LEDGERBOT_MODELOPS_TRAINED_STATE", "candidate")
    get_settings.cache_clear()
    get_store()
    root = get_settings().models_dir
    store = ArtifactStore(root)
    versions = []
    for digest in ("a" * 64, "b" * 64):
        version = store.new_version("extractor-ranker", digest)
        # No ranker format in the meta: both load as the generic extractor's heuristic scorer.
        store.save("extractor-ranker", version, lambda _folder: None, {"data_sha256": digest})
        register_trained(root, f"extractor-ranker@{version}")
        versions.append(version)
    assert RankerTrial.load(root) is None  # nothing in shadow: no second extractor is built
    with get_store().session() as session:
        promote(session, root, "extractor-ranker", versions[1], actor="user:ann", reason="try")
    trial = RankerTrial.load(root)
    assert trial is not None and trial.trial.state == "shadow"

    invoice = Invoice()
    document = read_document(invoice.pdf(), name="fixture.pdf")
    result = GenericExtractor().extract(document, DocType.INVOICE)
    assert result.fields.invoice_number == invoice.number
    # The active read got the number wrong; the clerk puts it right.
    result.fields.invoice_number = "WRONG-1"
    result = trial.decide(None, document, result)
    assert result.fields.invoice_number == "WRONG-1"  # the shadow's answer is never used
    with get_store().session() as session:
        row = DocumentRow(
            sha256="0" * 64,
            source="t",
            filename="fixture.pdf",
            mime="application/pdf",
            size=1,
            state="extracted",
            vendor_id="V1",
        )
        session.add(row)
        session.flush()
        record_trial(session, row, result)
        extraction = ExtractionRow(document_id=row.id, result={})
        session.add(extraction)
        session.flush()
        session.add(
            CorrectionRow(
                document_id=row.id,
                vendor_id="V1",
                kind="field",
                target="invoice_number",
                old_value="WRONG-1",
                new_value=invoice.number,
                extraction_id=extraction.id,
                username="clerk",
            )
        )
    with get_store().session() as session:
        report = compare(session, root, "extractor-ranker")
    number = report["per_field"]["invoice_number"]
    assert number["agreement"] == 0.0
    assert number["candidate_accuracy"] == 1.0 and number["active_accuracy"] == 0.0
    assert report["per_field"]["total"]["agreement"] == 1.0
    # What the shadow cost on the document, as processing writes it, is what its next runs expect.
    from ledgerbot.core.domain import DocState
    from ledgerbot.core.lifecycle import Actor, transition
    from ledgerbot.cost import DETAIL_KEY
    from ledgerbot.trials import recorded_costs

    with get_store().session() as session:
        stored = session.get(DocumentRow, row.id)
        assert stored is not None
        for stage, seconds in (("extract", 0.5), ("shadow", 0.25)):
            transition(
                session,
                stored,
                DocState.VALIDATED if stage == "extract" else DocState.MATCHED,
                actor=Actor(name="robot:process"),
                stage=stage,
                detail={DETAIL_KEY: {stage: seconds, "text_layer": 1.0}},
            )
    assert recorded_costs(trial.trial) == [0.25]
