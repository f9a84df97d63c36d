"""Tesseract through its library: one engine per process, and the lines and words the program gives."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from PIL import Image
from rapidfuzz import fuzz
from textlayer_docs import image_bytes, invoice_lines, scan

from textlayer import OCRFailed, TextLayerConfig, TextLayerReader, tesseract
from textlayer.model import Line
from textlayer.ocr import ocr_image, to_gray

pytestmark = pytest.mark.slow

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
# Tesseract's TSV for a page of two lines: the page, block, paragraph and line rows carry no
# text and a confidence of -1; the second line's words come right to left; one word row is
# empty and the last is cut short, as tesseract writes a word it read as nothing.
TSV_ROWS = [
    "1\t1\t0\t0\t0\t0\t0\t0\t1200\t900\t-1\t",
    "2\t1\t1\t0\t0\t0\t40\t30\t700\t90\t-1\t",
    "3\t1\t1\t1\t0\t0\t40\t30\t700\t90\t-1\t",
    "4\t1\t1\t1\t1\t0\t40\t30\t500\t30\t-1\t",
    "5\t1\t1\t1\t1\t1\t40\t30\t180\t30\t96.358185\tInvoice",
    "5\t1\t1\t1\t1\t2\t240\t32\t120\t28\t91.000000\tNo.",
    "5\t1\t1\t1\t1\t3\t380\t31\t160\t29\t88.9\t",
    "4\t1\t1\t1\t2\t0\t40\t80\t700\t40\t-1\t",
    "5\t1\t1\t1\t2\t1\t600\t80\t140\t40\t45.5\t18.40",
    "5\t1\t1\t1\t2\t2\t40\t82\t120\t36\t99.99\tTotal",
    "5\t1\t1\t1\t2\t3\t300\t82\t20\t36\t12.0",
]


def _shape(lines: list[Line]) -> list[list[tuple[object, ...]]]:
    return [[(w.text, w.bbox, w.confidence, w.size) for w in line.words] for line in lines]


@pytest.mark.parametrize("header", [True, False], ids=["program", "library"])
def test_tsv_rows_become_lines_of_words_as_pytesseract_gave_them(header: bool) -> None:
    # The program's TSV starts with a header row, the library's does not; confidences are
    # tesseract's whole percentages (pytesseract's int), over 100.
    tsv = "\n".join(([HEADER] if header else []) + TSV_ROWS) + "\n"
    assert _shape(tesseract.tsv_lines(tsv)) == [
        [
            ("Invoice", (40.0, 30.0, 220.0, 60.0), 0.96, 30.0),
            ("No.", (240.0, 32.0, 360.0, 60.0), 0.91, 28.0),
        ],
        [
            ("Total", (40.0, 82.0, 160.0, 118.0), 0.99, 36.0),
            ("18.40", (600.0, 80.0, 740.0, 120.0), 0.45, 40.0),
        ],
    ]


def _clean_scan(seed: int) -> Image.Image:
    return to_gray(scan(invoice_lines(seed=seed, rows=5)))


def test_a_process_loads_one_engine_and_reads_every_page_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    config = TextLayerConfig()
    monkeypatch.setattr(tesseract, "_libraries", {})
    loads: list[tuple[object, ...]] = []
    load = tesseract._load

    def counted(*args: object) -> object:
        loads.append(args)
        return load(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tesseract, "_load", counted)
    engines: list[int] = []
    read = tesseract._Library.read

    def seen(self: tesseract._Library, gray: Image.Image, timeout: float) -> str:
        engines.append(id(self.api))
        return read(self, gray, timeout)

    monkeypatch.setattr(tesseract._Library, "read", seen)
    first, second = _clean_scan(1), _clean_scan(2)
    pages = [ocr_image(image, config, dpi=300) for image in (first, second, first)]
    assert len(loads) == 1
    assert len(engines) == 3 and len(set(engines)) == 1
    engine = tesseract.library(config)
    assert engine is not None and all(page.engine == engine.version for page in pages)
    # Nothing of one page stays in the engine for the next: the first page reads the same again.
    assert _shape(pages[2].lines) == _shape(pages[0].lines)
    assert _shape(pages[1].lines) != _shape(pages[0].lines)


def test_library_and_program_give_the_same_lines_words_and_confidences() -> None:
    config = TextLayerConfig()
    program = dataclasses.replace(
        config, engines=dataclasses.replace(config.engines, tesseract_library=False)
    )
    gray = _clean_scan(3)
    by_library = tesseract.read_page(gray, config)
    by_program = tesseract.read_page(gray.copy(), program)
    engine = tesseract.library(config)
    assert engine is not None and by_library.engine == engine.version
    assert by_program.engine == tesseract.program_version()
    assert [line.text for line in by_library.lines] == [line.text for line in by_program.lines]
    for reading in (by_library, by_program):
        words = [w for line in reading.lines for w in line.words]
        assert len(words) > 40
        for word in words:
            assert 0.0 <= word.confidence <= 1.0 and round(word.confidence * 100) == word.confidence * 100
            assert word.size == word.bbox[3] - word.bbox[1] and all(v == int(v) for v in word.bbox)
        for line in reading.lines:
            assert [w.x0 for w in line.words] == sorted(w.x0 for w in line.words)
    library_conf = [w.confidence for line in by_library.lines for w in line.words]
    program_conf = [w.confidence for line in by_program.lines for w in line.words]
    assert abs(sum(library_conf) / len(library_conf) - sum(program_conf) / len(program_conf)) < 0.03


def test_without_the_library_the_program_reads_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract, "_libraries", {})
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # the wheel is not installed
    config = TextLayerConfig()
    page = ocr_image(_clean_scan(4), config, dpi=300)
    assert tesseract.library(config) is None
    assert page.engine == tesseract.program_version()
    truth = [w for item in invoice_lines(seed=4, rows=5) for w in item.text.split()]
    words = [w.text for line in page.lines for w in line.words]
    assert fuzz.ratio(" ".join(sorted(truth)), " ".join(sorted(words))) > 90


def test_a_worker_reads_scans_with_the_library() -> None:
    with TextLayerReader(TextLayerConfig(workers=1)) as reader:
        docs = reader.read_many([(f"scan{i}.png", image_bytes(scan(invoice_lines(seed=i)))) for i in (5, 6)])
    engine = tesseract.library(TextLayerConfig())
    assert engine is not None
    for doc in docs:
        assert not isinstance(doc, Exception)
        assert doc.pages[0].ocr_engine == engine.version and len(doc.pages[0].words) > 40


def test_a_page_over_its_time_budget_is_e208_and_the_engine_reads_the_next() -> None:
    gray = _clean_scan(7)
    with pytest.raises(OCRFailed) as caught:
        tesseract.read_page(gray, TextLayerConfig(ocr_timeout=0.001))
    assert caught.value.code == "E208"
    assert len(tesseract.read_page(gray, TextLayerConfig()).lines) > 5


def test_a_page_in_another_mode_reads_as_its_grey_copy() -> None:
    gray = _clean_scan(8)
    config = TextLayerConfig()
    assert _shape(tesseract.read_page(gray.convert("RGB"), config).lines) == _shape(
        tesseract.read_page(gray, config).lines
    )
