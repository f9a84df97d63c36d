"""Text layer OCR: scans, rotation and skew, mixed PDFs, multi-page TIFF, and OCR failures.

Slow (tesseract), so the scans of a module are read in one batch over both workers.
"""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz
from textlayer_docs import (
    PAGE_H,
    Placed,
    image_bytes,
    invoice_lines,
    mixed_pdf,
    multipage_tiff,
    nested_xobject_pdf,
    pdf_bytes,
    scan,
)

from textlayer import Document, Page, TextLayerConfig, TextLayerError, TextLayerReader

pytestmark = pytest.mark.slow

ITEMS = invoice_lines(seed=3, rows=6)
TRUTH = [word for item in ITEMS for word in item.text.split()]

SCANS: dict[str, tuple[bytes, int, float]] = {}  # name -> file, expected rotation, expected skew


def _scans() -> dict[str, tuple[bytes, int, float]]:
    if not SCANS:
        SCANS.update(
            {
                "clean.png": (image_bytes(scan(ITEMS)), 0, 0.0),
                "tilted-left.png": (image_bytes(scan(ITEMS, skew=2.5)), 0, 2.5),
                "tilted-right.jpg": (
                    image_bytes(scan(ITEMS, skew=-1.5).convert("RGB"), "JPEG", quality=85),
                    0,
                    -1.5,
                ),
                # A scan fed in sideways (turned 90 degrees clockwise) is turned back by 270.
                "sideways.png": (image_bytes(scan(ITEMS, rotate=90)), 270, 0.0),
                "upside-down.png": (image_bytes(scan(ITEMS, rotate=180)), 180, 0.0),
                "sideways-tilted.png": (image_bytes(scan(ITEMS, rotate=270, skew=1.0)), 90, 1.0),
                "speckled.png": (image_bytes(scan(ITEMS, noise=0.02, blur=0.6, skew=0.8)), 0, 0.8),
            }
        )
    return SCANS


def similarity(page: Page, truth: list[str] = TRUTH) -> float:
    """Word-bag similarity, 0..1: reading order is checked separately."""
    return fuzz.ratio(" ".join(sorted(truth)), " ".join(sorted(w.text for w in page.words))) / 100


@pytest.fixture(scope="module")
def scanned(textlayer_reader: TextLayerReader) -> dict[str, Document | TextLayerError]:
    scans = _scans()
    results = textlayer_reader.read_many([(name, data) for name, (data, _, _) in scans.items()])
    return dict(zip(scans, results, strict=True))


@pytest.mark.parametrize("name", list(_scans()))
def test_scans_read_upright_and_straight(scanned: dict[str, Document | TextLayerError], name: str) -> None:
    _, rotation, skew = _scans()[name]
    doc = scanned[name]
    assert isinstance(doc, Document), doc
    assert doc.is_scanned and doc.errors == []
    [page] = doc.pages
    assert (page.unit, page.source) == ("px", "ocr")
    assert page.rotation == rotation
    assert page.skew == pytest.approx(skew, abs=0.3)
    assert similarity(page) >= 0.95, page.text
    # Reading order: the letterhead first, the bank line last, table rows whole.
    assert page.lines[0].text == "Acme Tools GmbH"
    assert page.lines[-1].text.replace(" ", "").startswith("IBANDE89")
    assert any(line.text.startswith("Description Qty Amount") for line in page.lines)
    assert all(0.0 <= w.confidence <= 1.0 for w in page.words)
    assert page.confidence > 0.8
    # The corrected frame is the page upright: portrait A4 at 300 dpi.
    assert (page.width, page.height) == pytest.approx((2481, 3508), abs=40)


def test_clean_scan_boxes_land_where_the_text_was_printed(
    scanned: dict[str, Document | TextLayerError],
) -> None:
    doc = scanned["clean.png"]
    assert isinstance(doc, Document)
    scale = 300 / 72
    words = {w.text: w for w in doc.pages[0].words}
    checked = 0
    for item in ITEMS:
        first = item.text.split()[0]
        # Words met once and without descenders: their box bottom is the baseline.
        if TRUTH.count(first) != 1 or set(first) & set("gjpqyQ,;()") or first not in words:
            continue
        word = words[first]
        assert word.x0 == pytest.approx(item.x * scale, abs=6), first
        assert word.bottom == pytest.approx((PAGE_H - item.baseline) * scale, abs=6), first
        checked += 1
    assert checked >= 5


