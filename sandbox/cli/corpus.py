"""``ledgerbot sandbox corpus``: writes a sample corpus with ground truth (and match cases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import emit, progress, stderr
from sandbox.cli import sandbox_app


@sandbox_app.command("corpus")
def corpus(
    out: Annotated[
        Path, typer.Argument(help="Folder to write the corpus to (new or empty, or a previous corpus)")
    ],
    n: Annotated[int, typer.Option("--n", help="Number of documents (files with truth) to write")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the corpus; same seed, same truth")] = 1,
    mismatch_rate: Annotated[
        float, typer.Option("--mismatch-rate", help="Share of invoices that carry an injected mismatch")
    ] = 0.15,
    master_seed: Annotated[
        int | None, typer.Option("--master-seed", help="Seed of the sandbox master data (default: the ERP's)")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="dev | heldout | all: which layouts to use")] = "all",
    no_scans: Annotated[bool, typer.Option("--no-scans", help="No scanned variants (much faster)")] = False,
    no_einvoices: Annotated[
        bool, typer.Option("--no-einvoices", help="No UBL / CII / Factur-X variants")
    ] = False,
    doc_type: Annotated[
        list[str] | None, typer.Option("--doc-type", help="Only these issued document types (repeatable)")
    ] = None,
    cases: Annotated[bool, typer.Option("--cases", help="Also write match cases to OUT/cases/")] = False,
    layouts: Annotated[
        str,
        typer.Option(
            "--layouts",
            help="fixed (the ten vendor layouts) | random (every document its own layout; seeds "
            "9000-9999 are held out) | both (half each)",
        ),
    ] = "fixed",
    receipts: Annotated[
        bool,
        typer.Option(
            "--receipts",
            help="Mix shop receipts (printed, scanned, photographed) into the randomized documents",
        ),
    ] = False,
    multipage: Annotated[
        float | None,
        typer.Option(
            "--multipage",
            help="Share of randomized invoices with orders long enough to run over several pages "
            "(default 0.1)",
        ),
    ] = None,
    from_einvoice: Annotated[
        Path | None,
        typer.Option(
            "--from-einvoice",
            help="Also print every UBL/CII/Factur-X e-invoice below this folder in randomized layouts "
            "(truth from the XML)",
        ),
    ] = None,
    einvoice_styles: Annotated[
        int, typer.Option("--einvoice-styles", help="Randomized layouts per e-invoice (with --from-einvoice)")
    ] = 3,
) -> None:
    """Generate invoices, credit notes, scans, e-invoices and other papers with ground truth.

    Progress goes to stderr; the summary (counts per type, layout, variant, split and mismatch)
    is printed as one JSON object on stdout and also written to OUT/manifest.json.
    """
    from sandbox.corpus import generate_corpus

    stderr.print(f"planning {n} documents (seed {seed}) into {out}")
    stats = generate_corpus(
        out,
        n,
        seed,
        mismatch_rate=mismatch_rate,
        master_seed=master_seed,
        split=split,
        scans=not no_scans,
        einvoices=not no_einvoices,
        doc_types=doc_type or None,
        cases=cases,
        layouts=layouts,
        receipts=receipts,
        multipage=multipage,
        from_einvoice=from_einvoice,
        einvoice_styles=einvoice_styles,
        progress=lambda docs, total: progress(docs, total=total, desc="corpus"),
    )
    stderr.print(f"wrote {stats.documents} documents in {stats.seconds:.1f}s")
    emit(stats.to_dict())


@sandbox_app.command("bundles")
def bundles(
    out: Annotated[Path, typer.Argument(help="Folder to write the bundles to")],
    n: Annotated[int, typer.Option("--n", help="Number of bundles (siblings come on top)")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Seed; 9000-9999 are held out")] = 1,
    no_scans: Annotated[bool, typer.Option("--no-scans", help="Born-digital only")] = False,
) -> None:
    """Multi-page invoices whose later pages look unlike the first (terms, appendix, slip...), for
    the splitter's training stacks; a share with a sibling bill of the same vendor."""
    from sandbox.corpus.bundles import write_bundles
    from sandbox.corpus.generator import CorpusError

    if n < 1:
        raise CorpusError(f"--n must be at least 1, got {n}")
    manifest = write_bundles(out, n, seed, scans=not no_scans, log=lambda m: None)
    stderr.print(f"wrote {manifest['documents']} documents to {out}")
    emit({k: v for k, v in manifest.items() if k != "files"})
