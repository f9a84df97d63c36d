"""A clerk's corrections teach the vendor's template, which runs in shadow until it agreed with the clerk."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from extractors.templates.lifecycle import list_templates
from extractors.templates.schema import load_template
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.core.store.review import CorrectionRow
from review_app import learning
from tests.review_app import factory


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "vendor-templates"
    monkeypatch.setenv("LEDGERBOT_TEMPLATES_DIR", str(folder))
    return folder


def _read_wrong_then_corrected(
    session: Session, files: FileStore, spec: factory.InvoiceSpec, wrong: dict[str, str]
) -> DocumentRow:
    """A document the machine read with ``wrong`` values, then a clerk put them right."""
    document = factory.exception_document(session, files, spec)
    row = latest_extraction(session, document.id)
    assert row is not None
    right = dict(row.result)
    machine = {**right, "fields": {**right["fields"], **wrong}}
    row.result = machine
    session.flush()
    corrected = ExtractionRow(document_id=document.id, method="generic", result=right, created_by="carol")
    session.add(corrected)
    session.flush()
    for name, value in wrong.items():
        session.add(
            CorrectionRow(
                document_id=document.id,
                vendor_id=document.vendor_id,
                kind="field",
                target=name,
                old_value=value,
                new_value=right["fields"][name],
                extraction_id=corrected.id,
                username="carol",
            )
        )
    session.flush()
    return document


def test_corrections_teach_a_shadow_template_trusted_after_it_agreed(
    sqlite_store: Store, files: FileStore, templates: Path
) -> None:
    with sqlite_store.session() as session:
        first = _read_wrong_then_corrected(
            session, files, factory.InvoiceSpec(), {"invoice_number": "RE-2026-1O01"}
        )
        assert learning.learning_reason(session, first) == "the vendor has no template"
        done = learning.after_corrections(session, first, files)
        learned = done["learned"]
        assert learned["status"] == "shadow" and learned["version"] == 1 and not learned["refined"]
        assert {"invoice_number", "invoice_date", "total", "vendor_iban"} <= set(learned["learned"])
        [entry] = list_templates(templates)
        assert entry["status"] == "shadow" and entry["identity"]["ibans"] == ["DE89370400440532013000"]

        # The vendor's next invoice: the clerk settles its values; the shadow reading agrees.
        second = _read_wrong_then_corrected(
            session,
            files,
            factory.InvoiceSpec(invoice_number="RE-2026-1002", unit_price=Decimal("100.00")),
            {"total": "1.00"},
        )
        done = learning.after_corrections(session, second, files)
        shadow = done["shadow"]
        assert shadow["template"] == f"{entry['id']}@1" and shadow["disagreed"] == []
        assert "total" in shadow["agreed"] and shadow["generic_wrong"] == ["total"]
        assert shadow["promoted"] is True
        template = load_template(templates / f"{entry['id']}.yml")
        assert template.status == "active"
        assert "learned" not in done  # it has a template now, and that template was right
        assert learning.learning_reason(session, second) is None


def test_a_template_that_read_a_field_wrong_learns_a_new_version(
    sqlite_store: Store, files: FileStore, templates: Path
) -> None:
    with sqlite_store.session() as session:
        first = _read_wrong_then_corrected(
            session, files, factory.InvoiceSpec(), {"invoice_number": "RE-2026-1O01"}
        )
        learned = learning.learn_from_corrections(session, first, files)
        assert learned is not None
        second = _read_wrong_then_corrected(
            session, files, factory.InvoiceSpec(invoice_number="RE-2026-1003"), {"po_number": "PO-1"}
        )
        machine = learning._first_extraction(session, second.id)  # what the pipeline read
        assert machine is not None
        machine.method = f"template:{learned.template_id}"
        machine.result = {**machine.result, "lineage": {"template": f"{learned.template_id}@1"}}
        session.flush()
        reason = learning.learning_reason(session, second)
        assert reason == f"template {learned.template_id}@1 read po_number wrong"
        again = learning.learn_from_corrections(session, second, files)
        assert again is not None and again.refined and again.version == 2
        assert (templates / "history" / learned.template_id / "v1.yml").is_file()


@pytest.mark.slow
def test_engineer_sees_shadow_templates_and_promotes_edits_retires(
    app,
    client_for,
    seeded,
    templates: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    # The explicit "teach" button, with the saves' own background learning kept out of the way.
    from review_app.routes import actions as action_routes
    from tests.review_app.conftest import csrf

    monkeypatch.setattr(action_routes, "_learn_from_corrections", lambda store, document_id: None)
    carol, root = client_for("carol"), client_for("root")
    document_id = seeded["price"]
    token = csrf(carol, f"/documents/{document_id}")
    carol.post(
        f"/documents/{document_id}/fields",
        data={"csrf_token": token, "field.invoice_number": "RE-2026-1001", "confirm.total": "1"},
    )
    taught = carol.post(
        f"/documents/{document_id}/learn-template", data={"csrf_token": csrf(carol, "/queue")}
    )
    assert taught.status_code == 303, taught.text
    [written] = sorted(templates.glob("*.yml"))
    page = root.get("/templates").text
    assert written.stem in page and "shadow" in page
    refused = carol.post(f"/templates/{written.stem}/promote", data={"csrf_token": csrf(carol, "/queue")})
    assert refused.status_code == 403
    assert (
        root.post(f"/templates/{written.stem}/promote", data={"csrf_token": csrf(root, "/queue")}).status_code
        == 303
    )
    assert load_template(written).status == "active"
    text = written.read_text().replace("description: ", "description: Checked by hand. ", 1)
    saved = root.post(
        f"/templates/{written.stem}/edit",
        data={"csrf_token": csrf(root, "/queue"), "yaml": text, "reason": "description"},
    )
    assert saved.status_code == 303
    edited = load_template(written)
    assert edited.version == 2 and edited.provenance.edits[-1].startswith("root on ")
    broken = root.post(
        f"/templates/{written.stem}/edit",
        data={"csrf_token": csrf(root, "/queue"), "yaml": text.replace("fields:", "feelds:"), "reason": "x"},
    )
    assert broken.status_code >= 400 and "feelds" in broken.text
    assert (
        root.post(f"/templates/{written.stem}/retire", data={"csrf_token": csrf(root, "/queue")}).status_code
        == 303
    )
    detail = root.get(f"/templates/{written.stem}").text
    assert "retired" in detail and "promoted by root" in detail and "retired by root" in detail
