"""Tesseract on one page image: its library, loaded once per process, or else its program.

Started as a program for every page, tesseract loads its three language models each time: on
the development scans that was about 0.5 s of CPU a page, as much as reading a clean page. A
worker process therefore keeps one engine (libtesseract through ``tesserocr``) per language set
and page segmentation mode, with the models the ``tesseract`` program reads, and hands it each
page as raw grey pixels. Where the library cannot start (not installed, no models found, the
languages missing), pages go to the ``tesseract`` program through pytesseract as before. Both
give tesseract's TSV, read by one parser into the same lines of words, boxes and confidences.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

from textlayer.config import TextLayerConfig
from textlayer.errors import OCRFailed
from textlayer.model import Line, Word

# The models directory the program names in ``tesseract --list-langs``' first line.
_LIST_LANGS_DIR = re.compile(r'"([^"]+)"')
# TSV columns: level page_num block_num par_num line_num word_num left top width height conf text
_TSV_COLUMNS = 12
_WORD_LEVEL = "5"


@dataclass(frozen=True, slots=True)
class TesseractReading:
    lines: list[Line]
    engine: str  # "tesseract VERSION" of the library or the program that read the page


def tsv_lines(tsv: str) -> list[Line]:
    """Lines of words from tesseract's TSV, in its block / paragraph / line order.

    A word's confidence is tesseract's whole-number percentage over 100, as pytesseract reports
    it; its size is its box height. Rows without text or with a negative confidence (block,
    paragraph and line rows, empty words) are left out.
    """
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for row in tsv.splitlines():
        cells = row.split("\t", _TSV_COLUMNS - 1)
        if len(cells) < _TSV_COLUMNS or cells[0] != _WORD_LEVEL:
            continue  # the header, a layout row, or a word row cut short (no text)
        text = cells[11].strip()
        conf = int(float(cells[10]))
        if not text or conf < 0:
            continue
        x, y, w, h = (float(int(cells[i])) for i in range(6, 10))
        key = (int(cells[2]), int(cells[3]), int(cells[4]))
        lines.setdefault(key, []).append(
            Word(text=text, bbox=(x, y, x + w, y + h), confidence=round(conf / 100.0, 4), size=h)
        )
    return [Line(words=sorted(words, key=lambda w: w.x0)) for words in lines.values()]


def tesseract_options(config: TextLayerConfig) -> str:
    """Command-line options of the OCR pass (page segmentation, line inversion)."""
    options = f"--psm {config.psm}"
    if not config.tesseract_invert:
        options += " -c tessedit_do_invert=0"
    return options


def _variables(config: TextLayerConfig) -> dict[str, str]:
    """The library's settings for what ``tesseract_options`` tells the program."""
    return {} if config.tesseract_invert else {"tessedit_do_invert": "0"}


@cache
def program_version() -> str:
    """The ``tesseract`` program's name and version as a page's lineage records it."""
    try:
        return f"tesseract {pytesseract.get_tesseract_version()}"
    except (pytesseract.TesseractNotFoundError, OSError):
        return "tesseract (not found)"


@cache
def tessdata_dir() -> str | None:
    """Where the ``tesseract`` program finds its models, so the library reads the same ones.

    ``TESSDATA_PREFIX`` when set (tesseract 4 and later take it as the models directory),
    otherwise the directory the program lists its languages from.
    """
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix and Path(prefix).is_dir():
        return str(Path(prefix)) + os.sep
    try:
        listed = subprocess.run(
            [pytesseract.pytesseract.tesseract_cmd, "--list-langs"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    first = (listed.stdout or listed.stderr).splitlines()[:1]
    found = _LIST_LANGS_DIR.search(first[0]) if first else None
    if found is None or not Path(found.group(1)).is_dir():
        return None
    return str(Path(found.group(1))) + os.sep


class _Library:
    """One libtesseract engine with its models loaded; reads one page at a time."""

    def __init__(self, api: Any, version: str) -> None:
        self.api = api
        self.version = version
        self.lock = threading.Lock()

    def read(self, gray: Image.Image, timeout: float) -> str:
        """Tesseract's TSV for a grey image (its resolution estimated, as the program does)."""
        if gray.mode != "L":  # one byte a pixel is what the engine is told it gets
            gray = gray.convert("L")
        pixels = gray.tobytes()
        with self.lock:
            try:
                self.api.SetImageBytes(pixels, gray.width, gray.height, 1, gray.width)
                if not self.api.Recognize(timeout=max(1, round(timeout * 1000))):
                    raise OCRFailed(f"tesseract could not read the page within {timeout:.0f}s")
                return str(self.api.GetTSVText(0))
            finally:
                self.api.Clear()


# Engines of this process by (languages, page segmentation mode, settings); None where the
# library could not start, so a worker tries once and then uses the program.
_libraries: dict[tuple[str, int, tuple[tuple[str, str], ...]], _Library | None] = {}
_libraries_lock = threading.Lock()


def library(config: TextLayerConfig) -> _Library | None:
    """This process's engine for the configured languages and mode, loaded on first use."""
    variables = _variables(config)
    key = (config.languages, config.psm, tuple(sorted(variables.items())))
    with _libraries_lock:
        if key not in _libraries:
            _libraries[key] = _load(config.languages, config.psm, variables)
        return _libraries[key]


def _load(languages: str, psm: int, variables: dict[str, str]) -> _Library | None:
    try:
        # Deferred: a worker that reads born-digital pages only never loads the engine.
        import tesserocr
    except ImportError:
        return None
    path = tessdata_dir()
    if path is None:
        return None
    try:
        api = tesserocr.PyTessBaseAPI(path=path, lang=languages, psm=psm, variables=variables)
    except (RuntimeError, ValueError):  # models missing for a language, or a mode it lacks
        return None
    version = str(tesserocr.tesseract_version()).split()[1]
    return _Library(api, f"tesseract {version}")


def read_page(gray: Image.Image, config: TextLayerConfig) -> TesseractReading:
    """Run tesseract once on an 8-bit grey page; lines in its reading order."""
    engine = library(config) if config.engines.tesseract_library else None
    if engine is not None:
        return TesseractReading(tsv_lines(engine.read(gray, config.ocr_timeout)), engine.version)
    return TesseractReading(tsv_lines(_program_tsv(gray, config)), program_version())


def _program_tsv(gray: Image.Image, config: TextLayerConfig) -> str:
    # PGM is written without compression; pytesseract would otherwise encode a PNG per page.
    gray.format = "PPM"
    try:
        return str(
            pytesseract.image_to_data(
                gray, lang=config.languages, config=tesseract_options(config), timeout=config.ocr_timeout
            )
        )
    except pytesseract.TesseractError as error:  # a RuntimeError too: caught before the timeout
        raise OCRFailed(f"tesseract failed: {error.message.strip()[:200]}") from error
    except RuntimeError as error:  # pytesseract's timeout
        raise OCRFailed(f"tesseract timed out after {config.ocr_timeout:.0f}s") from error
    except pytesseract.TesseractNotFoundError as error:
        raise OCRFailed("tesseract is not installed or not on PATH") from error
