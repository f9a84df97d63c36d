"""A disk cache of text layers for repeated reads of the same files (an evaluation run again).

An entry is keyed by the file's content hash, the text-layer version and the settings that shape
what OCR reads (``TextLayerConfig`` without its time and memory limits), so a reading made by older
code or under other OCR settings is a miss, never served as the current one. Only documents read
without a note are kept: a page that failed or timed out is read again next time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from textlayer.config import TextLayerConfig
from textlayer.model import Document, Line, Page, Word
from textlayer.parsed import OCRMode

CACHE_FORMAT = 1
# Limits that decide only whether a read finishes, not what it reads: not part of the key.
_NOT_KEYED = frozenset(
    {"parse_timeout", "ocr_timeout", "document_timeout", "memory_limit_mb", "workers", "max_pages"}
)


def document_to_dict(document: Document) -> dict[str, Any]:
    return {
        "source": document.source,
        "errors": list(document.errors),
        "pages": [
            {
                "number": p.number,
                "width": p.width,
                "height": p.height,
                "unit": p.unit,
                "source": p.source,
                "rotation": p.rotation,
                "skew": p.skew,
                "ocr_engine": p.ocr_engine,
                "backend": p.backend,
                "ocr_choice": p.ocr_choice,
                "lines": [
                    [[w.text, list(w.bbox), w.confidence, w.size, w.bold] for w in line.words]
                    for line in p.lines
                ],
            }
            for p in document.pages
        ],
    }


def document_from_dict(data: dict[str, Any]) -> Document:
    pages = [
        Page(
            number=p["number"],
            width=p["width"],
            height=p["height"],
            unit=p["unit"],
            source=p["source"],
            rotation=p.get("rotation", 0),
            skew=p.get("skew", 0.0),
            ocr_engine=p.get("ocr_engine", ""),
            backend=p.get("backend", ""),
            ocr_choice=p.get("ocr_choice", ""),
            lines=[
                Line([Word(t, (b[0], b[1], b[2], b[3]), c, s, bold) for t, b, c, s, bold in line])
                for line in p["lines"]
            ],
        )
        for p in data["pages"]
    ]
    return Document(pages=pages, source=data.get("source", ""), errors=list(data.get("errors", [])))


def settings_key(config: TextLayerConfig, ocr: OCRMode, version: str) -> str:
    """What a reading depends on besides the file: code version, OCR mode and reading settings."""
    keyed = {k: v for k, v in dataclasses.asdict(config).items() if k not in _NOT_KEYED}
    text = json.dumps({"version": version, "ocr": ocr, "config": keyed}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass
class DocumentCache:
    """Text layers on disk under ``root``, one JSON file per (content, settings) key."""

    root: Path
    hits: int = 0
    misses: int = 0

    def key(self, data: bytes, settings: str) -> str:
        return f"{hashlib.sha256(data).hexdigest()}-{settings}"

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def lookup(self, key: str) -> Document | None:
        entry = self._entry(key)
        try:
            cached = json.loads(entry.read_text(encoding="utf-8"))
            if cached.get("format") == CACHE_FORMAT and cached.get("key") == key:
                self.hits += 1
                return document_from_dict(cached["document"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # a torn or foreign entry is simply read again
        self.misses += 1
        return None

    def put(self, key: str, document: Document) -> bool:
        """Keep ``document`` unless its reading left a note (a failed or timed-out page)."""
        if document.errors:
            return False
        payload = {"format": CACHE_FORMAT, "key": key, "document": document_to_dict(document)}
        write_json(self._entry(key), payload)
        return True


def write_json(entry: Path, payload: dict[str, Any]) -> None:
    """Write-then-rename, so two processes filling the same cache never see half a file."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, separators=(",", ":"))
    os.replace(tmp, entry)
