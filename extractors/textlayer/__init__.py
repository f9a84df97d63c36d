"""Text layer: born-digital words (pdfplumber, pypdfium2) and OCR (tesseract) in one model."""

from extractors.textlayer.config import TextLayerConfig
from extractors.textlayer.errors import (
    CorruptFile,
    CorruptPDF,
    EmptyFile,
    EncryptedPDF,
    ImageTooLarge,
    OCRFailed,
    ResourceLimit,
    TextLayerError,
    TooManyPages,
    UnsupportedFile,
)
from extractors.textlayer.model import BBox, Document, Line, Page, Word
from extractors.textlayer.reader import TextLayerReader, read_document

__all__ = [
    "BBox",
    "CorruptFile",
    "CorruptPDF",
    "Document",
    "EmptyFile",
    "EncryptedPDF",
    "ImageTooLarge",
    "Line",
    "OCRFailed",
    "Page",
    "ResourceLimit",
    "TextLayerConfig",
    "TextLayerError",
    "TextLayerReader",
    "TooManyPages",
    "UnsupportedFile",
    "Word",
    "read_document",
]
