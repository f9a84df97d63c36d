"""The two born-digital backends of the text layer side by side on the PDFs under some folders.

For every page: whether pdfplumber and pdfium give the same words in the same order, the share of
pdfplumber's words pdfium also gives, and on pages with the same words how far their boxes, type
sizes and bold flags differ (the euro sign left out: pdfminer gives it no width). Pages are read
in this process, never by OCR. Prints one JSON object on stdout: the totals, and per page that
differs, its words missing on either side (the first few).

    python benchmarks/compare_digital_backends.py ../shared/data/realworld/pdf ../shared/data/einvoice
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    from textlayer import TextLayerReader
    from textlayer.config import TextLayerConfig
    from textlayer.model import Document

    files = sorted(str(p) for folder in args.folders for p in folder.rglob("*.pdf"))
    print(f"reading {len(files)} PDFs with both backends", file=sys.stderr)
    with TextLayerReader(TextLayerConfig(), in_process=True) as reader:
        plumber = list(reader.read_many(files, ocr="never"))
    with TextLayerReader(TextLayerConfig(digital_backend="pdfium"), in_process=True) as reader:
        pdfium = list(reader.read_many(files, ocr="never"))
    pages = same = words = common = bold = 0
    boxes: list[float] = []
    sizes: list[float] = []
    differing: list[dict[str, Any]] = []
    for name, ref, other in zip(files, plumber, pdfium, strict=True):
        if not (isinstance(ref, Document) and isinstance(other, Document)):
            differing.append(
                {"file": Path(name).name, "error": f"{type(ref).__name__}/{type(other).__name__}"}
            )
            continue
        for ref_page, page in zip(ref.pages, other.pages, strict=True):
            pages += 1
            a, b = [w.text for w in ref_page.words], [w.text for w in page.words]
            shared = Counter(a) & Counter(b)
            words += len(a)
            common += sum(shared.values())
            if a != b:
                differing.append(
                    {
                        "file": Path(name).name,
                        "page": ref_page.number,
                        "only_pdfplumber": list(Counter(a) - shared)[:6],
                        "only_pdfium": list(Counter(b) - shared)[:6],
                    }
                )
                continue
            same += 1
            for x, y in zip(ref_page.words, page.words, strict=True):
                if "€" in x.text:
                    continue
                boxes.append(max(abs(p - q) for p, q in zip(x.bbox, y.bbox, strict=True)))
                if x.size and y.size:
                    sizes.append(abs(x.size - y.size))
                bold += x.bold == y.bold
    boxes.sort()
    print(
        json.dumps(
            {
                "files": len(files),
                "pages": pages,
                "pages_same_words": same,
                "words_in_common": round(common / max(words, 1), 4),
                "boxes_compared": len(boxes),
                "boxes_over_1pt": sum(1 for d in boxes if d > 1.0),
                "box_difference_p50_pt": round(statistics.median(boxes), 3) if boxes else None,
                "box_difference_p95_pt": round(boxes[int(0.95 * len(boxes))], 3) if boxes else None,
                "size_difference_max_pt": round(max(sizes), 2) if sizes else None,
                "bold_agreement": round(bold / max(len(boxes), 1), 4),
                "differing_pages": differing,
            },
            ensure_ascii=True,
        )
    )


if __name__ == "__main__":
    main()
