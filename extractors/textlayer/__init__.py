"""Text layer: born-digital words (pdfplumber, pypdfium2) and OCR (tesseract) in one model."""
