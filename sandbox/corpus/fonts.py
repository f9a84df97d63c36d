"""Font families a randomized document may print with: reportlab's standard fonts and Debian's.

The Debian families (DejaVu, Liberation, Carlito, Caladea; scripts/setup.sh installs them) are
registered once with reportlab as embedded TrueType subsets. A family whose files are missing
falls back to the standard font of the same kind, so a machine without them still writes the
same truth, only in fewer typefaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont


@dataclass(frozen=True)
class FontSet:
    family: str
    regular: str
    bold: str
    italic: str
    monospaced: bool = False

    def name(self, *, bold: bool = False, italic: bool = False) -> str:
        return self.bold if bold else self.italic if italic else self.regular


_STANDARD = {
    "Helvetica": FontSet("Helvetica", "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
    "Times": FontSet("Times", "Times-Roman", "Times-Bold", "Times-Italic"),
    "Courier": FontSet("Courier", "Courier", "Courier-Bold", "Courier-Oblique", monospaced=True),
}
_FALLBACK_KIND = {"sans": "Helvetica", "serif": "Times", "mono": "Courier"}

# family: (kind, folder, regular file, bold file, italic file)
_TRUETYPE: dict[str, tuple[str, str, str, str, str]] = {
    "DejaVuSans": ("sans", "dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
    "DejaVuSansCondensed": (
        "sans",
        "dejavu",
        "DejaVuSansCondensed.ttf",
        "DejaVuSansCondensed-Bold.ttf",
        "DejaVuSansCondensed-Oblique.ttf",
    ),
    "DejaVuSerif": ("serif", "dejavu", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"),
    "DejaVuSansMono": (
        "mono",
        "dejavu",
        "DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold.ttf",
        "DejaVuSansMono-Oblique.ttf",
    ),
    "LiberationSans": (
        "sans",
        "liberation2",
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "LiberationSans-Italic.ttf",
    ),
    "LiberationSerif": (
        "serif",
        "liberation2",
        "LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold.ttf",
        "LiberationSerif-Italic.ttf",
    ),
    "LiberationMono": (
        "mono",
        "liberation2",
        "LiberationMono-Regular.ttf",
        "LiberationMono-Bold.ttf",
        "LiberationMono-Italic.ttf",
    ),
    "Carlito": ("sans", "crosextra", "Carlito-Regular.ttf", "Carlito-Bold.ttf", "Carlito-Italic.ttf"),
    "Caladea": ("serif", "crosextra", "Caladea-Regular.ttf", "Caladea-Bold.ttf", "Caladea-Italic.ttf"),
}
FONT_DIR = Path("/usr/share/fonts/truetype")

FAMILIES: tuple[str, ...] = (*_STANDARD, *_TRUETYPE)
MONOSPACED: tuple[str, ...] = ("Courier", "DejaVuSansMono", "LiberationMono")


@cache
def font_set(family: str) -> FontSet:
    """The registered fonts of ``family`` (or of its standard stand-in when files are missing)."""
    if family in _STANDARD:
        return _STANDARD[family]
    kind, folder, *files = _TRUETYPE[family]
    paths = [FONT_DIR / folder / name for name in files]
    if not all(path.is_file() for path in paths):
        return _STANDARD[_FALLBACK_KIND[kind]]
    names = [f"{family}", f"{family}-Bold", f"{family}-Italic"]
    for name, path in zip(names, paths, strict=True):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    return FontSet(family, names[0], names[1], names[2], monospaced=kind == "mono")


def ascent_descent(font: str) -> tuple[float, float]:
    """Ascent and (negative) descent in 1/1000 of the font size, for text boxes."""
    face = pdfmetrics.getFont(font).face
    return float(face.ascent), float(face.descent)
