"""``ledgerbot extract``, ``ledgerbot eval``, ``ledgerbot template ...`` and the extractor's training.

``extract`` prints one JSON line per input file, in input order, and nothing else on stdout;
``eval`` prints one JSON object (a human table goes to stderr).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerbot.cli.app import app, emit, fail, progress, stderr
from ledgerbot.cli.commands.classify import train_app

template_app = typer.Typer(
    help="Vendor templates: draft one from a sample, test all against goldens.", no_args_is_help=True
)
app.add_typer(template_app, name="template")

_NO_EMBEDDED = typer.Option(
    "--no-embedded", help="Ignore XML embedded in Factur-X/ZUGFeRD PDFs; read the page"
)


@app.command()
def extract(
    files: Annotated[list[Path], typer.Argument(help="PDF, image (PNG/JPEG/TIFF) or UBL/CII XML files")],
    no_embedded: Annotated[bool, _NO_EMBEDDED] = False,
    generic_only: Annotated[bool, typer.Option("--generic-only", help="Skip vendor templates")] = False,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="Read files in this process (no workers)")
    ] = False,
    templates: Annotated[
        list[Path] | None,
        typer.Option("--templates", help="A folder of vendor templates used besides the shipped ones"),
    ] = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split", help="Find several documents in one file: one line per document, with pages and part"
        ),
    ] = False,
) -> None:
    """Extract header fields and line items: one JSON line per file (per document with --split), in order."""
    from ledgerbot.pipeline import Extractor

    for folder in templates or []:
        if not folder.is_dir():
            raise fail(f"--templates {folder} is not a folder", "E403", exit_code=2)
    extractor = Extractor(
        embedded=not no_embedded,
        stages=("generic",) if generic_only else ("template", "generic"),
        extra_templates=tuple(templates or ()),
        in_process=in_process,
        split=split,
        warn=lambda message: stderr.print(message, highlight=False, markup=False),
    )
    for result in progress(extractor.extract_paths(files), total=len(files), desc="extract"):
        emit(result)


def _labelled(folder: Path) -> list[tuple[Path, Path]]:
    """Each document with its ``<stem>.json`` truth; ``<stem>.boxes.csv`` and the like are no documents."""
    pairs = []
    for truth in sorted(folder.rglob("*.json")):
        if truth.name == "manifest.json":
            continue
        docs = [
            p
            for p in truth.parent.glob(truth.stem + ".*")
            if p.stem == truth.stem and p.suffix.lower() != ".json" and p.is_file()
        ]
        if len(docs) == 1:
            pairs.append((docs[0], truth))
    return pairs


@app.command("eval")
def evaluate(
    folder: Annotated[
        Path, typer.Argument(help="Labelled corpus: documents with <stem>.json truth beside them")
    ],
    no_embedded: Annotated[bool, _NO_EMBEDDED] = False,
    generic_only: Annotated[bool, typer.Option("--generic-only", help="Skip vendor templates")] = False,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="Only documents of this split: a generated corpus's dev/heldout (from its truth), "
            "or dev/val of real-world documents (extractors.realworld.realworld_split)",
        ),
    ] = None,
    variant: Annotated[
        list[str] | None, typer.Option("--variant", help="Only these variants, e.g. digital (repeatable)")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many documents")] = None,
    details: Annotated[
        Path | None, typer.Option("--details", help="Write each document's mismatches as JSON Lines here")
    ] = None,
    text_cache: Annotated[
        Path | None,
        typer.Option(
            "--text-cache",
            help="Keep the documents' text layers in this folder and reuse them on the next run "
            "(keyed by file content, text-layer version and OCR settings); pages per second then "
            "leave out the reading of cached files",
        ),
    ] = None,
) -> None:
    """Accuracy of extraction over a labelled folder, and pages per second. One JSON object on stdout."""
    from extractors.evaluation import Evaluation, contract_truth, count_pages
    from extractors.realworld import realworld_split
    from ledgerbot.pipeline import Extractor, Source
    from textlayer.cache import DocumentCache

    if not folder.is_dir():
        raise fail(f"{folder} is not a folder", "E403", exit_code=2)
    pairs = []
    for doc, truth_path in _labelled(folder):
        truth = contract_truth(json.loads(truth_path.read_text(encoding="utf-8")))
        # Real-world truth has no split of its own: the one keyed split decides.
        if split and truth.get("split", realworld_split(doc.stem)) != split:
            continue
        if variant and truth.get("variant") not in variant:
            continue
        pairs.append((doc, truth))
    if limit is not None:
        pairs = pairs[:limit]
    if not pairs:
        raise fail(
            f"no labelled documents in {folder} (need <stem>.json beside each file)", "E403", exit_code=2
        )
    if text_cache is not None and text_cache.exists() and not text_cache.is_dir():
        raise fail(f"--text-cache {text_cache} is not a folder", "E403", exit_code=2)
    cache = DocumentCache(text_cache) if text_cache is not None else None
    extractor = Extractor(
        embedded=not no_embedded,
        stages=("generic",) if generic_only else ("template", "generic"),
        warn=lambda message: stderr.print(message, highlight=False, markup=False),
        text_cache=cache,
    ).prepare()  # models and workers up before the clock starts: pages per second are reading only
    sources = [Source(name=str(doc), path=doc) for doc, _ in pairs]
    pages = sum(count_pages(doc.read_bytes()) for doc, _ in pairs)
    evaluation = Evaluation()
    started = time.perf_counter()
    for (_, truth), result in zip(
        pairs, progress(extractor.extract_sources(sources), total=len(pairs), desc="eval"), strict=True
    ):
        evaluation.add(truth, result)
    seconds = time.perf_counter() - started
    report = evaluation.report(pages=pages, seconds=seconds)
    report["folder"] = str(folder)
    report["embedded"] = not no_embedded
    if cache is not None:
        report["text_cache"] = {"folder": str(text_cache), "hits": cache.hits, "misses": cache.misses}
    if details is not None:
        details.write_text(
            "".join(json.dumps(d, default=str) + "\n" for d in evaluation.details), encoding="utf-8"
        )
    _print_table(report)
    emit(report)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _print_table(report: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="extraction accuracy", show_lines=False)
    for column in ("group", "docs", "doc type", "header", "line P", "line R", "line F1"):
        table.add_column(column, justify="right" if column != "group" else "left")

    def row(name: str, s: dict[str, Any]) -> None:
        lines = s["lines"]
        table.add_row(
            name,
            str(s["documents"]),
            _fmt(s["doc_type_accuracy"]),
            _fmt(s["header_field_accuracy"]),
            _fmt(lines["precision"]),
            _fmt(lines["recall"]),
            _fmt(lines["f1"]),
        )

    row("all", report)
    for name, s in report["by_variant"].items():
        row(f"variant {name}", s)
    for name, s in report["by_layout"].items():
        row(f"layout {name}", s)
    stderr.print(table)
    fields = "  ".join(f"{k}={_fmt(v)}" for k, v in report["field_accuracy"].items())
    stderr.print(f"fields: {fields}", highlight=False)
    stderr.print(
        f"{report['pages']} pages in {report['seconds']} s = {_fmt(report['pages_per_second'])} pages/s"
    )
    _print_calibration(report["calibration"])


def _print_calibration(calibration: dict[str, Any]) -> None:
    """ECE per field and the reliability table: is a value given at 0.9 right 9 times in 10?"""
    from rich.table import Table

    if not calibration["values"]:
        stderr.print("calibration: no extracted value came with a confidence", highlight=False)
        return
    per_field = "  ".join(
        f"{name}={_fmt(ece)} (n={calibration['values_by_field'][name]})"
        for name, ece in calibration["ece_by_field"].items()
    )
    stderr.print(
        f"calibration: ECE {_fmt(calibration['ece'])} over {calibration['values']} values; {per_field}",
        highlight=False,
    )
    table = Table(title="reliability (all fields)", show_lines=False)
    for column in ("confidence bin", "values", "mean confidence", "accuracy"):
        table.add_column(column, justify="right")
    for row in calibration["reliability"]:
        if row["count"]:
            table.add_row(
                f"{row['low']:.1f}-{row['high']:.1f}",
                str(row["count"]),
                _fmt(row["confidence"]),
                _fmt(row["accuracy"]),
            )
    stderr.print(table)


@template_app.command("new")
def template_new(
    sample: Annotated[Path, typer.Argument(help="A sample document of the vendor (PDF or image)")],
    template_id: Annotated[
        str | None, typer.Option("--id", help="Template id (default: from the vendor)")
    ] = None,
    folder: Annotated[Path | None, typer.Option("--templates", help="Templates folder")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing template")] = False,
) -> None:
    """Draft a template from a sample and its text layer; writes the YAML, the sample and its golden."""
    from extractors.templates.draft import draft_template
    from extractors.templates.engine import default_templates_dir

    if not sample.is_file():
        raise fail(f"{sample} does not exist", "E403", exit_code=2)
    folder = folder or default_templates_dir()
    written = draft_template(sample, folder, template_id=template_id, force=force)
    _register(folder, Path(str(written["template"])).stem, "drafted from a sample")
    emit(written)


@template_app.command("test")
def template_test(
    ids: Annotated[list[str] | None, typer.Argument(help="Only these template ids")] = None,
    folder: Annotated[Path | None, typer.Option("--templates", help="Templates folder")] = None,
    regen: Annotated[
        bool,
        typer.Option("--regen", help="Rewrite the golden JSON from the current output (review the diff!)"),
    ] = False,
) -> None:
    """Run every template on its committed samples and compare with the golden JSON. One line per sample."""
    from extractors.templates.engine import default_templates_dir
    from extractors.templates.golden import run_template_tests

    failures = 0
    for outcome in run_template_tests(folder or default_templates_dir(), ids=ids, regen=regen):
        emit(outcome)
        failures += outcome["status"] == "fail"
    if failures:
        raise typer.Exit(1)


@template_app.command("learn")
def template_learn(
    sample: Annotated[Path, typer.Argument(help="A document of the vendor (PDF or image)")],
    truth: Annotated[Path, typer.Option("--truth", help="Its correct values (JSON, shape of extraction.md)")],
    folder: Annotated[Path, typer.Option("--templates", help="Templates folder to write into")],
    template_id: Annotated[
        str | None, typer.Option("--id", help="Template id (default: from the vendor name)")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="active (default), shadow or draft for a new template")
    ] = "active",
) -> None:
    """Learn a vendor's layout from one document and its correct values; a second one refines it."""
    from extractors.templates.learn import LearningError, learn_template
    from extractors.templates.schema import TemplateError

    if status not in ("active", "shadow", "draft"):
        raise fail(f"--status must be active, shadow or draft, got {status!r}", "E411", exit_code=2)
    try:
        outcome = learn_template(sample, truth, folder, template_id=template_id, status=status)  # type: ignore[arg-type]
    except (LearningError, TemplateError) as error:
        raise fail(error.message, error.code) from None
    from ledgerbot.template_registry import learned_test

    _register(folder, outcome.id, "learned from a sample", tested=learned_test(outcome))
    emit(outcome.as_json())


