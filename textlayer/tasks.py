"""The two units of work a reader hands to its worker processes: parse a file, OCR one page.

Both run inside a guarded worker (see ``worker.py``); they may also run in-process in tests.
A parse returns the born-digital pages and the numbers of the pages that still need OCR, so the
reader can spread those pages over every worker.
"""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textlayer.config import TextLayerConfig
from textlayer.digital import empty_page, has_usable_text, page_from_pdfplumber
from textlayer.errors import (
    CorruptFile,
    EncryptedPDF,
    ImageTooLarge,
    ResourceLimit,
    TextLayerError,
    TooManyPages,
    UnsupportedFile,
)
from textlayer.model import Page
from textlayer.parsed import OCRMode, ParseResult, Source
from textlayer.sniff import FileKind, sniff

if TYPE_CHECKING:
    from PIL import Image

# pdfminer logs every recoverable oddity of a real-world PDF at WARNING; the text layer reports
# what matters through its own errors instead.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def load_bytes(source: Source, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except IsADirectoryError as error:
        raise UnsupportedFile("is a directory, not a file", source=name) from error
    except OSError as error:
        raise UnsupportedFile(f"cannot read the file: {error.strerror or error}", source=name) from error


def parse(source: Source, name: str, ocr: OCRMode, config: TextLayerConfig) -> ParseResult:
    data = load_bytes(source, name)
    kind = sniff(data[:1024], source=name)
    if kind == "pdf":
        return _parse_pdf(data, name, ocr, config)
    return _parse_image(data, kind, name, ocr, config)


# --- PDF -------------------------------------------------------------------------------------


