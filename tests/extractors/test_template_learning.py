"""Templates learned from one corrected document read the vendor's next documents, and only its own.

Documents come from the sandbox corpus planner (seeded): a vendor's later invoices carry other
values and other numbers of lines, some run over two pages; a vendor re-rendered with a second
layout, two vendors printing with one layout, a changed bank account, a scan. The real-world
folder holds one vendor with two invoices: learn on one, read the other.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from extractors.evaluation import same_value, vendor_key
from extractors.templates.golden import run_template_tests
from extractors.templates.learn import LearningError, learn_template, parse_truth
from extractors.templates.lifecycle import list_templates, record_shadow, set_status
from extractors.templates.schema import load_template
from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.domain import HEADER_FIELDS, DocType, ExtractionResult
from ledgerbot.pipeline import Extractor
from rules.case import CaseDocument
from rules.validate import check_bank, identify_vendor
from sandbox.corpus.documents import render_document
from sandbox.corpus.layouts import LAYOUTS
from sandbox.corpus.planner import DocPlan, Planner
from sandbox.masterdata import DEFAULT_SEED, MasterData, generate_master_data, iban_check_digits
from textlayer import read_document

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "data" / "realworld" / "pdf"


@dataclasses.dataclass
class Corpus:
    master: MasterData
    by_vendor: dict[str, list[DocPlan]]

    def vendor_docs(self, layout: str, at_least: int) -> list[DocPlan]:
        return next(
            docs for docs in self.by_vendor.values() if docs[0].layout.id == layout and len(docs) >= at_least
        )


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    master = generate_master_data(DEFAULT_SEED)
    plan = Planner(
        master, 11, mismatch_rate=0.0, split="dev", scans=False, einvoices=False, doc_types=["invoice"]
    ).plan(80)
    by_vendor: dict[str, list[DocPlan]] = defaultdict(list)
    for doc in plan.documents:
        by_vendor[doc.vendor.vendor_id].append(doc)
    return Corpus(master, dict(by_vendor))


def write(folder: Path, corpus: Corpus, plan: DocPlan, name: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(render_document(plan, corpus.master))
    truth = folder / f"{name}.json"
    truth.write_text(json.dumps(plan.truth()), encoding="utf-8")
    return pdf, truth


@pytest.fixture()
def extractor_for() -> Iterator[Any]:
    def make(folder: Path) -> Extractor:
        return Extractor(stages=("template", "generic"), extra_templates=(folder,), classify=False)

    yield make


def read(extractor: Extractor, path: Path) -> ExtractionResult:
    return extractor.extract_document(read_document(path, name=path.name), DocType.INVOICE)


def wrong_fields(result: ExtractionResult, truth: dict[str, Any]) -> list[str]:
    got = result.model_dump(mode="json")
    wrong = [n for n in HEADER_FIELDS if not same_value(n, truth["fields"].get(n), got["fields"].get(n))]
    key = [(ln["quantity"], ln["unit_price"], ln["amount"]) for ln in truth["lines"]]
    if [(ln["quantity"], ln["unit_price"], ln["amount"]) for ln in got["lines"]] != key:
        wrong.append("lines")
    return wrong


def test_learned_template_reads_the_vendors_next_invoices_with_other_lines_and_pages(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = corpus.vendor_docs("L01_classic_en", 4)  # 23 lines (two pages), then 5, 4 and 6 lines
    sample, truth = write(tmp_path / "in", corpus, docs[1], "first")
    outcome = learn_template(sample, truth, tmp_path / "templates")
    assert outcome.sample_reads_back and outcome.version == 1 and not outcome.not_found
    assert set(outcome.learned) == {*docs[1].truth()["fields"], "lines"} - {"po_number"} | {"po_number"}
    template = load_template(outcome.template)
    assert template.provenance.source == "learned" and template.status == "active"
    assert template.match.tax_ids == [docs[1].vendor.tax_id]
    labelled = {r.name: r.anchors[0].label for r in template.fields if r.anchors}
    assert labelled["invoice_number"] and labelled["total"]  # anchored on printed labels

    extractor = extractor_for(tmp_path / "templates")
    for plan, name in ((docs[2], "next"), (docs[0], "long")):
        path, _ = write(tmp_path / "in", corpus, plan, name)
        result = read(extractor, path)
        assert result.method == f"template:{template.id}"
        assert result.lineage["template"] == f"{template.id}@1"
        assert "template_fallback" not in result.lineage
        assert wrong_fields(result, plan.truth()) == []
    assert [o["status"] for o in run_template_tests(tmp_path / "templates")] == ["ok"]


@pytest.mark.parametrize("layout", ["L02_export_en", "L04_facture_fr"])
def test_a_line_table_over_two_pages_is_read_after_learning_a_short_one(
    tmp_path: Path, corpus: Corpus, extractor_for: Any, layout: str
) -> None:
    from sandbox.corpus.scans import page_count

    docs = next(
        d
        for d in corpus.by_vendor.values()
        if d[0].layout.id == layout and any(len(x.lines or []) > 25 for x in d)
    )
    short = next(d for d in docs if len(d.lines or []) <= 8)
    long = next(d for d in docs if len(d.lines or []) > 25)
    learned = learn_template(*write(tmp_path / "in", corpus, short, "short"), tmp_path / "templates")
    path, _ = write(tmp_path / "in", corpus, long, "long")
    assert page_count(path.read_bytes()) == 2
    result = read(extractor_for(tmp_path / "templates"), path)
    assert result.method == f"template:{learned.id}" and "template_fallback" not in result.lineage
    assert wrong_fields(result, long.truth()) == []


def test_two_vendors_on_one_layout_do_not_share_a_template(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    same_layout = [d for d in corpus.by_vendor.values() if d[0].layout.id == "L02_export_en" and len(d) >= 2]
    first, second = same_layout[0], same_layout[1]
    learned = learn_template(*write(tmp_path / "in", corpus, first[0], "a1"), tmp_path / "templates")
    stranger, _ = write(tmp_path / "in", corpus, second[0], "b1")
    result = read(extractor_for(tmp_path / "templates"), stranger)
    assert result.method != f"template:{learned.id}"
    # The stranger's own correction makes its own template; each vendor keeps reading with its own.
    other = learn_template(*write(tmp_path / "in", corpus, second[0], "b1"), tmp_path / "templates")
    assert other.id != learned.id and other.version == 1
    extractor = extractor_for(tmp_path / "templates")
    assert (
        read(extractor, write(tmp_path / "in", corpus, first[1], "a2")[0]).method == f"template:{learned.id}"
    )
    assert (
        read(extractor, write(tmp_path / "in", corpus, second[1], "b2")[0]).method == f"template:{other.id}"
    )


def test_a_vendor_with_two_layouts_gets_a_variant_and_a_new_version(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = corpus.vendor_docs("L03_modern_de", 2)
    folder = tmp_path / "templates"
    first = learn_template(*write(tmp_path / "in", corpus, docs[0], "de1"), folder)
    moved = dataclasses.replace(docs[1], layout=LAYOUTS["L06_compact_de"])
    path, truth = write(tmp_path / "in", corpus, moved, "compact")
    before = read(extractor_for(folder), path)
    assert before.method == f"template:{first.id}"  # its VAT id says whose it is
    assert "template_fallback" in before.lineage  # labels it never saw: the generic reading, named

    second = learn_template(path, truth, folder)
    assert second.refined and second.id == first.id and second.version == 2
    assert second.variants and second.sample_reads_back
    assert (folder / "history" / first.id / "v1.yml").is_file()  # the old version is kept
    template = load_template(second.template)
    assert template.provenance.previous == f"history/{first.id}/v1.yml"
    assert len(template.provenance.samples) == 2
    assert [o["status"] for o in run_template_tests(folder)] == ["ok", "ok"]
    extractor = extractor_for(folder)
    again = dataclasses.replace(docs[0], layout=LAYOUTS["L06_compact_de"])
    for plan, name in ((again, "compact2"), (docs[0], "de-again")):
        result = read(extractor, write(tmp_path / "in", corpus, plan, name)[0])
        assert result.lineage["template"] == f"{first.id}@2"
        assert wrong_fields(result, plan.truth()) == []


def test_anchors_that_held_on_two_samples_count_them(tmp_path: Path, corpus: Corpus) -> None:
    docs = corpus.vendor_docs("L07_moderne_fr", 3)
    folder = tmp_path / "templates"
    learn_template(*write(tmp_path / "in", corpus, docs[0], "f1"), folder)
    outcome = learn_template(*write(tmp_path / "in", corpus, docs[1], "f2"), folder)
    assert outcome.version == 2 and not outcome.variants
    template = load_template(outcome.template)
    total = next(r for r in template.fields if r.name == "total")
    assert total.anchors[0].held == 2 and len(total.anchors[0].samples) == 2


def test_a_changed_bank_account_is_read_as_printed_and_not_learned_as_identity(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = next(d for d in corpus.by_vendor.values() if d[0].vendor.iban and len(d) >= 2)
    folder = tmp_path / "templates"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "v1"), folder)
    iban = docs[1].vendor.iban
    assert iban is not None and docs[1].fields is not None
    bban = iban[4:-4] + ("0000" if iban[-4:] != "0000" else "1111")
    changed = iban[:2] + iban_check_digits(iban[:2], bban) + bban
    plan = dataclasses.replace(docs[1], fields=docs[1].fields.model_copy(update={"vendor_iban": changed}))
    path, truth = write(tmp_path / "in", corpus, plan, "v2")
    result = read(extractor_for(folder), path)
    assert result.method == f"template:{learned.id}"
    assert result.fields.vendor_iban == changed
    match, _ = identify_vendor(result.fields, corpus.master.vendors, 85.0)
    codes = [e.code for e in check_bank(CaseDocument.model_validate(result.model_dump()), match)]
    assert codes == ["BANK_DETAILS_CHANGED"]
    refined = learn_template(path, truth, folder)
    assert refined.identity_not_learned == {"vendor_iban": changed}
    assert load_template(refined.template).match.ibans == [iban]


def test_a_vendor_known_by_its_name_on_its_own_layout_only(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = next(d for d in corpus.by_vendor.values() if d[0].vendor.iban and len(d) >= 2)
    folder = tmp_path / "templates"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "k1"), folder)
    vendor = docs[1].vendor
    assert vendor.tax_id is not None and vendor.iban is not None and docs[1].fields is not None
    # Re-registered: a new VAT id and a new bank account, the same name and layout.
    tax_id = vendor.tax_id[:2] + "".join(str((int(c) + 3) % 10) for c in vendor.tax_id[2:] if c.isdigit())
    bban = vendor.iban[4:-4] + ("0000" if vendor.iban[-4:] != "0000" else "1111")
    iban = vendor.iban[:2] + iban_check_digits(vendor.iban[:2], bban) + bban
    moved = vendor.model_copy(update={"tax_id": tax_id, "iban": iban})
    fields = docs[1].fields.model_copy(update={"vendor_tax_id": tax_id, "vendor_iban": iban})
    plan = dataclasses.replace(docs[1], vendor=moved, fields=fields)
    result = read(extractor_for(folder), write(tmp_path / "in", corpus, plan, "k2")[0])
    assert result.method == f"template:{learned.id}" and result.lineage["template_match"] == "name"
    assert result.fields.vendor_tax_id == tax_id and result.fields.vendor_iban == iban  # as printed
    # The same name on another layout is not enough.
    other = dataclasses.replace(
        plan, layout=LAYOUTS["L05_us_letter" if plan.layout.id != "L05_us_letter" else "L01_classic_en"]
    )
    result = read(extractor_for(folder), write(tmp_path / "in", corpus, other, "k3")[0])
    assert result.method != f"template:{learned.id}"


def test_totals_printed_wrong_are_read_as_printed(tmp_path: Path, corpus: Corpus, extractor_for: Any) -> None:
    from decimal import Decimal

    docs = corpus.vendor_docs("L03_modern_de", 2)
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "w1"), tmp_path / "templates")
    assert docs[1].fields is not None and docs[1].fields.total is not None
    wrong = docs[1].fields.total + Decimal("10.00")
    plan = dataclasses.replace(docs[1], fields=docs[1].fields.model_copy(update={"total": wrong}))
    result = read(extractor_for(tmp_path / "templates"), write(tmp_path / "in", corpus, plan, "w2")[0])
    assert result.method == f"template:{learned.id}" and result.fields.total == wrong
    assert "template_fallback" not in result.lineage


def _freeform_vendor(seed: str, out: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Two invoices of one vendor in one randomized layout (the second with other lines)."""
    from sandbox.corpus import freeform
    from sandbox.corpus.content import ContentOptions, draw_invoice

    first = draw_invoice(random.Random(f"content:{seed}"), ContentOptions(credit_rate=0.0))
    style = freeform.draw_style(random.Random(f"style:{seed}"), first, heldout=False)
    second = draw_invoice(random.Random(f"content:{seed}:next"), ContentOptions(credit_rate=0.0))
    second = dataclasses.replace(
        second, vendor=first.vendor, buyer=first.buyer, language=first.language, currency=first.currency
    )
    second.compute_totals()
    out.mkdir(parents=True, exist_ok=True)
    docs = []
    for name, invoice in (("first", first), ("next", second)):
        pdf, _, shown = freeform.render(invoice, style, random.Random(f"render:{seed}"))
        path = out / f"{name}.pdf"
        path.write_bytes(pdf)
        docs.append((path, {"doc_type": "invoice", **freeform.truth(invoice, style, shown)}))
    return docs


