"""Page images of original documents, rendered server-side once and cached on disk.

PDF pages are rendered with pypdfium2, images are re-encoded with Pillow; the page sizes (in
the units field boxes use: PDF points, or pixels for images) are cached beside them so the
document page can place boxes without opening the file again.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store import FileStore
from ledgerbot.splitting import page_count as count_pages

IMAGE_MIMES = ("image/png", "image/jpeg", "image/tiff")
MAX_PAGES = 50
# Thumbnails (the split page): pixels across, and how many of a file's pages one request renders
# while the file is open (the page shows them side by side, so the next ones are asked for next).
THUMBNAIL_WIDTH = 180
THUMBNAIL_BATCH = 12
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class NotRenderable(LedgerbotError):
    code = "E730"


@dataclass(frozen=True)
class PageSize:
    width: float
    height: float
    # Degrees the text layer straightened a scanned page by before reading it (counter-clockwise,
    # as the scan is tilted); its boxes are in the straightened frame. 0 for born-digital pages.
    skew: float = 0.0


# Resolution the tilt of a scanned PDF page is measured at: rows of 8 pt print are still rows.
SKEW_DPI = 100.0
# Longest side an image is measured at; the tilt does not depend on the resolution.
SKEW_MAX_SIDE = 1800


def scan_skew(image: Image.Image) -> float:
    """The tilt the text layer corrects on this scanned page, measured the way it measures it."""
    from textlayer.config import TextLayerConfig
    from textlayer.ocr import analyse, to_gray

    config = TextLayerConfig()
    gray = to_gray(image)
    if max(gray.size) > SKEW_MAX_SIDE:
        gray.thumbnail((SKEW_MAX_SIDE, SKEW_MAX_SIDE))
    skew = analyse(gray, config).skew
    return skew if abs(skew) >= config.min_deskew_degrees else 0.0


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".render-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class PageRenderer:
    def __init__(self, files: FileStore, cache_dir: Path, scale: float, remembered: int = 4096) -> None:
        self.files = files
        self.cache_dir = cache_dir
        self.scale = scale
        # Page sizes by content hash, in memory too: the document page needs them on every view,
        # and a file's pages never change.
        self.remembered = remembered
        self._sizes: dict[str, list[PageSize]] = {}
        self._counts: dict[str, int | None] = {}

    def _base(self, sha256: str) -> Path:
        return self.cache_dir / sha256[:2] / sha256

    def sizes(self, sha256: str, mime: str) -> list[PageSize]:
        """Every page's size in field-box units; empty when the file has no pages to show."""
        known = self._sizes.get(sha256)
        if known is not None:
            return known
        # v2: with each scanned page's tilt (older files without it are measured again).
        meta = self._base(sha256).with_suffix(".pages-v2.json")
        if meta.exists():
            return self._remember(sha256, [PageSize(*size) for size in json.loads(meta.read_text())])
        if mime != "application/pdf" and mime not in IMAGE_MIMES:
            return []
        if not self.files.exists(sha256):
            return []
        with _lock(sha256):
            try:
                sizes = self._measure(sha256, mime)
            except NotRenderable:
                sizes = []
            _atomic_write(meta, json.dumps([[s.width, s.height, s.skew] for s in sizes]).encode())
        return self._remember(sha256, sizes)

    def _remember(self, sha256: str, sizes: list[PageSize]) -> list[PageSize]:
        if len(self._sizes) >= self.remembered:
            self._sizes.clear()  # cheaper than LRU bookkeeping on every view; refilled from disk
        self._sizes[sha256] = sizes
        return sizes

    def _measure(self, sha256: str, mime: str) -> list[PageSize]:
        data = self.files.get(sha256)
        if mime == "application/pdf":
            import pypdfium2 as pdfium

            try:
                pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as error:
                raise NotRenderable(f"the PDF cannot be opened ({error})") from None
            try:
                sizes = []
                for i in range(min(len(pdf), MAX_PAGES)):
                    page = pdf[i]
                    skew = 0.0
                    # A page without a text layer is a scan the text layer read by OCR.
                    if page.get_textpage().count_chars() == 0:
                        skew = scan_skew(page.render(scale=SKEW_DPI / 72).to_pil())
                    width, height = page.get_size()
                    sizes.append(PageSize(width, height, skew))
                return sizes
            finally:
                pdf.close()
        try:
            with Image.open(io.BytesIO(data)) as image:
                sizes = []
                for frame in range(min(getattr(image, "n_frames", 1), MAX_PAGES)):
                    image.seek(frame)
                    skew = scan_skew(image)
                    sizes.append(PageSize(float(image.width), float(image.height), skew=skew))
                return sizes
        except OSError as error:
            raise NotRenderable(f"the image cannot be opened ({error})") from None

    def page_count(self, sha256: str, mime: str) -> int | None:
        """How many pages the file has (all of them, not only those the document page shows)."""
        if sha256 in self._counts:
            return self._counts[sha256]
        if (mime != "application/pdf" and mime not in IMAGE_MIMES) or not self.files.exists(sha256):
            return None
        count = count_pages(self.files.get(sha256), mime)
        if len(self._counts) >= self.remembered:
            self._counts.clear()
        self._counts[sha256] = count
        return count

    def thumbnail_png(self, sha256: str, mime: str, page: int) -> Path:
        """The cached thumbnail of page ``page`` (1-based), rendered with the next few on first request."""
        target = self._thumbnail(sha256, page)
        if target.exists():
            return target
        count = self.page_count(sha256, mime) or 0
        if not 1 <= page <= count:
            raise NotRenderable(f"page {page} does not exist (the file has {count})")
        with _lock(sha256):
            if not target.exists():
                wanted = [
                    number
                    for number in range(page, min(count, page + THUMBNAIL_BATCH - 1) + 1)
                    if not self._thumbnail(sha256, number).exists()
                ]
                for number, data in self._render_thumbnails(sha256, mime, wanted):
                    _atomic_write(self._thumbnail(sha256, number), data)
        return target

    def _thumbnail(self, sha256: str, page: int) -> Path:
        return self._base(sha256).with_suffix(f".t{THUMBNAIL_WIDTH}-p{page}.png")

    def _render_thumbnails(self, sha256: str, mime: str, pages: list[int]) -> list[tuple[int, bytes]]:
        data = self.files.get(sha256)
        out: list[tuple[int, bytes]] = []
        if mime == "application/pdf":
            import pypdfium2 as pdfium

            try:
                pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as error:
                raise NotRenderable(f"the PDF cannot be opened ({error})") from None
            try:
                for number in pages:
                    page = pdf[number - 1]
                    width = page.get_size()[0] or THUMBNAIL_WIDTH
                    image = page.render(scale=THUMBNAIL_WIDTH / width).to_pil()
                    out.append((number, _png(image)))
            finally:
                pdf.close()
            return out
        try:
            with Image.open(io.BytesIO(data)) as image:
                for number in pages:
                    image.seek(number - 1)
                    frame = image.convert("RGB")
                    frame.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
                    out.append((number, _png(frame)))
        except (OSError, EOFError) as error:
            raise NotRenderable(f"the image cannot be opened ({error})") from None
        return out

    def page_png(self, sha256: str, mime: str, page: int) -> Path:
        """The cached PNG of page ``page`` (1-based), rendered on first request."""
        target = self._base(sha256).with_suffix(f".p{page}.png")
        if target.exists():
            return target
        sizes = self.sizes(sha256, mime)
        if not 1 <= page <= len(sizes):
            raise NotRenderable(f"page {page} does not exist (the document has {len(sizes)})")
        with _lock(sha256):
            if target.exists():
                return target
            _atomic_write(target, self._render(sha256, mime, page))
        return target

    def _render(self, sha256: str, mime: str, page: int) -> bytes:
        data = self.files.get(sha256)
        out = io.BytesIO()
        if mime == "application/pdf":
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(data)
            try:
                bitmap = pdf[page - 1].render(scale=self.scale)
                bitmap.to_pil().save(out, format="PNG", optimize=True)
            finally:
                pdf.close()
            return out.getvalue()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(page - 1)
            frame = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
            frame.save(out, format="PNG", optimize=True)
        return out.getvalue()
