"""Group words into lines in reading order: top to bottom, words left to right."""

from __future__ import annotations

import re

from textlayer.model import Line, Word

_BOLD = re.compile(r"bold|black|heavy|demi|semibold|extrabold|ultrabold", re.IGNORECASE)


def is_bold_font(fontname: str | None) -> bool:
    """True when a PDF font name marks a bold face (``ABCDEF+Arial-BoldMT``, ``Helvetica-Bold``)."""
    if not fontname:
        return False
    # Drop the subset tag: six capitals and a plus sign that say nothing about the face.
    return bool(_BOLD.search(fontname.split("+", 1)[-1]))


def group_lines(words: list[Word], *, min_overlap: float = 0.5) -> list[Line]:
    """Words whose vertical extents overlap by ``min_overlap`` of the smaller one share a line.

    A line's band is that of its first (tallest-so-far) words, not the running union, so a tall
    word cannot swallow the rows above and below it.
    """
    if not words:
        return []
    ordered = sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0))
    rows: list[tuple[float, float, list[Word]]] = []  # band top, band bottom, words
    for word in ordered:
        placed = False
        # Only the last few rows can still overlap: words arrive sorted by their centre.
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            top, bottom, members = rows[i]
            overlap = min(bottom, word.bottom) - max(top, word.top)
            smaller = max(min(bottom - top, word.height), 1e-6)
            if overlap / smaller >= min_overlap:
                members.append(word)
                if word.height > bottom - top:
                    rows[i] = (word.top, word.bottom, members)
                placed = True
                break
        if not placed:
            rows.append((word.top, word.bottom, [word]))
    lines = [Line(words=sorted(members, key=lambda w: w.x0)) for _, _, members in rows]
    lines.sort(key=lambda line: (line.bbox[1], line.bbox[0]))
    return lines
