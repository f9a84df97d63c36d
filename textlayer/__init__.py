"""Text layer: born-digital words (pdfplumber, pypdfium2) and OCR (tesseract, RapidOCR) in one model."""

from textlayer.config import OCREngineSettings, TextLayerConfig
from textlayer.errors import (
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
from textlayer.model import BBox, Document, Line, Page, Word
from textlayer.reader import TextLayerReader, read_document

# What the text layer reads changes with this version (OCR pre-processing, backends): a cache
# of text layers keys its entries with it, so an older reading is never served as a current one.
# 2: light-on-dark bands thresholded and table rules erased before OCR; 3: broken rules bridged;
# 4: bands found on an eighth-size copy; 5: a rule needs paper on both sides and solid ink;
# 6: lone one- and two-pixel specks erased; 7: tesseract's light-on-dark line retry off;
# 8: a band's blurred rim erased with the band; 9: pages tesseract reads poorly are read by
# RapidOCR (OCREngineSettings), and each OCR page records its engine; 10: an amount cut at its
# decimal separator ("18. 40") is one word again, and round letters in its cents are zeros;
# 11: born-digital pages read by pdfium by default (sizes from the text matrix, sideways words
# joined along their direction, letter-spaced print joined), each page naming its backend;
# 12: photos (JPEG without a scan resolution) read by RapidOCR without tesseract first, photo
# detection capped at 960 pixels, recognition padded to 160 pixels instead of 320; 13: tesseract
# read through its library (5.5, loaded once per worker) with its light-on-dark line retry on,
# RapidOCR recognizing one text region per run; 14: a PDF page with nothing drawn on it is an
# empty page, not OCR'd; 18: RapidOCR's models run by OpenVINO where it is installed, four
# text regions a recognition run; 19: a photo's detection input at most 800 pixels on its longer
# side (was 960); 20: rows of two columns tesseract read as one (two of its lines sharing most of
# their height) read again column by column.
TEXT_LAYER_VERSION = "20"

__all__ = [
    "TEXT_LAYER_VERSION",
    "BBox",
    "CorruptFile",
    "CorruptPDF",
    "Document",
    "EmptyFile",
    "EncryptedPDF",
    "ImageTooLarge",
    "Line",
    "OCREngineSettings",
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
