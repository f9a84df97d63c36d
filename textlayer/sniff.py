"""Decide from a file's first bytes what it is, whatever its name says."""

from __future__ import annotations

from typing import Literal

from textlayer.errors import EmptyFile, UnsupportedFile

FileKind = Literal["pdf", "png", "jpeg", "tiff"]

_MAGIC: tuple[tuple[bytes, FileKind], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
)


def sniff(head: bytes, *, source: str = "") -> FileKind:
    """Return the file kind from its leading bytes (at least the first 1024 when available)."""
    if not head:
        raise EmptyFile("the file is empty (0 bytes)", source=source)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # The PDF spec lets readers accept junk before the header within the first 1024 bytes.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if not head.strip():
        raise EmptyFile("the file holds only whitespace", source=source)
    raise UnsupportedFile(
        "not a PDF, PNG, JPEG or TIFF file (the content does not match any of them)",
        source=source,
        starts_with=repr(head[:16]),
    )
