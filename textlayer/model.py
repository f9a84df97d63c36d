"""The one typed text model every stage reads: Document -> Page -> Line -> Word.

Born-digital PDFs (pdfplumber / pypdfium2) and OCR (tesseract ``image_to_data`` or RapidOCR) all
produce this tree; each node has a bounding box and a confidence. Coordinates are in page units from
the top-left corner: PDF points for PDF pages, pixels for images (``Page.unit`` says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom


def union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass(slots=True)
class Word:
    text: str
    bbox: BBox
    confidence: float = 1.0
    # Font size in page units when the source knows it (born-digital); OCR gives box height.
    size: float | None = None
    bold: bool = False

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def top(self) -> float:
        return self.bbox[1]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def bottom(self) -> float:
        return self.bbox[3]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]


@dataclass(slots=True)
class Line:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> BBox:
        return union([w.bbox for w in self.words])

    @property
    def confidence(self) -> float:
        return min((w.confidence for w in self.words), default=0.0)


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line]
    unit: Literal["pt", "px"] = "pt"
    source: Literal["digital", "ocr"] = "digital"
    # Degrees the page image was turned before OCR (0, 90, 180, 270) and the residual skew.
    rotation: int = 0
    skew: float = 0.0
    # Lineage of an OCR page: the engine and version that read it ("tesseract 5.3.0",
    # "rapidocr 3.10.0") and why that one (the measured quality that chose it).
    ocr_engine: str = ""
    ocr_choice: str = ""
    # Lineage of a born-digital page: the backend that joined its characters into words.
    backend: str = ""

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        words = self.words
        return sum(w.confidence for w in words) / len(words) if words else 0.0


@dataclass(slots=True)
class Document:
    pages: list[Page]
    source: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\f".join(page.text for page in self.pages)

    def iter_words(self) -> Iterator[tuple[Page, Word]]:
        for page in self.pages:
            for word in page.words:
                yield page, word

    @property
    def is_scanned(self) -> bool:
        return any(page.source == "ocr" for page in self.pages)