@template_app.command("list")
def template_list(
    folder: Annotated[Path | None, typer.Option("--templates", help="Templates folder")] = None,
) -> None:
    """One JSON line per template: id, version, status, source, samples, shadow record."""
    from extractors.templates.engine import default_templates_dir
    from extractors.templates.lifecycle import list_templates

    for entry in list_templates(folder or default_templates_dir()):
        emit(entry)


def _register(folder: Path, template_id: str, reason: str, tested: dict[str, Any] | None = None) -> None:
    """The template's new version or status into the model registry; a failure there is only a warning."""
    from ledgerbot.cli.commands.models import actor
    from ledgerbot.template_registry import record

    problem = record(folder, template_id, actor=actor(None), reason=reason, tested=tested)
    if problem:
        stderr.print(f"[yellow]warning[/yellow] not registered: {problem}", highlight=False)


def _set_status(folder: Path | None, template_id: str, status: str, reason: str) -> None:
    from extractors.templates.engine import default_templates_dir
    from extractors.templates.lifecycle import set_status
    from extractors.templates.schema import TemplateError

    folder = folder or default_templates_dir()
    try:
        done = set_status(folder, template_id, status, reason=reason)  # type: ignore[arg-type]
    except TemplateError as error:
        raise fail(error.message, error.code) from None
    _register(folder, template_id, reason)
    emit(done)


