"""Bounds: a document that reads too long fails alone (E210) and the batch goes on."""

from __future__ import annotations

import time

from tests.extractors.textlayer_docs import invoice_lines, multipage_tiff, pdf_bytes, scan
from textlayer import TextLayerReader
from textlayer.config import TextLayerConfig
from textlayer.errors import TimeBudgetExceeded
from textlayer.model import Document


def test_a_document_over_its_time_budget_fails_alone_and_the_batch_goes_on() -> None:
    # Twenty scanned pages to OCR take far longer than the 1.5 s budget, on any machine (six,
    # read by tesseract's library in two warm workers, fitted in it on a fast one).
    slow = multipage_tiff([scan(invoice_lines(seed), dpi=300) for seed in range(20)])
    quick = pdf_bytes([invoice_lines(1)])
    config = TextLayerConfig(document_timeout=1.5, workers=2)
    started = time.monotonic()
    with TextLayerReader(config) as reader:
        results = list(reader.read_many([("slow.tiff", slow), ("quick.pdf", quick)]))
    elapsed = time.monotonic() - started
    assert isinstance(results[0], TimeBudgetExceeded) and results[0].code == "E210"
    assert results[0].source == "slow.tiff"
    assert isinstance(results[1], Document) and results[1].pages[0].lines
    # The budget cut the scan short: twenty pages of OCR would take far longer. Worker start-up
    # is in the figure, so the bound is loose.
    assert elapsed < 30, elapsed