def test_a_table_header_printed_over_two_lines_is_learned(tmp_path: Path, extractor_for: Any) -> None:
    from extractors.generic.geometry import build_rows
    from extractors.generic.table_header import find_header_at

    (sample, truth), (later, later_truth) = _freeform_vendor("s:31", tmp_path / "in")
    rows = build_rows(read_document(sample).pages[0])
    headers = [h for h in (find_header_at(rows, r) for r in range(len(rows))) if h is not None]
    assert len(headers[0].rows) == 2  # "EXT." over "PRICE": the layout this test is about
    outcome = learn_template(sample, parse_truth(truth, "first"), tmp_path / "templates")
    assert "lines" in outcome.learned and outcome.sample_reads_back
    result = read(extractor_for(tmp_path / "templates"), later)
    assert result.method == f"template:{outcome.id}"
    fallback = result.lineage.get("template_fallback", "")
    # Read by the template: the lines under the stacked header, and the tax right of "VAT 21 %"
    # (neither "Total excl. VAT" nor "VAT reg no" above it, which end or start with "VAT").
    assert "lines" not in fallback and "tax_amount" not in fallback
    assert wrong_fields(result, later_truth) == []


def test_values_are_found_in_other_printed_formats_and_missing_ones_reported(
    tmp_path: Path, corpus: Corpus
) -> None:
    docs = corpus.vendor_docs("L06_compact_de", 2)  # "14. März 2026", "EUR 1.234,56"
    pdf, truth_path = write(tmp_path / "in", corpus, docs[0], "c1")
    truth = json.loads(truth_path.read_text())
    truth["fields"]["po_number"] = "PO-NEVER-PRINTED-1"
    truth["fields"].pop("due_date")
    (tmp_path / "partial.json").write_text(json.dumps(truth))
    outcome = learn_template(pdf, tmp_path / "partial.json", tmp_path / "templates")
    assert outcome.not_found == ["po_number"]
    assert "due_date" not in outcome.learned and "total" in outcome.learned
    assert load_template(outcome.template).options.decimal_separator == ","