def _open_pdfium(data: bytes, name: str, config: TextLayerConfig) -> object:
    """Open with pdfium first: it answers encryption and page count in C, before pdfminer."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        text = str(error).lower()
        if "password" in text:
            raise EncryptedPDF("the PDF is encrypted and needs a password to open", source=name) from error
        raise CorruptFile(f"the PDF is damaged or truncated ({error})", source=name) from error
    pages = len(document)
    if pages > config.max_pages:
        document.close()
        raise TooManyPages(
            f"the PDF has {pages} pages, more than the limit of {config.max_pages}",
            source=name,
            pages=pages,
            limit=config.max_pages,
        )
    if pages == 0:
        document.close()
        raise CorruptFile("the PDF has no pages", source=name)
    return document


def _parse_pdf(data: bytes, name: str, ocr: OCRMode, config: TextLayerConfig) -> ParseResult:
    pdfium_doc: Any = _open_pdfium(data, name, config)
    page_count = len(pdfium_doc)
    sizes = [pdfium_doc[i].get_size() for i in range(page_count)]
    result = ParseResult(kind="pdf", page_count=page_count)
    result.sizes = {i + 1: (float(w), float(h)) for i, (w, h) in enumerate(sizes)}
    if ocr == "always":
        pdfium_doc.close()
        result.ocr_pages = list(range(1, page_count + 1))
        return result
    if config.digital_backend == "pdfium":
        try:
            _read_pdfium_pages(pdfium_doc, result, ocr, config)
        finally:
            pdfium_doc.close()
        return result
    pdfium_doc.close()
    # Deferred: pdfplumber and pdfminer (a fifth of a second to import) load only in a worker
    # configured to read born-digital pages with them; pdfium reads them by default.
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFPasswordIncorrect, PDFEncryptionError) as error:
        raise EncryptedPDF("the PDF is encrypted and needs a password to open", source=name) from error
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as error:
        raise CorruptFile(f"the PDF is damaged ({type(error).__name__}: {error})", source=name) from error
    with pdf:
        try:
            plumber_pages = list(pdf.pages)
        except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError) as error:
            raise CorruptFile(
                f"the PDF page tree is damaged ({type(error).__name__}: {error})", source=name
            ) from error
        if len(plumber_pages) != page_count:
            result.notes.append(
                f"[{CorruptFile.code}] pdfminer found {len(plumber_pages)} pages, pdfium {page_count}"
            )
        for number in range(1, page_count + 1):
            plumber_page = plumber_pages[number - 1] if number <= len(plumber_pages) else None
            try:
                if plumber_page is not None and has_usable_text(plumber_page, config):
                    result.pages[number] = page_from_pdfplumber(plumber_page, number)
                elif ocr == "never":
                    width, height = sizes[number - 1]
                    result.pages[number] = empty_page(number, float(width), float(height))
                else:
                    result.ocr_pages.append(number)
            except Exception as error:
                # pdfplumber wraps what pdfminer raised; look at the root cause. The page is
                # still worth OCR: pdfium renders many pages pdfminer cannot interpret.
                root = root_cause(error)
                if isinstance(root, MemoryError):
                    raise
                code = ResourceLimit.code if isinstance(root, RecursionError) else CorruptFile.code
                what = "nests too deeply to interpret" if code == ResourceLimit.code else "is unreadable"
                fallback = "left empty" if ocr == "never" else "read by OCR instead"
                result.notes.append(
                    f"[{code}] page {number}: the text layer {what} ({type(root).__name__}); {fallback}"
                )
                if ocr == "never":
                    width, height = sizes[number - 1]
                    result.pages[number] = empty_page(number, float(width), float(height))
                else:
                    result.ocr_pages.append(number)
            finally:
                if plumber_page is not None:
                    plumber_page.close()
    return result


def _read_pdfium_pages(document: Any, result: ParseResult, ocr: OCRMode, config: TextLayerConfig) -> None:
    from textlayer.pdfium_words import page_from_pdfium

    for number in range(1, result.page_count + 1):
        page = document[number - 1]
        try:
            read = page_from_pdfium(page, number, config)
            # A page with nothing drawn on it (a separator page of a born-digital stack) has no
            # words to find: OCR would render and read white paper for over a second.
            blank = read is None and next(iter(page.get_objects(max_depth=1)), None) is None
        finally:
            page.close()
        if read is not None:
            result.pages[number] = read
        elif ocr == "never" or blank:
            width, height = result.sizes[number]
            result.pages[number] = empty_page(number, width, height)
        else:
            result.ocr_pages.append(number)


def root_cause(error: BaseException) -> BaseException:
    seen = 0
    while seen < 20:
        nxt = error.__cause__ or error.__context__
        if nxt is None:
            break
        error, seen = nxt, seen + 1
    return error


def _render_dpi(page: Any, config: TextLayerConfig) -> float:
    """Render a scanned page at the resolution of its scan, never above ``ocr_dpi``.

    Upsampling a 200 dpi scan to 300 dpi made tesseract both slower and less accurate on the
    sample corpus; a page that is not one big picture renders at ``ocr_dpi``.
    """
    import pypdfium2.raw as pdfium_c

    width_pt, height_pt = page.get_size()
    page_area = max(1.0, float(width_pt * height_pt))
    best = 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        area = max(0.0, (right - left) * (top - bottom))
        if area >= 0.5 * page_area:
            px_w, px_h = obj.get_px_size()
            best = max(best, 72.0 * ((px_w * px_h) / area) ** 0.5)
    if best <= 0:
        return float(config.ocr_dpi)
    return float(min(config.ocr_dpi, max(config.min_scan_dpi, best)))


def ocr_pdf_page(source: Source, name: str, number: int, config: TextLayerConfig) -> Page:
    import pypdfium2 as pdfium

    # Deferred: numpy and tesseract's wrapper load with a worker's first OCR task, so a worker
    # that parses born-digital PDFs only is ready sooner.
    from textlayer.ocr import ocr_image, scale_lines

    data = load_bytes(source, name)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise CorruptFile(f"the PDF cannot be rendered ({error})", source=name) from error
    try:
        page = document[number - 1]
        width_pt, height_pt = page.get_size()
        scale = _render_dpi(page, config) / 72.0
        # A poster-sized page at 300 dpi would be gigabytes: lower the dpi to stay in budget.
        pixels = width_pt * height_pt * scale * scale
        if pixels > config.max_render_pixels:
            scale *= (config.max_render_pixels / pixels) ** 0.5
        image = page.render(scale=scale, grayscale=True).to_pil()
        page.close()
    finally:
        document.close()
    result = ocr_image(image, config, dpi=72.0 * scale)
    return Page(
        number=number,
        width=round(result.width / scale, 2),
        height=round(result.height / scale, 2),
        lines=scale_lines(result.lines, 1.0 / scale),
        unit="pt",
        source="ocr",
        rotation=result.rotation,
        skew=result.skew,
        ocr_engine=result.engine,
        ocr_choice=result.choice,
    )


# --- images ----------------------------------------------------------------------------------


def _open_image(data: bytes, name: str) -> Image.Image:
    """Open under Pillow's decompression-bomb guard, with its warning made an error too."""
    # Imported here: Pillow takes a worker 8-15 ms to import, and born-digital PDFs never need it.
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLarge(
                f"the image is too large to decode safely ({error})",
                source=name,
                limit_pixels=Image.MAX_IMAGE_PIXELS,
            ) from error
        except Image.UnidentifiedImageError as error:
            raise CorruptFile("the image is damaged or truncated", source=name) from error
    return image


