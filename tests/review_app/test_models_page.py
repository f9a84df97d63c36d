"""The model registry page: every signed-in user sees states and trials; only an admin moves them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ledgerbot.core.modelops import record_run, register_version
from ledgerbot.core.store import Store
from ledgerbot.core.store.registry import ModelEventRow, ModelVersionRow
from tests.review_app.conftest import csrf
from tests.support import drift_document


def _register(store: Store, root: Path) -> dict[str, int]:
    with store.session() as session:
        ids = {}
        for version, state, accuracy in (("v1", "active", 0.91), ("v2", "candidate", 0.94)):
            row = register_version(
                session,
                root,
                "cascade",
                version,
                data_sha256=version[-1] * 64,
                metrics={"accuracy": accuracy},
                state=state,
            )
            ids[version] = row.id
        return ids


def _state(store: Store, model_id: int) -> str:
    with store.session() as session:
        row = session.get(ModelVersionRow, model_id)
        assert row is not None
        return row.state


def test_admin_promotes_to_canary_sees_the_comparison_and_rolls_back(
    client_for, seeded, sqlite_store: Store, tmp_path: Path
) -> None:
    ids = _register(sqlite_store, tmp_path / "models")
    carol, root = client_for("carol"), client_for("root")

    page = carol.get("/admin/models")
    assert page.status_code == 200
    assert "cascade" in page.text and "accuracy 0.94" in page.text and 'id="nav-models"' in page.text
    assert "Promote" not in page.text and "Roll back" not in page.text  # buttons are the admin's
    refused = carol.post(
        f"/admin/models/{ids['v2']}/promote",
        data={"csrf_token": csrf(carol, "/admin/models"), "to": "canary", "reason": "try"},
    )
    assert refused.status_code == 403 and _state(sqlite_store, ids["v2"]) == "candidate"
    forged = root.post(f"/admin/models/{ids['v2']}/promote", data={"to": "canary", "reason": "try"})
    assert forged.status_code == 403 and _state(sqlite_store, ids["v2"]) == "candidate"
    no_reason = root.post(
        f"/admin/models/{ids['v2']}/promote",
        data={"csrf_token": csrf(root, "/admin/models"), "to": "canary", "reason": " "},
    )
    assert no_reason.status_code == 400 and "E530" in no_reason.text
    assert _state(sqlite_store, ids["v2"]) == "candidate"

    token = csrf(root, "/admin/models")
    assert "Promote" in root.get("/admin/models").text
    moved = root.post(
        f"/admin/models/{ids['v2']}/promote",
        data={"csrf_token": token, "to": "canary", "reason": "looks better"},
    )
    assert moved.status_code == 303 and _state(sqlite_store, ids["v2"]) == "canary"

    # The canary decided one document, the active model another; a clerk corrected the canary's.
    with sqlite_store.session() as session:
        for document_id, arm in ((seeded["price"], "canary"), (seeded["html"], "active")):
            record_run(
                session,
                model_id=ids["v2"],
                document_id=document_id,
                arm=arm,
                outputs={"doc_type": "invoice"},
                active_outputs={"doc_type": "credit_note"},
                active_ref="cascade@v1",
                vendor_id=None,
                exception=False,
            )
    page = root.get("/admin/models").text
    assert f'id="trial-{ids["v2"]}"' in page and "doc_type" in page
    assert "canary 0 corrected of 1, active 0 of 1" in page

    rolled = root.post(
        f"/admin/models/{ids['v2']}/rollback",
        data={"csrf_token": csrf(root, "/admin/models"), "reason": "clerks disagree"},
    )
    assert rolled.status_code == 303
    assert _state(sqlite_store, ids["v2"]) == "retired" and _state(sqlite_store, ids["v1"]) == "active"
    with sqlite_store.session() as session:
        events = session.scalars(
            select(ModelEventRow).where(ModelEventRow.model_id == ids["v2"]).order_by(ModelEventRow.id)
        ).all()
        assert [(e.to_state, e.actor, e.reason) for e in events[1:]] == [
            ("canary", "user:root", "looks better"),
            ("retired", "user:root", "clerks disagree"),
        ]


def test_the_page_shows_drift_days_and_an_alarm_for_a_drifted_day(
    client_for, seeded, sqlite_store: Store
) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    carol = client_for("carol")
    calm = carol.get("/admin/models")
    # The seeded documents are all today's and from vendors new to the store: only that signal.
    assert calm.status_code == 200 and 'id="drift-days"' in calm.text
    assert "Drift alarm (low_confidence" not in calm.text

    def add(days_ago: int, confidence: float, vendor: str | None, n: int) -> None:
        with sqlite_store.session() as session:
            at = now - timedelta(days=days_ago, minutes=n)
            drift_document(session, f"d{days_ago:02d}{n:061d}", at, confidence, vendor)

    for days_ago in range(5, 0, -1):  # usual days: sure types, four known vendors
        for n in range(10):
            add(days_ago, 0.95, f"V{n % 4}", n)
    for n in range(30):  # today: unsure types from vendors never seen
        add(0, 0.4, None, n)
    page = carol.get("/admin/models").text
    assert page.count("Drift alarm (") == 2
    assert "Drift alarm (low_confidence" in page and "Drift alarm (new_vendor" in page
    today = now.date().isoformat()
    assert f"<tr><th>{today}</th>" in page


def test_a_model_id_no_table_holds_is_refused_as_input_not_a_server_error(client_for, seeded) -> None:
    root = client_for("root")
    token = csrf(root, "/admin/models")
    for model_id in ("9223372036854775808", "0", "-1", "2147483648"):
        for action in ("promote", "rollback"):
            answer = root.post(
                f"/admin/models/{model_id}/{action}", data={"csrf_token": token, "reason": "try"}
            )
            assert answer.status_code == 422, (model_id, action, answer.status_code)
    missing = root.post("/admin/models/2147483647/rollback", data={"csrf_token": token, "reason": "try"})
    assert missing.status_code == 400 and "E53" in missing.text


def test_the_page_shows_each_stage_and_the_alarm_of_a_drifted_extraction_field(
    client_for, seeded, sqlite_store: Store
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.support import pipeline_read

    now = datetime.now(UTC)
    with sqlite_store.session() as session:
        for days_ago in range(4, -1, -1):  # the total read sure, until today's new layout
            for n in range(8):
                at = now - timedelta(days=days_ago, minutes=n + 1)
                document = drift_document(session, f"f{days_ago:02d}{n:061d}", at, 0.97, f"V{n % 4}")
                total = 0.2 if days_ago == 0 else 0.97
                pipeline_read(session, document, "generic", {"invoice_number": 0.97, "total": total})
    page = client_for("carol").get("/admin/models").text
    assert "Drift alarm (low_confidence, extract.total," in page
    assert "Drift alarm (low_confidence, extract.invoice_number" not in page
    assert 'id="drift-stages"' in page and "<tr><th>extract.invoice_number</th>" in page
    # The alarmed stages come first in the table.
    stages = page[page.index('id="drift-stages"') :]
    assert stages.index("<tr><th>extract.total</th>") < stages.index("<tr><th>extract.invoice_number</th>")


def test_admin_rolls_a_template_back_to_its_earlier_file(
    client_for, seeded, sqlite_store: Store, tmp_path: Path
) -> None:
    import shutil

    import yaml

    from extractors.templates.lifecycle import edit_template
    from extractors.templates.schema import load_template
    from ledgerbot.template_registry import sync

    folder = tmp_path / "templates"
    folder.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "templates" / "l01-classic-en.yml"
    shutil.copyfile(shipped, folder / shipped.name)
    template = load_template(folder / shipped.name)
    tested = {"samples": 0, "ok": 0, "written": 0, "failed": 0, "problems": []}
    with sqlite_store.session() as session:
        sync(session, folder, template.id, reason="shipped", tested=tested)
    data = yaml.safe_load((folder / shipped.name).read_text(encoding="utf-8"))
    data["description"] = "edited"
    edited = edit_template(folder, template.id, yaml.safe_dump(data), by="root", reason="wording")
    with sqlite_store.session() as session:
        row = sync(session, folder, template.id, reason="edited", tested=tested)
        newest = row.id
    root = client_for("root")
    rolled = root.post(
        f"/admin/models/{newest}/rollback",
        data={"csrf_token": csrf(root, "/admin/models"), "reason": "the edit misreads"},
        follow_redirects=True,
    )
    assert rolled.status_code == 200
    name = f"template:{template.id}"
    assert f"{name}@{edited['version']} rolled back; {name}@{template.version} is active again" in rolled.text
    restored = load_template(folder / shipped.name)
    assert (restored.version, restored.status, restored.description) == (
        template.version,
        "active",
        template.description,
    )
    assert _state(sqlite_store, newest) == "retired"