def test_mixed_pdf_reads_each_page_its_own_way_in_points(textlayer_reader: TextLayerReader) -> None:
    other = invoice_lines(seed=9, rows=4)
    doc = textlayer_reader.read(mixed_pdf(ITEMS, other), name="mixed.pdf")
    first, second = doc.pages
    assert (first.source, second.source) == ("digital", "ocr")
    assert first.unit == second.unit == "pt"
    assert (second.width, second.height) == pytest.approx((first.width, first.height), abs=1)
    assert similarity(first) == 1.0
    assert similarity(second, [w for i in other for w in i.text.split()]) >= 0.95
    # OCR boxes were converted back to PDF points: the same place as the text on the scan.
    total = next(w for w in second.words if w.text == "Total")
    placed = next(i for i in other if i.text == "Total EUR")
    assert total.x0 == pytest.approx(placed.x, abs=2)
    assert total.bottom == pytest.approx(PAGE_H - placed.baseline, abs=3)


def test_forced_ocr_of_a_digital_page_matches_its_text_layer(textlayer_reader: TextLayerReader) -> None:
    data = pdf_bytes([ITEMS])
    digital = textlayer_reader.read(data)
    ocred = textlayer_reader.read(data, ocr="always")
    assert ocred.pages[0].source == "ocr" and ocred.pages[0].unit == "pt"
    assert [line.text for line in ocred.pages[0].lines] == [line.text for line in digital.pages[0].lines]
    for a, b in zip(digital.pages[0].words, ocred.pages[0].words, strict=True):
        # OCR boxes hug the ink; pdfplumber's end at the glyph advance (up to ~2 pt wider).
        assert b.x0 == pytest.approx(a.x0, abs=1.5)
        assert b.x1 == pytest.approx(a.x1, abs=3)
        # ... and pdfplumber's height is the font's full ascent-to-descent band around the ink.
        assert a.top - 1.5 <= b.top < b.bottom <= a.bottom + 1.5


def test_multipage_tiff_gives_pages_in_order(textlayer_reader: TextLayerReader) -> None:
    pages = [[Placed(f"Seite {n} von 3 Lieferschein", 60, 760, "Helvetica", 14)] for n in (1, 2, 3)]
    data = multipage_tiff([scan(p, dpi=200) for p in pages])
    doc = textlayer_reader.read(data, name="scan.tif")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert [p.text for p in doc.pages] == [f"Seite {n} von 3 Lieferschein" for n in (1, 2, 3)]


def test_ocr_never_leaves_scans_empty(textlayer_reader: TextLayerReader) -> None:
    doc = textlayer_reader.read(image_bytes(scan(ITEMS, dpi=100)), ocr="never")
    assert doc.pages[0].lines == [] and doc.pages[0].unit == "px"


def test_pdfminer_recursion_is_coded_and_the_page_still_read(textlayer_reader: TextLayerReader) -> None:
    # pdfium (the default backend) walks the nesting in C and reads the words directly ...
    doc = textlayer_reader.read(nested_xobject_pdf(), name="nested.pdf")
    assert doc.pages[0].source == "digital" and doc.pages[0].backend == "pdfium"
    assert doc.pages[0].text == "A page whose drawing nests too deep" and doc.errors == []
    # ... pdfplumber's parser recurses past Python's stack: coded, and the page read by OCR.
    with TextLayerReader(TextLayerConfig(digital_backend="pdfplumber", workers=1)) as reader:
        doc = reader.read(nested_xobject_pdf(), name="nested.pdf")
    assert doc.pages[0].source == "ocr"
    assert doc.pages[0].text == "A page whose drawing nests too deep"
    assert len(doc.errors) == 1 and doc.errors[0].startswith("[E207] page 1:")


def test_ocr_failure_is_e208() -> None:
    config = TextLayerConfig(languages="xxx", workers=1)
    with TextLayerReader(config) as reader, pytest.raises(TextLayerError) as caught:
        reader.read(image_bytes(scan(ITEMS, dpi=100)), name="scan.png")
    assert caught.value.code == "E208"
    assert caught.value.source == "scan.png"