def _check_frame(image: Image.Image, name: str, frame: int) -> None:
    from PIL import Image  # loaded by _open_image already

    limit = Image.MAX_IMAGE_PIXELS
    if limit and image.width * image.height > limit:
        raise ImageTooLarge(
            f"page {frame} of the image is {image.width}x{image.height} pixels, over the limit of {limit}",
            source=name,
            limit_pixels=limit,
        )


def _parse_image(
    data: bytes, kind: FileKind, name: str, ocr: OCRMode, config: TextLayerConfig
) -> ParseResult:
    image = _open_image(data, name)
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > config.max_pages:
        raise TooManyPages(
            f"the image has {frames} pages, more than the limit of {config.max_pages}",
            source=name,
            pages=frames,
            limit=config.max_pages,
        )
    result = ParseResult(kind=kind, page_count=frames)
    for number in range(1, frames + 1):
        try:
            image.seek(number - 1)
        except EOFError as error:
            raise CorruptFile(f"the image ends before page {number}", source=name) from error
        _check_frame(image, name, number)
        result.sizes[number] = (float(image.width), float(image.height))
        if ocr == "never":
            result.pages[number] = empty_page(number, float(image.width), float(image.height), "px")
        else:
            result.ocr_pages.append(number)
    return result


def ocr_image_page(source: Source, name: str, number: int, config: TextLayerConfig) -> Page:
    from textlayer.ocr import image_kind, ocr_image  # deferred: see ocr_pdf_page

    data = load_bytes(source, name)
    image = _open_image(data, name)
    kind = image_kind(image)
    try:
        image.seek(number - 1)
        _check_frame(image, name, number)
        image.load()
    except (OSError, EOFError) as error:
        raise CorruptFile(f"the image is damaged or truncated ({error})", source=name) from error
    if number == 1:
        # Phone photos store their orientation in EXIF; apply it before looking for text.
        from PIL import ImageOps  # with the image: see _open_image

        image = ImageOps.exif_transpose(image) or image
    result = ocr_image(image, config, kind=kind)
    return Page(
        number=number,
        width=float(result.width),
        height=float(result.height),
        lines=result.lines,
        unit="px",
        source="ocr",
        rotation=result.rotation,
        skew=result.skew,
        ocr_engine=result.engine,
        ocr_choice=result.choice,
    )


def ocr_page(kind: FileKind, source: Source, name: str, number: int, config: TextLayerConfig) -> Page:
    if kind == "pdf":
        return ocr_pdf_page(source, name, number, config)
    return ocr_image_page(source, name, number, config)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


__all__ = ["OCRMode", "ParseResult", "Source", "TextLayerError", "ocr_page", "parse"]
