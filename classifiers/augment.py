"""OCR-noise copies of born-digital text layers, so the models learn every type as a scan reads it.

The scanned twins in a corpus carry the noise of one scanner and one OCR run; a new vendor's scan
misreads other letters. Training on born-digital pages put through the mistakes tesseract
typically makes (look-alike glyphs, lost accents, split and merged words, lost short words, box
heights instead of font sizes, a title read worse than the body) teaches the models to rely on
what survives such noise rather than on one exact spelling.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

from textlayer.model import Document, Line, Page, Word

# Misreadings tesseract makes between look-alike glyphs, one direction each (both where both occur).
CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("rn", "m"),
    ("m", "rn"),
    ("l", "1"),
    ("l", "I"),
    ("I", "l"),
    ("i", "l"),
    ("1", "l"),
    ("O", "0"),
    ("0", "O"),
    ("o", "0"),
    ("e", "c"),
    ("c", "e"),
    ("cl", "d"),
    ("d", "cl"),
    ("S", "5"),
    ("B", "8"),
    ("h", "b"),
    ("u", "ii"),
    ("n", "ri"),
    ("t", "f"),
    ("é", "e"),
    ("è", "e"),
    ("ü", "u"),
    ("ä", "a"),
    ("ö", "o"),
    ("É", "E"),
    ("-", "—"),
)


@dataclass(frozen=True, slots=True)
class NoiseLevel:
    """How often each kind of mistake happens, per word."""

    confusion: float = 0.12  # a look-alike glyph swapped
    drop_short: float = 0.15  # a word of one or two characters lost
    split: float = 0.03  # a word read as two
    merge: float = 0.03  # two neighbours read as one
    size_jitter: float = 0.2  # relative spread of the box height OCR reports as the size
    title_factor: float = 2.5  # large type (the title) is read this much worse


def _confuse(text: str, rng: random.Random) -> str:
    options = [(seen, meant) for seen, meant in CONFUSIONS if seen in text]
    if not options:
        return text
    seen, meant = rng.choice(options)
    at = [i for i in range(len(text)) if text.startswith(seen, i)]
    i = rng.choice(at)
    return text[:i] + meant + text[i + len(seen) :]


def _noisy_line(line: Line, typical: float, level: NoiseLevel, rng: random.Random) -> Line:
    words: list[Word] = []
    for word in line.words:
        size = word.size if word.size else word.height
        factor = level.title_factor if typical > 0 and size >= 1.25 * typical else 1.0
        text = word.text
        if len(text) <= 2 and rng.random() < level.drop_short:
            continue
        if rng.random() < level.confusion * factor:
            text = _confuse(text, rng)
        jitter = max(0.5, rng.gauss(1.0, level.size_jitter))
        x0, top, x1, bottom = word.bbox
        new = Word(text, (x0, top, x1, bottom), word.confidence * 0.9, size * jitter, word.bold)
        if len(text) >= 6 and rng.random() < level.split * factor:
            cut = rng.randrange(2, len(text) - 1)
            mid = x0 + (x1 - x0) * cut / len(text)
            words.append(Word(text[:cut], (x0, top, mid, bottom), new.confidence, new.size, word.bold))
            new = Word(text[cut:], (mid, top, x1, bottom), new.confidence, new.size, word.bold)
        elif words and rng.random() < level.merge * factor:
            prev = words.pop()
            new = Word(prev.text + text, (prev.x0, top, x1, bottom), new.confidence, new.size, word.bold)
        words.append(new)
    return Line(words)


def ocr_noise(document: Document, rng: random.Random, level: NoiseLevel | None = None) -> Document:
    """A copy of ``document`` read as if scanned: pages marked ``ocr``, words misread at ``level``."""
    level = level or NoiseLevel()
    pages = []
    for page in document.pages:
        sizes = [w.size if w.size else w.height for w in page.words]
        typical = statistics.median(s for s in sizes if s > 0) if any(s > 0 for s in sizes) else 0.0
        lines = [_noisy_line(line, typical, level, rng) for line in page.lines]
        pages.append(
            Page(
                number=page.number,
                width=page.width,
                height=page.height,
                lines=[line for line in lines if line.words],
                unit=page.unit,
                source="ocr",
            )
        )
    return Document(pages=pages, source=document.source)
