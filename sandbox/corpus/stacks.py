"""Stacks of corpus documents in one PDF, as a mailroom scanner or a supplier's bundle makes them.

``draw_stacks`` picks documents from a generated corpus (2-8 per stack by default, multi-page
ones whole, an optional blank separator page between two documents, born-digital and scans
mixed or not) and ``write_stack`` joins them into one PDF with the truth of where each lies.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

# A4 in points: the size of a blank separator page.
BLANK_PAGE = (595.0, 842.0)
STACKABLE_VARIANTS = ("digital", "scan_pdf", "scan_png")


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    doc_type: str
    variant: str
    layout: str
    split: str

    @property
    def scanned(self) -> bool:
        return self.variant.startswith("scan")


@dataclass
class StackTruth:
    """Where each document of a stack lies: pages 1-based and inclusive, in file order."""

    parts: list[tuple[int, int]] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    pages: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"parts": self.parts, "types": self.types, "sources": self.sources, "pages": self.pages}


def corpus_files(
    corpus: Path, *, split: str | None = None, variants: Sequence[str] = STACKABLE_VARIANTS
) -> list[CorpusFile]:
    """The page-based documents of a generated corpus (e-invoice XML cannot be stacked)."""
    files = []
    for truth_path in sorted(corpus.glob("*.json")):
        if truth_path.name == "manifest.json":
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        variant = str(truth.get("variant") or "digital")
        if variant not in variants or (split and truth.get("split") != split):
            continue
        suffix = ".png" if variant == "scan_png" else ".pdf"
        path = truth_path.with_suffix(suffix)
        if path.is_file():
            files.append(
                CorpusFile(
                    path, str(truth["doc_type"]), variant, str(truth.get("layout")), str(truth.get("split"))
                )
            )
    return files


def draw_stacks(
    files: Sequence[CorpusFile],
    n: int,
    *,
    seed: int = 0,
    min_docs: int = 2,
    max_docs: int = 8,
    blank_between: float = 0.25,
    scans: bool = True,
) -> list[tuple[list[CorpusFile], list[bool]]]:
    """``n`` stacks: the documents in order, and per document whether a blank page follows it."""
    rng = random.Random(seed)
    pool = [f for f in files if scans or not f.scanned]
    stacks = []
    for _ in range(n):
        chosen = [rng.choice(pool) for _ in range(rng.randint(min_docs, max_docs))]
        blanks = [k < len(chosen) - 1 and rng.random() < blank_between for k in range(len(chosen))]
        stacks.append((chosen, blanks))
    return stacks


def write_stack(documents: Sequence[CorpusFile], blank_after: Sequence[bool], out: Path) -> StackTruth:
    """One PDF holding the documents in order; returns where each lies."""
    stack = pdfium.PdfDocument.new()
    truth = StackTruth()
    for doc, blank in zip(documents, blank_after, strict=True):
        source = _as_pdf(doc.path)
        first = len(stack) + 1
        stack.import_pages(source)
        truth.parts.append((first, len(stack)))
        truth.types.append(doc.doc_type)
        truth.sources.append(doc.path.name)
        source.close()
        if blank:
            stack.new_page(*BLANK_PAGE)
    truth.pages = len(stack)
    stack.save(str(out))
    stack.close()
    return truth


def _as_pdf(path: Path) -> pdfium.PdfDocument:
    if path.suffix.lower() == ".pdf":
        return pdfium.PdfDocument(str(path))
    # A scanned image becomes an image-only PDF page at its scan resolution.
    buffer = io.BytesIO()
    with Image.open(path) as image:
        image.convert("RGB").save(buffer, format="PDF", resolution=200.0)
    return pdfium.PdfDocument(buffer.getvalue())
