"""The ``ledgerbot extract`` / ``eval`` contract: JSON Lines in input order, error lines, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoice_fixtures import Invoice
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app

EINVOICE = Path(__file__).resolve().parents[3] / "shared" / "data" / "einvoice"
UBL = sorted((EINVOICE / "XML-Rechnung" / "UBL").glob("*.ubl.xml")) if EINVOICE.is_dir() else []


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _load_commands()
    return CliRunner()


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "acme-1001.pdf"
    good.write_bytes(Invoice().pdf())
    credit = tmp_path / "acme-credit.pdf"
    credit.write_bytes(Invoice(lang="de", credit=True, number="GS-2026-7").pdf())
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n this is not really a pdf")
    return {"good": good, "credit": credit, "corrupt": corrupt, "missing": tmp_path / "missing.pdf"}


@pytest.mark.slow
def test_one_line_per_file_in_input_order_with_error_lines(runner: CliRunner, files: dict[str, Path]) -> None:
    args = [str(files["corrupt"]), str(files["good"]), str(files["missing"]), str(files["credit"])]
    if UBL:
        args.append(str(UBL[0]))
    result = runner.invoke(app, ["extract", "--in-process", *args])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == args
    corrupt, good, missing, credit = lines[:4]
    assert corrupt["doc_type"] is None and corrupt["errors"][0]["code"].startswith("E2")
    assert missing["doc_type"] is None and missing["errors"][0]["code"] == "E401"
    truth = Invoice().truth()
    assert good["fields"] == truth["fields"]
    assert good["method"] == "generic"
    assert good["lines"][0]["quantity"] == "10" and good["lines"][0]["amount"] == "1000.00"
    assert good["field_boxes"]["total"]["page"] == 1
    assert good["lineage"]["text_layer"] == "pdfium"
    assert good["lineage"]["extractor"].startswith("generic-")
    assert credit["fields"]["total"].startswith("-") and credit["fields"]["invoice_number"] == "GS-2026-7"
    if UBL:
        assert lines[4]["method"] == "einvoice" and lines[4]["doc_type"] == "invoice"
    # Without a trained classifier the line says so instead of guessing a type.
    assert any(e["code"] == "E501" for e in good["errors"])


def test_no_files_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["extract"])
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.slow
def test_eval_scores_a_labelled_folder(runner: CliRunner, tmp_path: Path) -> None:
    for i, (lang, credit) in enumerate([("en", False), ("de", False), ("fr", True)]):
        invoice = Invoice(lang=lang, credit=credit, number=f"INV-{i}")
        (tmp_path / f"doc-{i}.pdf").write_bytes(invoice.pdf())
        truth = {**invoice.truth(), "layout": f"X{i % 2}", "variant": "digital"}
        (tmp_path / f"doc-{i}.json").write_text(json.dumps(truth))
    result = runner.invoke(app, ["eval", str(tmp_path), "--generic-only"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 3
    assert report["header_field_accuracy"] == 1.0
    assert report["lines"]["f1"] == 1.0 and report["lines"]["truth"] == 6
    assert report["field_accuracy"]["total"] == 1.0
    assert set(report["by_layout"]) == {"X0", "X1"} and report["by_variant"]["digital"]["documents"] == 3
    assert report["pages"] == 3 and report["pages_per_second"] > 0
    # No classifier trained: doc types are unknown, and eval says so instead of crediting them.
    assert report["doc_type_accuracy"] == 0.0


@pytest.mark.slow
def test_eval_reuses_the_text_layers_it_kept(runner: CliRunner, tmp_path: Path) -> None:
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    corpus.mkdir()
    for i in range(2):
        invoice = Invoice(number=f"INV-{i}")
        (corpus / f"doc-{i}.pdf").write_bytes(invoice.pdf())
        (corpus / f"doc-{i}.json").write_text(json.dumps({**invoice.truth(), "variant": "digital"}))
    args = ["eval", str(corpus), "--generic-only", "--text-cache", str(cache)]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert first["text_cache"] == {"folder": str(cache), "hits": 0, "misses": 2}
    assert second["text_cache"] == {"folder": str(cache), "hits": 2, "misses": 0}
    assert second["field_accuracy"] == first["field_accuracy"]
    (tmp_path / "file").write_text("")
    refused = runner.invoke(app, ["eval", str(corpus), "--text-cache", str(tmp_path / "file")])
    assert refused.exit_code == 2 and "E403" in refused.stderr


def test_eval_of_an_unlabelled_folder_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(Invoice().pdf())
    result = runner.invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 2


class _BrokenClassifier:
    def classify(self, documents: list[object]) -> list[object]:
        raise ValueError("X has 11421 features, but the model expects 11414")


def test_a_broken_classifier_costs_the_doc_type_not_the_batch(tmp_path: Path) -> None:
    from ledgerbot.pipeline import Extractor

    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(Invoice().pdf())
    warnings: list[str] = []
    extractor = Extractor(classify=False, in_process=True, stages=("generic",), warn=warnings.append)
    extractor.classifier = _BrokenClassifier()
    [result] = list(extractor.extract_paths([pdf, pdf][:1]))
    assert result.doc_type is None
    assert result.fields.total is not None
    assert [e.code for e in result.errors] == ["E505"]
    assert len(warnings) == 1 and "E505" in warnings[0]


def test_a_batch_of_einvoices_needs_no_text_layer_and_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import facturx
    from test_einvoice_pdf import facturx_xml, visible_pdf

    import ledgerbot.pipeline as pipeline

    pdf = tmp_path / "fx.pdf"
    pdf.write_bytes(facturx.generate_from_binary(visible_pdf(), facturx_xml(), check_xsd=False))
    readers: list[object] = []
    monkeypatch.setattr(pipeline, "_text_reader", lambda in_process: readers.append(in_process))
    warnings: list[str] = []
    # No classifier is trained in this home: looking for one would warn E501.
    extractor = pipeline.Extractor(warn=warnings.append)
    [result] = list(extractor.extract_paths([pdf]))
    assert result.method == "einvoice" and str(result.fields.total) == "120.00"
    assert readers == [] and warnings == []
    # The first document read from its pages loads them.
    monkeypatch.undo()
    good = tmp_path / "good.pdf"
    good.write_bytes(Invoice().pdf())
    [read] = list(extractor.extract_paths([good]))
    assert read.method is not None and read.fields.total is not None
    assert [w for w in warnings if "E501" in w]