def test_a_truth_without_the_vendor_takes_its_identity_from_the_page(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = corpus.vendor_docs("L04_facture_fr", 2)
    pdf, truth_path = write(tmp_path / "in", corpus, docs[0], "p1")
    truth = json.loads(truth_path.read_text())
    keep = ("invoice_number", "invoice_date", "total")
    (tmp_path / "p1-partial.json").write_text(json.dumps({"fields": {k: truth["fields"][k] for k in keep}}))
    outcome = learn_template(pdf, tmp_path / "p1-partial.json", tmp_path / "templates")
    assert sorted(outcome.learned) == sorted(keep) and outcome.notes
    assert load_template(outcome.template).match.tax_ids == [docs[0].vendor.tax_id]
    result = read(extractor_for(tmp_path / "templates"), write(tmp_path / "in", corpus, docs[1], "p2")[0])
    assert result.method == f"template:{outcome.id}"
    assert not {"invoice_number", "invoice_date", "total"} & set(wrong_fields(result, docs[1].truth()))


def test_bad_truth_and_unreadable_samples_are_coded_errors(tmp_path: Path, corpus: Corpus) -> None:
    with pytest.raises(LearningError) as error:
        parse_truth({"fields": {"total": "a lot"}}, "t.json")
    assert error.value.code == "E411"
    with pytest.raises(LearningError, match="unknown field"):
        parse_truth({"fields": {"colour": "red"}}, "t.json")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing here")
    (tmp_path / "t.json").write_text(json.dumps({"fields": {"total": "1.00"}}))
    with pytest.raises(LearningError) as error:
        learn_template(broken, tmp_path / "t.json", tmp_path / "templates")
    assert error.value.code == "E412"
    assert not (tmp_path / "templates").exists() or not list((tmp_path / "templates").glob("*.yml"))


def test_cli_learn_then_extract_with_the_templates_folder(tmp_path: Path, corpus: Corpus) -> None:
    _load_commands()
    runner = CliRunner()
    docs = corpus.vendor_docs("L05_us_letter", 2)
    sample, truth = write(tmp_path / "in", corpus, docs[0], "u1")
    folder = tmp_path / "templates"
    result = runner.invoke(
        app, ["template", "learn", str(sample), "--truth", str(truth), "--templates", str(folder)]
    )
    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    out = json.loads(line)
    assert {"template", "id", "version", "learned", "not_found", "sample_reads_back"} <= set(out)
    assert out["version"] == 1 and out["sample_reads_back"] is True and Path(out["template"]).is_file()
    yaml.safe_load(Path(out["template"]).read_text())  # plain YAML a person can edit

    nxt, _ = write(tmp_path / "in", corpus, docs[1], "u2")
    result = runner.invoke(app, ["extract", "--in-process", "--templates", str(folder), str(nxt)])
    assert result.exit_code == 0, result.stderr
    line = json.loads(result.stdout.splitlines()[0])
    assert line["method"] == f"template:{out['id']}"
    assert line["fields"]["invoice_number"] == docs[1].truth()["fields"]["invoice_number"]

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(
        app, ["template", "learn", str(sample), "--truth", str(bad), "--templates", str(folder)]
    )
    assert result.exit_code == 1 and "[E411]" in result.stderr and not result.stdout
    result = runner.invoke(app, ["template", "test", "--templates", str(folder)])
    assert result.exit_code == 0 and json.loads(result.stdout.splitlines()[0])["status"] == "ok"
    [listed] = [
        json.loads(x)
        for x in runner.invoke(app, ["template", "list", "--templates", str(folder)]).stdout.splitlines()
    ]
    assert (listed["id"], listed["version"], listed["status"], listed["source"]) == (
        out["id"],
        1,
        "active",
        "learned",
    )
    result = runner.invoke(app, ["template", "retire", out["id"], "--templates", str(folder)])
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "retired"
    result = runner.invoke(app, ["extract", "--in-process", "--templates", str(folder), str(nxt)])
    assert json.loads(result.stdout.splitlines()[0])["method"] != f"template:{out['id']}"
    result = runner.invoke(app, ["template", "promote", "no-such-template", "--templates", str(folder)])
    assert result.exit_code == 1 and "[E413]" in result.stderr


def test_a_shadow_template_is_trusted_after_agreeing_with_the_clerk(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = corpus.vendor_docs("L07_moderne_fr", 3)
    folder = tmp_path / "templates"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "s1"), folder, status="shadow")
    path, _ = write(tmp_path / "in", corpus, docs[1], "s2")
    # In shadow it does not read for decisions.
    assert read(extractor_for(folder), path).method != f"template:{learned.id}"
    template = load_template(learned.template)
    from extractors.templates.engine import TemplateExtractor

    document = read_document(path, name=path.name)
    shadow = TemplateExtractor([template]).apply(template, document, DocType.INVOICE)
    generic = Extractor(stages=("generic",), classify=False).extract_document(document, DocType.INVOICE)
    final = docs[1].truth()["fields"]
    wrong = {**final, "total": "1.00"}
    outcome = record_shadow(folder, template, "s2.pdf", shadow, generic, wrong, trust_after=1)
    assert outcome.disagreed == ["total"] and not outcome.promoted
    outcome = record_shadow(folder, template, "s2.pdf", shadow, generic, final, trust_after=1)
    assert not outcome.promoted  # one disagreement the clerk had to fix: not trusted
    [entry] = list_templates(folder)
    assert entry["status"] == "shadow" and entry["shadow"] == {"documents": 2, "agreed": 1, "disagreed": 1}

    fresh = tmp_path / "fresh"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "s1"), fresh, status="shadow")
    template = load_template(learned.template)
    outcome = record_shadow(fresh, template, "s2.pdf", shadow, generic, final, trust_after=1)
    assert outcome.promoted and load_template(learned.template).status == "active"
    assert read(extractor_for(fresh), path).method == f"template:{learned.id}"
    set_status(fresh, learned.id, "retired", reason="test")
    assert read(extractor_for(fresh), path).method != f"template:{learned.id}"
    history = (fresh / "history" / learned.id / "status.jsonl").read_text().splitlines()
    assert [json.loads(h)["to"] for h in history] == ["active", "retired"]


