"""Limits and OCR settings for the text layer, frozen so a batch runs under one policy."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class OCREngineSettings:
    """Which OCR engine reads a page: tesseract first, RapidOCR where tesseract reads poorly."""

    # "auto" applies the rule below; "tesseract" or "rapidocr" reads every page with that one.
    engine: Literal["auto", "tesseract", "rapidocr"] = "auto"
    # A page goes to RapidOCR when tesseract's mean word confidence is below this ... Our own
    # scans (generated corpus, 300 dpi) read at 0.88-0.94; on the development receipts RapidOCR
    # found more of the true words than tesseract on every page under 0.87 (0.67-0.94 of them
    # against 0.32-0.87), and about as many above it.
    min_mean_confidence: float = 0.87
    # ... or when more than this share of its words are doubtful (confidence below the next):
    # at most 0.07 on our scans, 0.12-0.61 on the development receipts under 0.87.
    max_doubtful_share: float = 0.10
    doubtful_confidence: float = 0.60
    # A photo (a JPEG that records no scan resolution, as phones write them; see
    # ocr.image_kind) is read by RapidOCR without a tesseract reading first: on the development
    # receipts tesseract's reading of a photo went to RapidOCR anyway on 7 pages of 8, and cost
    # as much CPU as raw tesseract. Tesseract still reads a photo RapidOCR finds no words on.
    photos_to_rapidocr: bool = True
    # Tesseract through its library, its models loaded once per worker process (textlayer/
    # tesseract.py); False, or a library that cannot start, runs the tesseract program per
    # page, which loads the three language models again each time (about 0.5 s CPU a page).
    tesseract_library: bool = True
    # What runs RapidOCR's PP-OCR models (the same ONNX files of its wheel): OpenVINO's CPU
    # runtime, or onnxruntime. OpenVINO computes in bfloat16 where the CPU has it (this
    # machine's avx512_bf16; in float32 it took 60% more CPU): 12 receipts, each runtime in a
    # process of its own, took 24.6-24.9 s of CPU under OpenVINO at four text regions a run
    # against 32.3-35.2 s under onnxruntime at one a run, its best. The development receipts
    # read the same dates and vendors and one total fewer (0.94 against 0.96); word recall 0.858
    # against 0.863. Without the openvino package, onnxruntime runs them; each page's engine
    # names its runtime and precision.
    rapidocr_runtime: Literal["openvino", "onnxruntime"] = "openvino"
    # Kernels OpenVINO keeps compiled for the input shapes it has met (its default 5000 let a
    # worker's memory grow with every receipt): at 100 a worker stayed at 0.64 GB resident over
    # 30 receipts, read at the same CPU; at 0, 10% more CPU.
    rapidocr_openvino_cache: int = 100
    # Threads per RapidOCR session: the page pool runs one worker per core already.
    rapidocr_threads: int = 1
    # PP-OCR detection scales a page up until its shorter side is at least this (pixels) ...
    rapidocr_min_side: int = 736
    # ... and a photo down until its longer side is at most this: the development receipts
    # (440-1000 pixels wide) were scaled up 1.6x by the rule above; at 960 (PaddleOCR's default)
    # RapidOCR found as many of their true words (0.859 against 0.852) with a quarter less CPU,
    # and at 800 the first 16 read 0.833 of them against 0.839 with 16% less again (0.96 CPU
    # seconds a page against 1.14), the development receipts' dates and vendors better (1.0 and
    # 0.90 against 0.98 and 0.86, totals the same). At 704: 0.822 for 0.89 s.
    rapidocr_photo_max_side: int = 800
    # Recognition pads every text region of a batch to at least this width (pixels at 48 high):
    # PP-OCR's default of 320 padded short words (an amount, "RM") to 320; at 160 the
    # development receipts read as many words (0.852 against 0.845) with 26% less CPU.
    rapidocr_rec_width: int = 160
    # Text regions recognized per run. RapidOCR's 6 pads each region of a batch to the widest
    # one's width; one at a time pads none. Under onnxruntime with its buffer arena on (rapid.py),
    # one a run cost 8% less CPU on the 16 development receipts than 6 (recall 0.839 against
    # 0.836), 3 the same, 16 more. Under OpenVINO, 4 a run cost 30% less CPU than one (which
    # cost as much as onnxruntime), at the same recall; 2 and 8 cost more.
    rapidocr_rec_batch: int = 4


@dataclass(frozen=True, slots=True)
class ColumnSettings:
    """When and how a band of interleaved columns is read again (``TextLayerConfig.columns``)."""

    enabled: bool = True
    # Two lines share a row when the shorter one's height overlaps the other's by this share.
    shared_height: float = 0.6
    # A band ends at a run of paper rows this many typical word heights high, across the page.
    band_gap: float = 0.6
    # ... and is never taller than this share of the page (a page of one column is no band).
    max_band_share: float = 0.15
    # A row of the page with ink on at most this share of its width is paper between rows.
    stray_ink: float = 0.003
    # A band with no such paper near enough ends at the rows of least ink this many typical
    # word heights above and below the cut row.
    band_reach: float = 3.0
    # A column gap is a run of paper columns this many typical word heights wide, down the band.
    column_gap: float = 1.2
    # Where no column gap crosses a piece, it is cut across at runs of paper rows this high.
    row_gap: float = 0.25
    # Cuts deep enough for columns inside columns, and no deeper.
    max_depth: int = 6
    # A grey level (0-255) under which a pixel is ink.
    ink_level: int = 128
    # Paper around a piece read again, in typical word heights.
    margin: float = 0.5


@dataclass(frozen=True, slots=True)
class TextLayerConfig:
    # Born-digital words: pdfium (pdfium's characters joined into words in pdfplumber's way, with
    # pdfminer's boxes and type sizes; 6-8x less CPU) or pdfplumber. Extraction reads the same
    # fields from either on the real-world PDFs, the e-invoice renderings and generated layouts
    # (benchmarks/compare_digital_backends.py, and `ledgerbot eval` with LEDGERBOT_TEXT_BACKEND).
    digital_backend: Literal["pdfplumber", "pdfium"] = "pdfium"
    # Refuse documents longer than this before any page is parsed (E205).
    max_pages: int = 300
    # Render resolution for OCR of PDF pages without a picture to follow (vector or outlined
    # text). Measured on corpus pages: 200 and 300 dpi read the same (0.952 vs 0.953 word
    # similarity) at the same speed within noise; 300 keeps headroom for 6-7 pt print.
    ocr_dpi: int = 300
    # Image-only pages render at their scan's own resolution (up to ocr_dpi), but not below this:
    # rendering 200 dpi scans at 300 dpi read worse (0.80 vs 0.93) and ~3x slower.
    min_scan_dpi: int = 150
    languages: str = "eng+deu+fra"
    # psm 6 (one uniform block) keeps table rows whole and was both the fastest and the most
    # complete mode on invoice layouts; psm 3 dropped words from right-aligned columns.
    psm: int = 6
    # Tesseract's own retry of doubtful text lines as light-on-dark. Dark bands are inverted
    # before OCR (invert_dark_regions), but light print on a mid-grey sidebar is not: tesseract
    # 5.3 (the program) read it either way, tesseract 5.5 (the library, tesserocr's wheel)
    # only with the retry (a vendor block on the dev101 scans), at 5% more CPU.
    tesseract_invert: bool = True
    # Wall-clock budgets (seconds) after which a worker is killed and replaced (E207).
    parse_timeout: float = 120.0
    ocr_timeout: float = 180.0
    # Wall-clock budget for one whole document, all its pages together, from its first task on:
    # past it the document fails (E210) and the batch goes on (a dense 300-page scan would
    # otherwise hold a batch for half an hour).
    document_timeout: float = 120.0
    # Address-space limit per worker process (and the tesseract it starts), in MiB (E207).
    # OpenVINO reserves more address space than it uses: a worker that has read 20 receipts as
    # photos and 6 as pages with RapidOCR under it mapped 3.3-4.0 GB, 1.1-1.2 GB of it resident
    # (1.5 GB mapped, 0.7 GB resident under onnxruntime).
    memory_limit_mb: int = 6144
    workers: int = 0  # 0: one per available CPU core
    # A worker starts as a fork of the reading process, with no interpreter to boot and import
    # (about 0.1 CPU seconds a worker), where that is safe: on Linux, from a process running a
    # single thread, whose address space (which the fork inherits, inside memory_limit_mb) is at
    # most this share of the limit. Otherwise, and at 0, as a fresh `python -m textlayer.worker`.
    fork_below_limit_share: float = 0.1
    # A PDF page is born-digital when it has at least this many visible characters ...
    min_text_chars: int = 10
    # ... of which at most this share are unmapped glyphs (pdfminer's "(cid:NN)").
    max_cid_ratio: float = 0.3
    # A page mostly covered by images with only a little text (a scan with a stamp) is OCR'd.
    scan_image_coverage: float = 0.6
    scan_max_chars: int = 200
    # OSD (tesseract's orientation detection) costs about one OCR pass, so it runs only when the
    # first OCR pass is weak (mean word confidence below this).
    osd_below_confidence: float = 0.55
    # ... or when fewer than this share of its words are real words (see ocr.looks_misread).
    osd_below_word_share: float = 0.4
    # Largest bitmap rendered from one PDF page; the dpi drops to stay under it.
    max_render_pixels: int = 80_000_000
    # Residual skew below this (degrees) is left alone: rotating costs time and blurs glyphs.
    min_deskew_degrees: float = 0.3
    max_skew_degrees: float = 10.0
    # Share of lone dark pixels above which a page is median-filtered before OCR; clean scans
    # and renders sit below 0.0005, a 1% salt-and-pepper scan near 0.005.
    speckle_threshold: float = 0.001
    # Light-on-dark regions (header bands, sidebars) are inverted before OCR: a neighbourhood
    # darker on average than this grey level (0-255) is a dark region, not print on paper.
    invert_dark_regions: bool = True
    dark_region_level: int = 110
    # A band's blurred rim is the rows (columns) along it, outside it, mostly darker than this
    # grey level; the first row with paper between letters (print above the band) is not rim.
    band_rim_paper_level: int = 230
    # Table rules are erased before OCR: ink runs (darker than rule_ink_level) longer than
    # rule_min_length of the page's longer side; glyph strokes of body text are far shorter.
    remove_rules: bool = True
    rule_ink_level: int = 200
    rule_min_length: float = 0.03
    # Lone specks (one or two pixels darker than speck_ink_level) are erased before OCR: on the
    # dev scans word similarity to the born-digital twin went from 0.944 to 0.949.
    # Only at speck_min_dpi or more: a 7 pt full stop is one or two such pixels at 150 dpi.
    erase_specks: bool = True
    speck_ink_level: int = 160
    speck_min_dpi: float = 180.0
    # Two words tesseract read with a gap where the page prints an underscore ("R 2623" for
    # "R_2623") are one word with it (ocr.join_underscores).
    join_underscores: bool = True
    # Which OCR engine reads each page (see OCREngineSettings).
    engines: OCREngineSettings = field(default_factory=OCREngineSettings)
    # Rows of two columns tesseract read as one, read again column by column (see columns.py).
    columns: ColumnSettings = field(default_factory=ColumnSettings)

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else _default_workers()
