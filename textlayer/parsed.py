"""What a worker's parse hands back to the reader: kept apart from the tasks themselves, so the
reader's process, which only unpickles these, never imports the imaging and OCR libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from textlayer.model import Page
from textlayer.sniff import FileKind

OCRMode = Literal["auto", "always", "never"]
Source = str | bytes  # a file path, or the file's bytes


@dataclass(slots=True)
class ParseResult:
    kind: FileKind
    page_count: int
    pages: dict[int, Page] = field(default_factory=dict)  # born-digital (or blank) pages by number
    ocr_pages: list[int] = field(default_factory=list)  # 1-based numbers still to OCR
    notes: list[str] = field(default_factory=list)
    # Size of every page in its unit, so a page whose OCR fails still has its place.
    sizes: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def unit(self) -> Literal["pt", "px"]:
        return "pt" if self.kind == "pdf" else "px"
