"""Randomized documents of the corpus: every one with its own content and its own layout.

A document is a function of ``(seed, index)`` alone: its content, its style and its scan
noise each come from their own RNG seeded by that pair, so any document can be rebuilt
without the others and a corpus is reproducible. Seeds split the data: documents of a seed in
``HELDOUT_SEEDS`` are ``heldout`` (they may also print label words training never shows,
see ``vocabulary``); every other seed is ``dev``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.corpus import freeform, marks
from sandbox.corpus import scans as scanning
from sandbox.corpus.content import ContentOptions, draw_invoice

HELDOUT_SEEDS = range(9000, 10000)
LAYOUT = "random"
# Variant shares of randomized invoices and credit notes when scans are on.
_VARIANTS = (("digital", 0.7), ("scan_pdf", 0.12), ("scan_png", 0.18))


def split_of(seed: int) -> str:
    return "heldout" if seed in HELDOUT_SEEDS else "dev"


@dataclass
class RandomDoc:
    """One randomized file to write: which document of the seed, and in which variant."""

    stem: str
    index: int
    kind: str  # invoice (invoices and credit notes) | receipt
    variant: str


def plan_random(seed: int, n: int, first: int, *, scans: bool, receipts: bool) -> list[RandomDoc]:
    """``n`` documents with stems from ``doc-{first:05d}``; kinds and variants drawn from ``seed``."""
    rng = random.Random(f"random-plan:{seed}")
    docs = []
    for index in range(n):
        stem = f"doc-{first + index:05d}"
        if receipts:
            from sandbox.corpus.receipts import RECEIPT_RATE, receipt_variant

            if rng.random() < RECEIPT_RATE:
                docs.append(RandomDoc(stem, index, "receipt", receipt_variant(rng, scans=scans)))
                continue
        variant = "digital"
        if scans:
            roll, acc = rng.random(), 0.0
            for name, share in _VARIANTS:
                acc += share
                if roll < acc:
                    variant = name
                    break
        docs.append(RandomDoc(stem, index, "invoice", variant))
    return docs


def scan_document(
    pdf: bytes, rng: random.Random, variant: str, language: str, when: Any
) -> tuple[bytes, str, dict[str, Any]]:
    """Stamps, pen marks and scanner wear on every page; the variant may become scan_pdf."""
    pages = scanning.rasterise(pdf)
    if variant == "scan_png" and len(pages) > 1:
        variant = "scan_pdf"  # a PNG holds one page
    angles = []
    out = []
    for page in pages:
        page = marks.mark_page(page, rng, language, when)
        angle = rng.uniform(-2.0, 2.0)
        angles.append(round(angle, 3))
        out.append(scanning.degrade(page, rng, angle=angle))
    data = scanning.encode_png(out[0]) if variant == "scan_png" else scanning.encode_pdf(out)
    return data, variant, {"dpi": scanning.DPI, "angles": angles}


def make(
    seed: int, doc: RandomDoc, *, options: ContentOptions = ContentOptions()
) -> tuple[bytes, dict[str, Any]]:
    """The file bytes and the truth of one randomized document."""
    if doc.kind == "receipt":
        from sandbox.corpus.receipts import make_receipt

        return make_receipt(seed, doc)
    return make_invoice(seed, doc, options=options)


def make_invoice(
    seed: int, doc: RandomDoc, *, options: ContentOptions = ContentOptions()
) -> tuple[bytes, dict[str, Any]]:
    """The file bytes and the truth of one randomized invoice or credit note."""
    heldout = seed in HELDOUT_SEEDS
    invoice = draw_invoice(random.Random(f"content:{seed}:{doc.index}"), options)
    style = freeform.draw_style(random.Random(f"style:{seed}:{doc.index}"), invoice, heldout=heldout)
    pdf, annotations, shown = freeform.render(invoice, style, random.Random(f"render:{seed}:{doc.index}"))
    truth: dict[str, Any] = {"doc_type": invoice.doc_type, **freeform.truth(invoice, style, shown)}
    variant = doc.variant
    scan: dict[str, Any] | None = None
    data = pdf
    if variant != "digital":
        data, variant, scan = scan_document(
            pdf, random.Random(f"scan:{seed}:{doc.index}"), variant, style.language, invoice.issued
        )
        doc.variant = variant
    truth.update(
        {
            "layout": LAYOUT,
            "split": split_of(seed),
            "variant": variant,
            "language": style.language,
            "vendor_id": None,
            "sequence": doc.index + 1,
            "source_stem": None,
            "mismatches": [],
            "style": style.summary(),
            "annotations": [a.to_json() for a in annotations],
        }
    )
    if scan is not None:
        truth["scan"] = scan
    return data, truth
