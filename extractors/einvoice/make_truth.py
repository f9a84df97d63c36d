"""Build a labelled corpus from e-invoice PDFs: each PDF copied to OUT with ``<stem>.json`` truth beside it.

The truth comes from the PDF's own embedded XML, so ``ledgerbot eval --no-embedded OUT`` measures
how well the visible page is read. Usage (no ledgerbot CLI involved)::

    python -m extractors.einvoice.make_truth SOURCE_FOLDER OUT_FOLDER

The folder layout below SOURCE is kept, so equal stems in different folders do not collide. A
PDF whose embedded XML cannot be read is skipped and named on stderr (with its error code); one
JSON summary goes to stdout. SOURCE is only read (it may be the read-only shared corpus).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from extractors.einvoice.errors import EInvoiceError
from extractors.einvoice.truth import truth_from_einvoice


def make_truth(source: Path, out: Path) -> dict[str, Any]:
    """Write truth files for every PDF below ``source`` into ``out``; returns a summary."""
    if out.resolve().is_relative_to(source.resolve()):
        # The source corpus is never written to, and copies inside it would be re-read next run.
        raise ValueError("OUT must not be SOURCE or a folder inside it")
    pdfs = sorted(p for p in source.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
    written: list[str] = []
    skipped: dict[str, str] = {}
    for index, pdf in enumerate(pdfs, 1):
        relative = pdf.relative_to(source)
        print(f"[{index}/{len(pdfs)}] {relative}", file=sys.stderr)
        try:
            truth = truth_from_einvoice(pdf)
        except EInvoiceError as exc:
            skipped[str(relative)] = exc.code
            print(f"  skipped: {exc}", file=sys.stderr)
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, target)
        target.with_suffix(".json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(str(relative.with_suffix(".json")))
    return {"source": str(source), "out": str(out), "written": written, "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="folder searched recursively for e-invoice PDFs")
    parser.add_argument("out", type=Path, help="output folder for the PDFs and their <stem>.json truth")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        parser.error(f"{args.source} is not a folder")
    try:
        summary = make_truth(args.source, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
