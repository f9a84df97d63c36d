"""Measures the generic extractor on labelled documents: accuracy and calibration error per field.

    python -m extractors.generic.report [--models DIR] [--corpus DIR --split heldout]
        [--truth-folder DIR] [--realworld DIR --part dev|val] [--cache DIR]

One JSON object on stdout: per source, the documents, and per field the share right and the
expected calibration error (ECE) of the confidences reported. SROIE receipts are read from their
ground-truth OCR lines, so the figures measure field choice apart from OCR. Progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from extractors.evaluation import same_value
from extractors.generic.datasets import (
    LabelledDocument,
    labelled_folder,
    realworld_pdfs,
    sroie_photos,
    sroie_receipts,
)
from extractors.generic.extractor import GenericExtractor
from extractors.generic.learned import expected_calibration_error
from ledgerbot.core.domain import DocType


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def measure(extractor: GenericExtractor, documents: Sequence[LabelledDocument]) -> dict[str, Any]:
    """Per field: documents, share right, ECE and mean confidence of what was reported."""
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    obs: dict[str, list[tuple[float, bool]]] = {}
    for labelled in documents:
        try:
            doc_type: DocType | None = DocType(labelled.doc_type)
        except ValueError:
            doc_type = None
        result = extractor.extract(labelled.document, doc_type)
        for name in sorted(labelled.known):
            got = _text(getattr(result.fields, name, None))
            ok = same_value(name, labelled.fields.get(name), got)
            seen[name] = seen.get(name, 0) + 1
            right[name] = right.get(name, 0) + ok
            if got is not None:
                obs.setdefault(name, []).append((result.field_confidence.get(name, 0.0), ok))
    fields = {
        name: {
            "n": seen[name],
            "accuracy": round(right[name] / seen[name], 3),
            "ece": expected_calibration_error(obs.get(name, [])),
            "reported": len(obs.get(name, [])),
        }
        for name in sorted(seen)
    }
    total = sum(seen.values())
    return {
        "documents": len(documents),
        "header_accuracy": round(sum(right.values()) / total, 3) if total else None,
        "ece_all": expected_calibration_error([o for v in obs.values() for o in v]),
        "fields": fields,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="models folder (default: hand-set weights)")
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="generated corpus")
    parser.add_argument("--split", default="heldout", help="split of --corpus to measure")
    parser.add_argument("--variant", action="append", help="only these variants of --corpus")
    parser.add_argument("--truth-folder", type=Path, action="append", default=[], help="e-invoice truths")
    parser.add_argument("--realworld", type=Path, help="shared/data/realworld")
    parser.add_argument("--part", default="dev", choices=("dev", "val"))
    parser.add_argument("--cache", type=Path, help="text-layer cache folder")
    parser.add_argument("--sroie-ocr", action="store_true", help="also read the receipt photos by OCR")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    extractor = GenericExtractor.load(args.models)
    out: dict[str, Any] = {"extractor": extractor.lineage}
    variants = tuple(args.variant) if args.variant else ("digital", "scan_png", "scan_pdf")
    for corpus in args.corpus:
        for variant in variants:
            docs = labelled_folder(corpus, split=args.split, variants=(variant,), cache=args.cache, log=log)
            if docs:
                out[f"{corpus.name}:{args.split}:{variant}"] = measure(extractor, docs)
    for folder in args.truth_folder:
        out[folder.name] = measure(extractor, labelled_folder(folder, split="", cache=args.cache, log=log))
    if args.realworld:
        pdfs = realworld_pdfs(args.realworld / "pdf", args.part, cache=args.cache, log=log)
        out[f"realworld-pdf:{args.part}"] = measure(extractor, pdfs)
        receipts = list(sroie_receipts(args.realworld / "sroie", args.part))
        out[f"sroie-gt-ocr:{args.part}"] = measure(extractor, receipts)
        if args.sroie_ocr:
            photos = sroie_photos(args.realworld / "sroie", args.part, cache=args.cache, log=log)
            out[f"sroie-our-ocr:{args.part}"] = measure(extractor, photos)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
