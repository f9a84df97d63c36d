"""``ledgerbot extract``, ``ledgerbot eval``, ``ledgerbot template new|test`` and the extractor's training.

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
    split: Annotated[
        bool,
        typer.Option(
            "--split", help="Find several documents in one file: one line per document, with pages and part"
        ),
    ] = False,
) -> None:
    """Extract header fields and line items: one JSON line per file (per document with --split), in order."""
    from ledgerbot.pipeline import Extractor

    extractor = Extractor(
        embedded=not no_embedded,
        stages=("generic",) if generic_only else ("template", "generic"),
        in_process=in_process,
        split=split,
        warn=lambda message: stderr.print(message, highlight=False, markup=False),
    )
    for result in progress(extractor.extract_paths(files), total=len(files), desc="extract"):
        emit(result)


def _labelled(folder: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for truth in sorted(folder.rglob("*.json")):
        if truth.name == "manifest.json":
            continue
        docs = [
            p for p in truth.parent.glob(truth.stem + ".*") if p.suffix.lower() != ".json" and p.is_file()
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
        str | None, typer.Option("--split", help="Only documents of this split (dev/heldout)")
    ] = None,
    variant: Annotated[
        list[str] | None, typer.Option("--variant", help="Only these variants, e.g. digital (repeatable)")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many documents")] = None,
    details: Annotated[
        Path | None, typer.Option("--details", help="Write each document's mismatches as JSON Lines here")
    ] = None,
) -> None:
    """Accuracy of extraction over a labelled folder, and pages per second. One JSON object on stdout."""
    from extractors.evaluation import Evaluation, count_pages
    from ledgerbot.pipeline import Extractor, Source

    if not folder.is_dir():
        raise fail(f"{folder} is not a folder", "E403", exit_code=2)
    pairs = []
    for doc, truth_path in _labelled(folder):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if split and truth.get("split") != split:
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
    extractor = Extractor(
        embedded=not no_embedded,
        stages=("generic",) if generic_only else ("template", "generic"),
        warn=lambda message: stderr.print(message, highlight=False, markup=False),
    )
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
    written = draft_template(sample, folder or default_templates_dir(), template_id=template_id, force=force)
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


def _train_extractor(corpus: Path, split: str, variants: list[str] | None, models_dir: Path | None) -> None:
    from extractors.generic.training import TEXT_VARIANTS, train_ranker

    emit(
        train_ranker(
            corpus,
            split=split,
            variants=tuple(variants) if variants else TEXT_VARIANTS,
            models_dir=models_dir,
            log=lambda m: stderr.print(m, highlight=False, markup=False),
        )
    )


def _register_training() -> None:
    """``ledgerbot train extractor`` on the classifier's ``train`` group, else ``train-extractor``."""
    try:
        from ledgerbot.cli.commands import classify as classify_cli  # type: ignore[attr-defined]

        train_app = getattr(classify_cli, "train_app", None)
    except ImportError:
        train_app = None

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
    ) -> None:
        """Train the generic extractor's candidate ranker on a labelled corpus (dev split only)."""
        _train_extractor(corpus, split, variant, models_dir)

    if isinstance(train_app, typer.Typer):
        train_app.command("extractor")(train_extractor)
    else:
        app.command("train-extractor")(train_extractor)


_register_training()
