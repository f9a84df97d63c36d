"""Learning from corrections: template drafts for vendors without one, and the labelled corpus export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgerbot.core.store import FileStore, Store
from review_app import learning
from tests.review_app.conftest import csrf

pytestmark = pytest.mark.slow


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "vendor-templates"
    monkeypatch.setenv("LEDGERBOT_TEMPLATES_DIR", str(folder))
    return folder


def test_draft_offered_after_corrections_and_accepted_by_an_admin(
    client_for, seeded, templates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hand-drafted path, for a vendor whose template the clerk's saves did not teach by
    # themselves (that learning is tested in test_http and test_template_learning).
    from review_app.routes import actions as action_routes

    monkeypatch.setattr(action_routes, "_learn_from_corrections", lambda store, document_id: None)
    carol, root = client_for("carol"), client_for("root")
    document_id = seeded["price"]
    assert learning.drafting_available()
    # No corrections for the vendor yet: nothing on offer.
    assert "Draft a vendor template" not in carol.get(f"/documents/{document_id}").text
    token = csrf(carol, f"/documents/{document_id}")
    carol.post(
        f"/documents/{document_id}/fields",
        data={"csrf_token": token, "field.invoice_date": "2026-03-15", "confirm.invoice_number": "1"},
    )
    page = carol.get(f"/documents/{document_id}").text
    assert "Draft a vendor template" in page
    drafted = carol.post(
        f"/documents/{document_id}/template-draft", data={"csrf_token": csrf_from_page(page)}
    )
    assert drafted.status_code == 303, drafted.text
    draft_page = carol.get(f"/documents/{document_id}/template-draft").text
    # The sample prints the vendor's IBAN (not its VAT id), so that is what the draft matches on.
    assert "Drafted template" in draft_page and "DE89370400440532013000" in draft_page
    # The check against the corrections is shown: the invoice number agrees, the re-typed date does not
    # (the page says 2026-03-14; the person said 03-15).
    assert "invoice_number" in draft_page and "2026-03-15" in draft_page
    assert 'id="accept-template"' not in draft_page
    refused = carol.post(
        f"/documents/{document_id}/template-draft/accept", data={"csrf_token": csrf(carol, "/queue")}
    )
    assert refused.status_code == 403
    accepted = root.post(
        f"/documents/{document_id}/template-draft/accept", data={"csrf_token": csrf(root, "/queue")}
    )
    assert accepted.status_code == 303
    written = sorted(templates.glob("*.yml"))
    assert len(written) == 1
    from extractors.templates.schema import load_templates

    (template,) = load_templates(templates)
    assert "DE89370400440532013000" in template.match.ibans
    assert list((templates / "samples" / template.id).glob("*.json"))
    # The vendor has a template now: no more offers.
    assert "Draft a vendor template" not in root.get(f"/documents/{document_id}").text
    history = root.get(f"/api/documents/{document_id}").json()["history"]
    assert [e["action"] for e in history if e["action"] and e["action"].startswith("template")] == [
        "template_draft",
        "template_accept",
    ]


def csrf_from_page(html: str) -> str:
    from tests.review_app.factory import csrf_from

    return csrf_from(html)


def test_export_corpus_writes_ground_truth_for_corrected_documents(
    client_for, seeded, sqlite_store: Store, files: FileStore, tmp_path: Path
) -> None:
    carol = client_for("carol")
    document_id = seeded["html"]
    carol.post(
        f"/documents/{document_id}/fields",
        data={"csrf_token": csrf(carol, f"/documents/{document_id}"), "doc_type": "credit_note"},
    )
    out = tmp_path / "corpus"
    with sqlite_store.session() as session:
        records = list(learning.export_corpus(session, files, out, kinds=("doc_type",)))
    assert [r["document_id"] for r in records] == [document_id]
    truth = json.loads((out / str(records[0]["file"])).with_suffix(".json").read_text())
    assert truth["doc_type"] == "credit_note"
    assert truth["fields"]["invoice_number"] == "INV-<script>alert(1)</script>"
    assert (out / str(records[0]["file"])).read_bytes().startswith(b"%PDF")