def test_a_thousand_other_templates_do_not_change_which_one_reads(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    docs = corpus.vendor_docs("L02_export_en", 2)
    folder = tmp_path / "templates"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "n1"), folder)
    data = yaml.safe_load(learned.template.read_text())
    rng = random.Random(3)
    for i in range(300):
        data = {**data, "id": f"noise-{i}", "samples": []}
        data["match"] = {
            **data["match"],
            "tax_ids": [f"DE{rng.randrange(10**8, 10**9)}"],
            "ibans": [],
            "names": [f"Noise {i} GmbH"],
        }
        (folder / f"noise-{i}.yml").write_text(yaml.safe_dump(data))
    result = read(extractor_for(folder), write(tmp_path / "in", corpus, docs[1], "n2")[0])
    assert result.method == f"template:{learned.id}"
    assert result.lineage["template_match"] == "tax_id"


def _realworld_pairs() -> list[list[Path]]:
    by_vendor: dict[str, list[Path]] = defaultdict(list)
    for truth in sorted(REALWORLD.glob("*.json")) if REALWORLD.is_dir() else []:
        data = json.loads(truth.read_text(encoding="utf-8"))
        name = (data.get("fields") or {}).get("vendor_name")
        if name and data.get("doc_type") == "invoice":
            by_vendor[vendor_key(name)].append(truth)
    return [truths for truths in by_vendor.values() if len(truths) > 1]


