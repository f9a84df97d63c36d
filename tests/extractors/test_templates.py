"""Vendor templates: schema errors name file and key path, every shipped template passes its goldens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from invoice_fixtures import Invoice

from extractors.templates.draft import draft_template
from extractors.templates.engine import TemplateExtractor, default_templates_dir
from extractors.templates.golden import run_template_tests
from extractors.templates.schema import TemplateError, load_template, load_templates, parse_template
from ledgerbot.core.domain import DocType
from textlayer import read_document

SHIPPED = sorted(default_templates_dir().glob("*.yml"))
BASE = {
    "id": "acme",
    "version": 1,
    "match": {"all": ["Invoice No."]},
    "fields": [{"name": "invoice_number", "label": "Invoice No."}],
}


def _with(**changes: object) -> dict[str, object]:
    return {**json.loads(json.dumps(BASE)), **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _with(fields=[{"name": "total", "regex": "Total (?P<value>[0-9.,"}]),
            "acme.yml:[fields -> 0 -> regex] invalid regex",
        ),
        (_with(fields=[{"name": "total", "regex": "Total (.+)"}]), "needs a named group (?P<value>"),
        (
            _with(fields=[{"name": "colour", "label": "Colour"}]),
            "acme.yml:[fields -> 0 -> name] unknown field",
        ),
        (
            _with(fields=[{"name": "total", "label": "Total", "shade": "red"}]),
            "acme.yml:[fields -> 0 -> shade] Extra inputs are not permitted",
        ),
        (
            _with(fields=[{"name": "total", "label": "Total", "type": "money"}]),
            "[fields -> 0 -> type] unknown",
        ),
        (_with(fields=[{"name": "total"}]), "give exactly one of label, regex, generic, value"),
        (_with(match={}), "acme.yml:[match]"),
        (_with(options={"date_order": "DDMM"}), "acme.yml:[options -> date_order]"),
        (_with(lines={"columns": {"description": "Item"}}), "[lines -> columns]"),
        (_with(fields=[{"name": "total", "label": "A"}, {"name": "total", "label": "B"}]), "given twice"),
    ],
)
def test_a_broken_template_names_file_and_key_path(data: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError) as error:
        parse_template(data, "acme.yml")
    assert message in error.value.message
    assert error.value.code == "E410"


def test_yaml_syntax_errors_and_id_mismatch_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("id: broken\nfields: [\n")
    with pytest.raises(TemplateError, match=r"broken\.yml:\[\] line \d+ is not valid YAML"):
        load_template(broken)
    other = tmp_path / "other.yml"
    other.write_text(yaml.safe_dump(BASE))
    with pytest.raises(TemplateError, match=r"other\.yml:\[id\]"):
        load_template(other)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_template_reproduces_its_goldens(path: Path) -> None:
    outcomes = list(run_template_tests(path.parent, ids=[path.stem]))
    assert outcomes, f"{path.name} has no samples"
    for outcome in outcomes:
        assert outcome["status"] == "ok", outcome["problems"]


def test_shipped_templates_cover_the_development_layouts() -> None:
    ids = {t.id for t in load_templates(default_templates_dir())}
    assert {"l01-classic-en", "l02-export-en", "l03-modern-de", "l04-facture-fr"} <= ids
    assert {"l05-us-letter", "l06-compact-de", "l07-moderne-fr"} <= ids
    assert not any(i.startswith(("l08", "l09", "l10")) for i in ids)  # held-out layouts stay unseen


def test_drafted_template_reads_another_document_of_the_same_vendor(tmp_path: Path) -> None:
    sample = tmp_path / "acme-sample.pdf"
    sample.write_bytes(Invoice(lang="de").pdf())
    written = draft_template(sample, tmp_path / "templates", template_id="acme-de")
    assert written["fields"]["invoice_number"] == "label" and written["lines"]
    outcomes = list(run_template_tests(tmp_path / "templates"))
    assert [o["status"] for o in outcomes] == ["ok"]

    other = Invoice(
        lang="de", number="RE-2026-2002", po="PO-9", lines=(("Kabel 3x1,5", "3", "7.10", "21.30"),)
    )
    engine = TemplateExtractor.load(tmp_path / "templates")
    result = engine.extract(read_document(other.pdf(), name="other.pdf"), DocType.INVOICE)
    assert result is not None and result.method == "template:acme-de"
    assert result.lineage["template"] == "acme-de@1"
    assert result.model_dump(mode="json")["fields"] == other.truth()["fields"]
    assert [(str(ln.quantity), str(ln.unit_price), str(ln.amount)) for ln in result.lines] == [
        ("3", "7.10", "21.30")
    ]


def test_a_template_does_not_match_another_vendor(tmp_path: Path) -> None:
    sample = tmp_path / "acme.pdf"
    sample.write_bytes(Invoice().pdf())
    draft_template(sample, tmp_path / "templates", template_id="acme")
    stranger = Invoice(vendor="Other Ltd", vendor_vat="DE999999999", iban="GB29NWBK60161331926819")
    engine = TemplateExtractor.load(tmp_path / "templates")
    assert engine.extract(read_document(stranger.pdf(), name="s.pdf"), DocType.INVOICE) is None


def test_a_changed_golden_fails_by_name(tmp_path: Path) -> None:
    sample = tmp_path / "acme.pdf"
    sample.write_bytes(Invoice().pdf())
    written = draft_template(sample, tmp_path / "templates", template_id="acme")
    golden = Path(written["golden"])
    data = json.loads(golden.read_text())
    data["fields"]["total"] = "9999.00"
    golden.write_text(json.dumps(data))
    [outcome] = run_template_tests(tmp_path / "templates")
    assert outcome["status"] == "fail"
    assert any(p.startswith("fields.total: expected '9999.00'") for p in outcome["problems"])
    [regen] = run_template_tests(tmp_path / "templates", regen=True)
    assert regen["status"] == "written"
    assert json.loads(golden.read_text())["fields"]["total"] == Invoice().truth()["fields"]["total"]
