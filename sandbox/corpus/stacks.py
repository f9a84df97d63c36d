"""Stacks of corpus documents in one PDF, as a mailroom scanner or a supplier's bundle makes them.

``draw_stacks`` picks documents from a generated corpus (2-8 per stack by default, multi-page
ones whole and in a share of the stacks at least one of them, an optional blank separator page
between two documents, born-digital, scans and photographed receipts mixed or not) and
``write_stack`` joins them into one PDF with the truth of where each lies.
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
STACKABLE_VARIANTS = ("digital", "scan_pdf", "scan_png", "photo")
_SUFFIXES = {"scan_png": ".png", "photo": ".jpg"}


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    doc_type: str
    variant: str
    layout: str
    split: str
    pages: int = 1

    @property
    def scanned(self) -> bool:
        """Read through OCR: a scan or a photograph."""
        return self.variant.startswith("scan") or self.variant == "photo"


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
        path = truth_path.with_suffix(_SUFFIXES.get(variant, ".pdf"))
        if path.is_file():
            files.append(
                CorpusFile(
                    path,
                    str(truth["doc_type"]),
                    variant,
                    str(truth.get("layout")),
                    str(truth.get("split")),
                    page_count(path),
                )
            )
    return files


def page_count(path: Path) -> int:
    if path.suffix.lower() != ".pdf":
        return 1
    document = pdfium.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def draw_stacks(
    files: Sequence[CorpusFile],
    n: int,
    *,
    seed: int = 0,
    min_docs: int = 2,
    max_docs: int = 8,
    blank_between: float = 0.25,
    scans: bool = True,
    multipage: float = 0.4,
    distinct: bool = False,
    by_variant: bool = False,
) -> list[tuple[list[CorpusFile], list[bool]]]:
    """``n`` stacks: the documents in order, and per document whether a blank page follows it.

    A share ``multipage`` of the stacks holds at least one multi-page document (when the files
    have any), whole and at a random place. For a small set of real documents: ``distinct``
    draws no file twice into one stack (a repeat would be the same paper twice), ``by_variant``
    draws each document's variant first, so a few PDFs among many photographed receipts still
    make up a fair part of the stacks.
    """
    rng = random.Random(seed)
    pool = [f for f in files if scans or not f.scanned]
    long = [f for f in pool if f.pages > 1]
    variants = sorted({f.variant for f in pool})

    def pick(chosen: list[CorpusFile]) -> CorpusFile:
        if not (distinct or by_variant):
            return rng.choice(pool)
        candidates = pool
        if by_variant:
            variant = rng.choice(variants)
            candidates = [f for f in pool if f.variant == variant]
        if distinct:
            candidates = [f for f in candidates if f not in chosen] or [f for f in pool if f not in chosen]
        return rng.choice(candidates)

    stacks = []
    for _ in range(n):
        count = rng.randint(min_docs, max_docs)
        if distinct:
            count = min(count, len(pool))
        chosen: list[CorpusFile] = []
        for _ in range(count):
            chosen.append(pick(chosen))
        if long and not any(f.pages > 1 for f in chosen) and rng.random() < multipage:
            extra = [f for f in long if f not in chosen] if distinct else long
            if extra:
                chosen[rng.randrange(len(chosen))] = rng.choice(extra)
        blanks = [k < len(chosen) - 1 and rng.random() < blank_between for k in range(len(chosen))]
        stacks.append((chosen, blanks))
    return stacks


def file_pdf(path: Path) -> bytes:
    """A stackable file as the PDF pages it becomes in a stack (an image: one page at its resolution)."""
    if path.suffix.lower() == ".pdf":
        return path.read_bytes()
    buffer = io.BytesIO()
    _as_pdf(path).save(buffer)
    return buffer.getvalue()


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