@pytest.mark.skipif(not _realworld_pairs(), reason="no real-world vendor with two invoices here")
def test_realworld_vendor_learned_on_one_invoice_reads_the_other(tmp_path: Path, extractor_for: Any) -> None:
    [first, other] = _realworld_pairs()[0][:2]
    outcome = learn_template(first.with_suffix(".pdf"), first, tmp_path / "templates")
    assert outcome.sample_reads_back and len(outcome.learned) >= 8
    truth = json.loads(other.read_text(encoding="utf-8"))
    result = read(extractor_for(tmp_path / "templates"), other.with_suffix(".pdf"))
    assert result.method == f"template:{outcome.id}"
    got = result.model_dump(mode="json")["fields"]
    right = [n for n, v in truth["fields"].items() if same_value(n, v, got.get(n))]
    generic = Extractor(stages=("generic",), classify=False).extract_document(
        read_document(other.with_suffix(".pdf"), name=other.name), DocType.INVOICE
    )
    generic_right = [
        n
        for n, v in truth["fields"].items()
        if same_value(n, v, generic.model_dump(mode="json")["fields"].get(n))
    ]
    assert len(right) == len(truth["fields"]) > len(generic_right)


@pytest.mark.slow
def test_a_scan_of_the_vendors_next_invoice_is_read_by_the_template(
    tmp_path: Path, corpus: Corpus, extractor_for: Any
) -> None:
    from sandbox.corpus.scans import scan_png

    docs = corpus.vendor_docs("L03_modern_de", 2)
    folder = tmp_path / "templates"
    learned = learn_template(*write(tmp_path / "in", corpus, docs[0], "d1"), folder)
    scan = tmp_path / "in" / "d2.png"
    scan.write_bytes(scan_png(render_document(docs[1], corpus.master), random.Random(5)))
    result = read(extractor_for(folder), scan)
    assert result.method == f"template:{learned.id}"
    assert len(wrong_fields(result, docs[1].truth())) <= 1
