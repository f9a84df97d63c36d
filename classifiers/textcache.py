"""A disk cache of text layers keyed by file sha256, because OCR of a scan takes seconds.

The cached form is the ``Document`` tree as JSON; a cache entry names the reader that made it,
so a changed reader (another backend, a new OCR setting) does not serve stale text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from textlayer.cache import document_from_dict, document_to_dict, write_json
from textlayer.model import Document

Reader = Callable[[Path], Document]
CACHE_FORMAT = 1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class TextLayerCache:
    """``get(path)`` returns the file's text layer, reading it only on a cache miss."""

    def __init__(self, root: Path, reader: Reader, reader_name: str) -> None:
        self.root = root
        self.reader = reader
        self.reader_name = reader_name

    def _entry(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.json"

    def lookup(self, sha256: str) -> Document | None:
        """The cached text layer of the file with this sha256, or ``None`` on a miss."""
        entry = self._entry(sha256)
        if not entry.exists():
            return None
        try:
            cached = json.loads(entry.read_text(encoding="utf-8"))
            if cached.get("format") == CACHE_FORMAT and cached.get("reader") == self.reader_name:
                return document_from_dict(cached["document"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # a torn or foreign entry is simply read again
        return None

    def put(self, sha256: str, document: Document) -> None:
        payload = {"format": CACHE_FORMAT, "reader": self.reader_name, "document": document_to_dict(document)}
        write_json(self._entry(sha256), payload)

    def get(self, path: Path, sha256: str | None = None) -> Document:
        sha256 = sha256 or file_sha256(path)
        document = self.lookup(sha256)
        if document is None:
            document = self.reader(path)
            self.put(sha256, document)
        document.source = str(path)
        return document
