"""Vendor templates in the model registry: each learned or edited version registered, states mirrored."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from extractors.templates.learn import Outcome, learn_template
from extractors.templates.lifecycle import edit_template, record_shadow
from extractors.templates.schema import TemplateStatus, load_template
from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.errors import ModelRegistryError
from ledgerbot.core.modelops import listing
from ledgerbot.core.store import get_store
from ledgerbot.template_registry import STATE_OF, rollback, sync
from sandbox.corpus.documents import render_document
from sandbox.corpus.planner import Planner
from sandbox.masterdata import DEFAULT_SEED, generate_master_data


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """Two invoices of one generated vendor on one layout, each with its truth file."""
    master = generate_master_data(DEFAULT_SEED)
    plan = Planner(
        master, 11, mismatch_rate=0.0, split="dev", scans=False, einvoices=False, doc_types=["invoice"]
    ).plan(60)
    by_vendor = defaultdict(list)
    for doc in plan.documents:
        by_vendor[(doc.vendor.vendor_id, doc.layout.id)].append(doc)
    docs = next(d for d in by_vendor.values() if len(d) >= 2)
    folder = tmp_path_factory.mktemp("in")
    out = []
    for n, doc in enumerate(docs[:2]):
        pdf, truth = folder / f"s{n}.pdf", folder / f"s{n}.json"
        pdf.write_bytes(render_document(doc, master))
        truth.write_text(json.dumps(doc.truth()), encoding="utf-8")
        out.append((pdf, truth))
    return out


def _registered(name: str) -> dict[str, dict[str, object]]:
    with get_store().session() as session:
        return {row["version"]: row for row in listing(session, None) if row["name"] == name}


def test_learned_versions_are_registered_and_moved_with_their_file(
    tmp_path: Path, samples: list[tuple[Path, Path]]
) -> None:
    _load_commands()
    runner = CliRunner()
    get_store()  # the install's store exists: learning registers into it
    folder = tmp_path / "templates"
    (sample, truth), (second, second_truth) = samples
    learned = runner.invoke(
        app,
        [
            "template",
            "learn",
            str(sample),
            "--truth",
            str(truth),
            "--templates",
            str(folder),
            "--status",
            "shadow",
        ],
    )
    assert learned.exit_code == 0, learned.stderr
    out = json.loads(learned.stdout)
    name = f"template:{out['id']}"
    [v1] = _registered(name).values()
    assert (v1["version"], v1["kind"], v1["state"]) == ("1", "template", "shadow")
    assert isinstance(v1["data_sha256"], str) and len(v1["data_sha256"]) == 64  # its sample's fingerprint
    metrics = v1["metrics"]
    assert isinstance(metrics, dict) and metrics["template_test"]["samples"] == 1
    assert metrics["template_test"]["ok"] == 1 and metrics["template_test"]["failed"] == 0

    # models promote moves the file's status too; a template has no canary.
    result = runner.invoke(app, ["models", "promote", name, "1", "--to", "canary", "--reason", "try"])
    assert isinstance(result.exception, ModelRegistryError) and result.exception.code == "E530"
    result = runner.invoke(app, ["models", "promote", name, "1", "--reason", "read well", "--by", "user:ann"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "active"
    assert load_template(folder / f"{out['id']}.yml").status == "active"
    assert _registered(name)["1"]["changed_by"] == "user:ann"

    # A second sample makes a new version: registered active, the replaced one retired.
    refined = runner.invoke(
        app, ["template", "learn", str(second), "--truth", str(second_truth), "--templates", str(folder)]
    )
    assert refined.exit_code == 0, refined.stderr
    version = str(json.loads(refined.stdout)["version"])
    assert version == "2"
    states = {v: row["state"] for v, row in _registered(name).items()}
    assert states == {"1": "retired", "2": "active"}

    # An edit is a new version with its own test results.
    path = folder / f"{out['id']}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["description"] = "edited"
    edited = edit_template(folder, out["id"], yaml.safe_dump(data), by="ann", reason="wording")
    with get_store().session() as session:
        sync(session, folder, out["id"], actor="user:ann", reason="edited")
    rows = _registered(name)
    assert rows[str(edited["version"])]["state"] == "active"
    assert [v for v, row in rows.items() if row["state"] == "active"] == [str(edited["version"])]

    # Rollback retires the edited version and puts the version active before it back in the folder.
    v3 = str(edited["version"])
    result = runner.invoke(
        app, ["models", "rollback", name, "--reason", "misread totals", "--by", "user:ann"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"retired": f"{name}@{v3}", "active": f"{name}@2"}
    restored = load_template(path)
    assert (restored.version, restored.status) == (2, "active")
    assert restored.description != "edited"  # version 2's YAML, not the edit's
    rows = _registered(name)
    assert {v: row["state"] for v, row in rows.items()} == {"1": "retired", "2": "active", v3: "retired"}
    assert rows["2"]["changed_by"] == "user:ann" and "rollback" in str(rows["2"]["reason"])
    assert (
        yaml.safe_load((folder / "history" / out["id"] / f"v{v3}.yml").read_text())["description"] == "edited"
    )
    history = (folder / "history" / out["id"] / "status.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["to"] == f"{out['id']}@2"
    # Extraction reads with the restored version.
    result_ = _read(folder, second)
    assert result_.lineage["template"] == f"{out['id']}@2"
    assert result_.fields.total is not None
    # A second rollback goes on to the version before (not back to the one just rolled back).
    result = runner.invoke(app, ["models", "rollback", name, "--reason", "still misreads"])
    assert json.loads(result.stdout) == {"retired": f"{name}@2", "active": f"{name}@1"}
    assert load_template(path).version == 1 and _read(folder, sample).lineage["template"] == f"{out['id']}@1"
    # Learning again makes a version past every one kept: the rolled-back number is never reused.
    again = runner.invoke(
        app, ["template", "learn", str(second), "--truth", str(second_truth), "--templates", str(folder)]
    )
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["version"] == int(v3) + 1
    listed = [json.loads(x) for x in runner.invoke(app, ["models", "list"]).stdout.splitlines()]
    assert any(row["name"] == name for row in listed)  # templates are listed beside the models


def test_a_rollback_without_an_earlier_version_retires_the_template(
    tmp_path: Path, samples: list[tuple[Path, Path]]
) -> None:
    folder = tmp_path / "templates"
    sample, truth = samples[0]
    outcome = _learned(folder, sample, truth, "active")
    name = f"template:{outcome.id}"
    with get_store().session() as session:
        assert rollback(session, name, actor="user:ann", reason="misreads") == (f"{name}@1", None)
    assert load_template(folder / f"{outcome.id}.yml").status == "retired"
    assert "template" not in _read(folder, sample).lineage  # its vendor is read by the generic extractor


def _learned(folder: Path, sample: Path, truth: Path, status: TemplateStatus) -> Outcome:
    """A template learned from ``sample`` and registered."""
    outcome = learn_template(sample, truth, folder, status=status)
    with get_store().session() as session:
        sync(session, folder, outcome.id, reason="learned")
    return outcome


def _read(folder: Path, sample: Path) -> ExtractionResult:
    from extractors.templates.engine import TemplateExtractor
    from ledgerbot.core.domain import DocType
    from ledgerbot.pipeline import Extractor
    from textlayer import read_document

    document = read_document(sample.read_bytes(), name=sample.name)
    result = TemplateExtractor.load(folder).extract(document, DocType.INVOICE)
    if result is None:
        result = Extractor(stages=("generic",), classify=False).extract_document(document, DocType.INVOICE)
    return result


def test_a_shadow_template_trusted_by_its_record_is_active_in_the_registry(
    tmp_path: Path, samples: list[tuple[Path, Path]]
) -> None:
    folder = tmp_path / "templates"
    sample, truth = samples[0]
    outcome = _learned(folder, sample, truth, "shadow")
    template = load_template(folder / f"{outcome.id}.yml")
    reading = ExtractionResult(source="x")
    final = json.loads(truth.read_text())["fields"]
    shadow = record_shadow(folder, template, "next.pdf", reading, reading, final, trust_after=1)
    assert shadow.promoted  # nothing read, nothing contradicted: trusted after one document
    with get_store().session() as session:
        sync(session, folder, outcome.id, reason="trusted")
    assert _registered(f"template:{outcome.id}")["1"]["state"] == STATE_OF["active"]