@template_app.command("promote")
def template_promote(
    template_id: Annotated[str, typer.Argument(help="Template id")],
    folder: Annotated[Path | None, typer.Option("--templates", help="Templates folder")] = None,
) -> None:
    """Trust a draft or shadow template: it reads documents for decisions from now on."""
    _set_status(folder, template_id, "active", "promoted by hand")


@template_app.command("retire")
def template_retire(
    template_id: Annotated[str, typer.Argument(help="Template id")],
    folder: Annotated[Path | None, typer.Option("--templates", help="Templates folder")] = None,
) -> None:
    """Stop using a template (it stays on disk with its samples and history)."""
    _set_status(folder, template_id, "retired", "retired by hand")


@train_app.command("extractor")
def train_extractor(
    corpus: Annotated[Path, typer.Argument(help="Labelled corpus folder (documents + <stem>.json)")],
    split: Annotated[str, typer.Option("--split", help="Train only on this split")] = "dev",
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", help="Only these variants (default: digital and scans)"),
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models-dir", help="Default: $LEDGERBOT_HOME/models")
    ] = None,
    also: Annotated[
        list[Path] | None, typer.Option("--also", help="Another generated corpus (its --split part)")
    ] = None,
    truth: Annotated[
        list[Path] | None,
        typer.Option("--truth", help="E-invoice PDFs with truth (extractors.einvoice.make_truth)"),
    ] = None,
    realworld: Annotated[
        Path | None,
        typer.Option("--realworld", help="Real-world set (pdf/, sroie/): its development part only"),
    ] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Keep text layers read here")] = None,
) -> None:
    """Train and calibrate the generic extractor's candidate ranker (dev split only)."""
    from extractors.generic.datasets import labelled_folder, realworld_pdfs, sroie_receipts
    from extractors.generic.training import TEXT_VARIANTS, train_ranker

    def log(message: str) -> None:
        stderr.print(message, highlight=False, markup=False)

    chosen = tuple(variant) if variant else TEXT_VARIANTS
    extra = []
    for folder in also or []:  # the layout randomizer's corpus: its dev split only
        extra += labelled_folder(
            folder, split=split, variants=chosen, source="randomizer", cache=cache, log=log
        )
    for folder in truth or []:
        extra += labelled_folder(folder, split="", source="einvoice", cache=cache, log=log)
    if realworld is not None:  # only the development part: the validation part stays unseen
        extra += realworld_pdfs(realworld / "pdf", "dev", cache=cache, log=log)
        extra += list(sroie_receipts(realworld / "sroie", "dev"))
    from ledgerbot.core.modelops import register_trained
    from ledgerbot.core.settings import get_settings

    out = train_ranker(
        corpus, split=split, variants=chosen, models_dir=models_dir, extra=extra, cache=cache, log=log
    )
    out["registry_state"] = register_trained(models_dir or get_settings().models_dir, out["model"])
    emit(out)
