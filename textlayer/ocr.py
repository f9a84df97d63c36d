"""OCR one page image: orientation (OSD), small-angle deskew, tesseract or RapidOCR, words into lines.

Coordinates come back in the corrected frame (the page turned upright and straightened), so
rows of a table stay on one line for the extractors; ``Page.rotation`` and ``Page.skew`` tell a
viewer how to turn the original image to overlay the boxes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytesseract
from PIL import Image, ImageFilter

from textlayer import tesseract
from textlayer.columns import reread_columns
from textlayer.config import OCREngineSettings, TextLayerConfig
from textlayer.errors import OCRFailed
from textlayer.model import Line, Word, union

# Longest side of the thumbnail the skew and orientation estimates run on: ~140 dpi for A4,
# enough to resolve 0.1 degree and cheap next to a tesseract pass.
_ANALYSIS_SIDE = 1600
# A rule's sides are looked at this many pixels (of the half-size copy) away from it, past its
# own thickness and blur; beside a rule at most this share of them may be ink.
_SIDE_OFFSET = 4
_MAX_SIDE_INK = 0.3
# Share of a rule's length that is ink before gaps are bridged: table rules on the sample scans
# are 0.95-1.0, runs along a line of monospaced print 0.45-0.8, dashed lines about 0.7.
_MIN_RULE_INK = 0.85
# An amount whose decimal separator came back followed by a space ("18. 40"): digits ending in
# the separator, then exactly two digits after a gap narrower than this share of the text height.
_SPLIT_UNITS = re.compile(r".*\d[.,]")
_SPLIT_CENTS = re.compile(r"\d{2}")
_SPLIT_MAX_GAP = 0.6
# An underscore between two words ("R_2623"), which tesseract reads as a space: in the gap (at
# most this share of the text height wide) a thin stroke at the words' foot covers most of its
# width, and nothing is printed above it.
_UNDERSCORE_MAX_GAP = 1.5
_UNDERSCORE_COVER = 0.8
# An amount whose cents came back with a round letter for a zero ("18.4c", "7.0O"): a short
# currency sign or none, digits, a decimal separator, then two characters that are digits or
# letters the recognizers confuse with a zero on faint or broken print.
_CENTS_WITH_LETTERS = re.compile(r"([^\w\s]{0,3}[A-Z]{0,3}-?\d[\d.,]*[.,])([\doOcCD]{2})")
_ZERO_LOOKALIKES = str.maketrans("oOcCD", "00000")


ImageKind = Literal["scan", "photo"]


@dataclass(slots=True)
class OCRPage:
    lines: list[Line]
    width: int  # pixels, corrected frame
    height: int
    rotation: int  # clockwise degrees the image was turned before OCR
    skew: float  # degrees (counter-clockwise) the content was tilted; undone before OCR
    osd_runs: int = 0
    engine: str = ""  # the OCR engine and version that read the page
    choice: str = ""  # why that engine (choose_engine)


def to_gray(image: Image.Image) -> Image.Image:
    """8-bit grayscale on white: transparency becomes paper, not ink."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return image if image.mode == "L" else image.convert("L")


def _ink_points(gray: Image.Image) -> tuple[np.ndarray, np.ndarray, float]:
    """Coordinates of dark pixels on a thumbnail, and the share of the page that is ink."""
    scale = min(1.0, _ANALYSIS_SIDE / max(gray.size))
    small = (
        gray
        if scale >= 1.0
        else gray.resize(
            (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX
        )
    )
    pixels = np.asarray(small, dtype=np.uint8)
    # Ink is what is clearly darker than the paper; the paper level is the bright percentile
    # so grey backgrounds and faint noise do not count.
    paper = float(np.percentile(pixels, 90))
    ys, xs = np.nonzero(pixels < paper * 0.6)
    share = ys.size / max(1, pixels.size)
    if ys.size > 60_000:  # a fixed sample keeps the cost flat on dense pages
        pick = np.random.default_rng(0).choice(ys.size, 60_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    return ys.astype(np.float64), xs.astype(np.float64), share


def _sharpness(ys: np.ndarray, xs: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Projection-profile sharpness per angle: text rows give a spiky histogram when level."""
    scores = np.empty(degrees.size)
    for i, deg in enumerate(degrees):
        t = math.radians(float(deg))
        # Row coordinate of each ink pixel once the image is turned by -deg.
        proj = ys * math.cos(t) - xs * math.sin(t)
        hist = np.bincount((proj - proj.min()).astype(np.int64))
        scores[i] = float(np.dot(hist, hist))
    return scores


@dataclass(slots=True)
class InkAnalysis:
    skew: float
    ink_share: float


def analyse(gray: Image.Image, config: TextLayerConfig) -> InkAnalysis:
    """Estimate the small tilt of the text rows (projection profiles over +-max_skew_degrees).

    Profiles cannot tell a sideways page from an upright one with ruled tables (rules make the
    column profile spiky too; measured on the sample corpus), so orientation is left to OSD.
    """
    ys, xs, share = _ink_points(gray)
    if ys.size < 200:
        return InkAnalysis(skew=0.0, ink_share=share)
    limit = config.max_skew_degrees
    coarse = np.arange(-limit, limit + 1e-9, 0.5)
    best = float(coarse[int(np.argmax(_sharpness(ys, xs, coarse)))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    # The angle that levels the rows is minus the tilt (image y grows downwards).
    skew = -float(fine[int(np.argmax(_sharpness(ys, xs, fine)))])
    return InkAnalysis(skew=round(skew, 2), ink_share=share)


def detect_orientation(gray: Image.Image, config: TextLayerConfig) -> int:
    """Clockwise degrees (0/90/180/270) that turn the page upright, from tesseract OSD.

    OSD runs on a half-size copy: it only needs glyph shapes, and it costs half as much.
    """
    small = gray.reduce(2) if min(gray.size) > 1200 else gray
    small.format = "PPM"
    try:
        osd = pytesseract.image_to_osd(
            small, config="--psm 0", output_type=pytesseract.Output.DICT, timeout=config.ocr_timeout
        )
    except (pytesseract.TesseractError, RuntimeError):
        return 0  # too few characters to decide: leave the page as it is
    if float(osd.get("orientation_conf", 0.0)) < 1.0:
        return 0
    return int(osd.get("rotate", 0)) % 360


def speckle_share(gray: Image.Image) -> float:
    """Share of pixels that are lone dark dots (scanner dust, fax noise) on a central crop."""
    side = 768
    left = max(0, (gray.width - side) // 2)
    top = max(0, (gray.height - side) // 2)
    crop = np.asarray(gray.crop((left, top, left + min(side, gray.width), top + min(side, gray.height))))
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return 0.0
    dark = crop < 128
    core = dark[1:-1, 1:-1]
    neighbours = sum(
        dark[1 + dy : dark.shape[0] - 1 + dy, 1 + dx : dark.shape[1] - 1 + dx].astype(np.uint8)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    return float(np.count_nonzero(core & (neighbours <= 1))) / core.size


def invert_dark_regions(gray: Image.Image, config: TextLayerConfig) -> Image.Image:
    """Light text on dark bands (a table header, a sidebar) turned into dark text on light.

    Tesseract reads dark-on-light; on the sample corpus it dropped whole white-on-grey table
    headers. Bands are found on an eighth-size copy: pixels whose neighbourhood median is dark
    form connected regions, and a region that is wide (or tall), fills most of its bounding box
    and has solid padding is a printed band (``_is_band``); its exact rectangle is then
    thresholded to black text on white. Bold print is no band: its letters leave paper between
    them.
    """
    from scipy import ndimage

    # An eighth-size copy: print averages out to grey there, a band stays dark.
    scale = 8 if min(gray.size) > 1600 else 4 if min(gray.size) > 800 else 1
    small = gray.reduce(scale) if scale > 1 else gray
    factor = gray.width / small.width
    # Light letters lighten a band's average, so the small copy looks for mid-grey; the
    # full-size test (``_is_band``) then keeps only true bands.
    level = config.dark_region_level + 40
    if np.count_nonzero(np.asarray(small, dtype=np.uint8) < level) < 0.002 * small.width * small.height:
        return gray  # no dark area at all (most pages): nothing to do
    local = np.asarray(small.filter(ImageFilter.MedianFilter(3)), dtype=np.uint8)
    dark = local < level
    if dark.mean() < 0.002:
        return gray
    # Light words leave holes and gaps in a band's dark area; closing bridges them so one band
    # is one region.
    dark = ndimage.binary_closing(dark, structure=np.ones((3, 9), dtype=bool), border_value=0)
    labels, _count = ndimage.label(dark)
    pixels = np.array(gray, dtype=np.uint8)
    changed = False
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        rows, cols = found
        height, width = rows.stop - rows.start, cols.stop - cols.start
        big = width >= 0.15 * small.width or height >= 0.15 * small.height
        if not big or min(height, width) < 3:
            continue
        fill = np.count_nonzero(labels[found] == index) / (height * width)
        if fill < 0.5:
            continue
        # The small copy is coarse at its edges: find the band's exact rows and
        # columns at full size, where most pixels of a row (column) are dark.
        top, bottom = max(0, round((rows.start - 3) * factor)), round((rows.stop + 3) * factor)
        left, right = max(0, round((cols.start - 3) * factor)), round((cols.stop + 3) * factor)
        window = pixels[top:bottom, left:right]
        # A band printed mid-grey (a letterhead, a sidebar) is ink too: its rows are found at a
        # level a little lighter than its own grey, never darker than dark_region_level.
        shade = window[window < level]
        ink = window < max(config.dark_region_level, float(np.median(shade)) + 40 if shade.size else 0)
        band_rows = np.flatnonzero(ink.mean(axis=1) > 0.5)
        if band_rows.size == 0:
            continue
        r0, r1 = int(band_rows[0]), int(band_rows[-1]) + 1
        band_cols = np.flatnonzero(ink[r0:r1].mean(axis=0) > 0.5)
        if band_cols.size == 0:
            continue
        c0, c1 = int(band_cols[0]), int(band_cols[-1]) + 1
        if not _is_band(ink[r0:r1, c0:c1]):
            continue
        ink_band = window[r0:r1, c0:c1].copy()
        # The band's blurred rim, just outside the rows and columns found, would stay as a grey
        # frame that touches the letters ("Total HT" read "To&lHT"): it becomes paper. Only
        # the rim: a line of print just above or below the band keeps its letters.
        # Counted on the whole page: a band found in two parts may have its window end at the
        # band's edge.
        band = (top + r0, top + r1, left + c0, left + c1)
        above, below, before, after = _band_rim(pixels, band, max(2, round(0.15 * (r1 - r0))), config)
        pixels[band[0] - above : band[1] + below, band[2] - before : band[3] + after] = 255
        window[r0:r1, c0:c1] = _clear_band_edges(
            _light_text_to_black(ink_band), ink[r0:r1, c0:c1], max(2, round(0.15 * (r1 - r0)))
        )
        changed = True
    return Image.fromarray(pixels) if changed else gray


def _band_rim(
    pixels: np.ndarray, band: tuple[int, int, int, int], reach: int, config: TextLayerConfig
) -> tuple[int, int, int, int]:
    """How many rows above and below, and columns left and right of a band (rows r0:r1, columns
    c0:c1 of ``pixels``) are its blurred rim: at most ``reach`` each, counted outwards while a
    row (column) along the band is mostly darker than paper. Print beside the band leaves
    paper between its letters, so the count stops at it.
    """
    r0, r1, c0, c1 = band

    def count(strips: Iterable[np.ndarray]) -> int:
        n = 0
        for strip in strips:
            if n >= reach or strip.size == 0 or (strip < config.band_rim_paper_level).mean() <= 0.5:
                break
            n += 1
        return n

    height, width = pixels.shape
    return (
        count(pixels[r, c0:c1] for r in range(r0 - 1, -1, -1)),
        count(pixels[r, c0:c1] for r in range(r1, height)),
        count(pixels[r0:r1, c] for c in range(c0 - 1, -1, -1)),
        count(pixels[r0:r1, c] for c in range(c1, width)),
    )


def _clear_band_edges(black: np.ndarray, ink: np.ndarray, reach: int) -> np.ndarray:
    """The band thresholded (``black``) with its outer rows and columns made paper up to its
    first solid row (column) of ink, when one is at most ``reach`` in: a band printed slightly
    askew has edge rows dark at one end and mid-grey at the other, which thresholding turned
    into a black stroke ("349,88 €" over a band read "349,88 €_"). An edge with no solid ink
    near it (text up to the band's border) is left alone.
    """
    rows, cols = ink.mean(axis=1) > 0.9, ink.mean(axis=0) > 0.9
    if not rows.any() or not cols.any():
        return black
    out = black.copy()
    top, bottom = int(np.argmax(rows)), int(np.argmax(rows[::-1]))
    left, right = int(np.argmax(cols)), int(np.argmax(cols[::-1]))
    if top <= reach:
        out[:top] = 255
    if bottom <= reach:
        out[out.shape[0] - bottom :] = 255
    if left <= reach:
        out[:, :left] = 255
    if right <= reach:
        out[:, out.shape[1] - right :] = 255
    return out


def _is_band(ink: np.ndarray) -> bool:
    """A filled rectangle with light text, not a line of big bold print.

    A band is mostly ink, and its padding above or below the text is solid ink from end to
    end; bold letters leave paper between them and have ragged tops.
    """
    if ink.shape[0] < 8 or ink.mean() < 0.6:
        return False
    top, bottom = ink[2:5].mean(), ink[-5:-2].mean()
    return bool(max(top, bottom) >= 0.8)


def _light_text_to_black(region: np.ndarray) -> np.ndarray:
    """Black text on white paper from light text on a dark, noisy background.

    A plain inversion leaves a mid-grey, speckled background that tesseract's own binarisation
    turns into noise; thresholding halfway between the band and its lightest strokes does not.
    """
    background = float(np.median(region))
    light = float(np.percentile(region, 99))
    if light - background < 40:  # no light text in it: a filled box, leave it
        return region
    # Nearer the background than the strokes: anti-aliased edges of thin strokes stay text.
    cut = background + 0.4 * (light - background)
    return np.where(region > cut, 0, 255).astype(np.uint8)


def remove_rules(gray: Image.Image, config: TextLayerConfig) -> Image.Image:
    """Table rules (long, thin horizontal and vertical lines) painted over with paper.

    In a ruled grid the rules touch the digits, and tesseract reads "12]" or "1009.80!" or
    nothing at all. A rule is a thin run of ink far longer than a glyph stroke of its
    thickness: horizontal runs of ``rule_min_length`` of the page's longer side, vertical ones
    of half that (a grid's vertical rules may be only one row high) that are no thicker than a
    rule. A rule is also nearly solid before its gaps are bridged and has paper a few pixels
    above and below it: the serifs along a line of monospaced print join into runs as long, and
    erasing them cut the letters in half. Dashed lines are left to OCR (they read as dashes).
    Found on a half-size copy with running sums, so the cost does not grow with length.
    """
    from scipy import ndimage

    small = gray.reduce(2) if min(gray.size) > 1000 else gray
    ink = (np.asarray(small, dtype=np.uint8) < config.rule_ink_level).astype(np.float32)
    side = max(small.size)
    rules = _horizontal_rules(ink, max(10, round(config.rule_min_length * side)))
    # Vertical rules: the same search on the transposed page, with half the length.
    rules |= _horizontal_rules(
        np.ascontiguousarray(ink.T), max(10, round(config.rule_min_length / 2 * side))
    ).T
    if not rules.any():
        return gray
    # Scanner blur draws a rule a pixel wider than its dark core.
    rules = ndimage.binary_dilation(rules)
    mask = Image.fromarray(rules.astype(np.uint8) * 255)
    if mask.size != gray.size:
        mask = mask.resize(gray.size, Image.Resampling.NEAREST)
    paper = Image.new("L", gray.size, 255)
    return Image.composite(paper, gray, mask)


def _horizontal_rules(ink: np.ndarray, length: float) -> np.ndarray:
    """Pixels of thin horizontal ink runs at least ``length`` long (see ``remove_rules``)."""
    from scipy import ndimage

    rules = np.zeros(ink.shape, dtype=bool)
    size = int(length)
    # Window centres inside a run of ``length`` ink pixels, gaps of a pixel or two (where the
    # scan broke the rule) bridged.
    bridged = (ndimage.uniform_filter1d(ink, size=3, axis=1, mode="constant") > 0.3).astype(np.float32)
    full = ndimage.uniform_filter1d(bridged, size=size, axis=1, mode="constant") > 0.999
    rows = np.flatnonzero(full.any(axis=1))
    if rows.size == 0:
        return rules
    # The thickness and paper tests only need the candidate rows and a few rows around them.
    for top, bottom in _row_blocks(rows, pad=_SIDE_OFFSET + 2, limit=ink.shape[0]):
        block = ink[top:bottom]
        # Ink three pixels thick across the run (six at full size) is a glyph stem or a bar,
        # never a rule; so are the edge pixels beside such a core.
        core = ndimage.uniform_filter1d(block, size=3, axis=0, mode="constant") > 0.999
        thick = ndimage.uniform_filter1d(core.astype(np.float32), size=5, axis=0, mode="constant") > 0
        # A rule may cross a few glyphs; a row of bold letters is no rule.
        crossed = ndimage.uniform_filter1d(thick.astype(np.float32), size=size, axis=1, mode="constant")
        # Without the bridging a rule is still nearly solid ink; a run joined from the serifs or
        # curves of a line of print has gaps in a quarter or more of its length.
        solid = ndimage.uniform_filter1d(block, size=size, axis=1, mode="constant") >= _MIN_RULE_INK
        centres = full[top:bottom] & solid & (crossed < 0.3) & _paper_both_sides(block, size)
        if not centres.any():
            continue
        # Every pixel of such a run, not only the window centres.
        run = ndimage.uniform_filter1d(centres.astype(np.float32), size=size, axis=1, mode="constant") > 0
        rules[top:bottom] |= run & ~thick
    return rules


def _paper_both_sides(block: np.ndarray, size: int) -> np.ndarray:
    """Where a run has mostly paper a few pixels above it and a few pixels below it.

    A rule stands free between rows of text; the serifs along the baseline (or the tops) of a
    line of monospaced print join into a run just as long, but the letters' stems fill one
    side of it (about half of its length, against a few percent beside a rule).
    """
    from scipy import ndimage

    near = ndimage.uniform_filter1d(block, size=3, axis=0, mode="constant")
    above = np.zeros_like(near)
    below = np.zeros_like(near)
    above[_SIDE_OFFSET:] = near[:-_SIDE_OFFSET]
    below[:-_SIDE_OFFSET] = near[_SIDE_OFFSET:]
    side = np.maximum(
        ndimage.uniform_filter1d(above, size=size, axis=1, mode="constant"),
        ndimage.uniform_filter1d(below, size=size, axis=1, mode="constant"),
    )
    return np.asarray(side < _MAX_SIDE_INK)


def _row_blocks(rows: np.ndarray, pad: int, limit: int) -> list[tuple[int, int]]:
    """Contiguous row ranges covering ``rows`` with ``pad`` rows of context on either side."""
    blocks: list[tuple[int, int]] = []
    for row in rows.tolist():
        top, bottom = max(0, row - pad), min(limit, row + pad + 1)
        if blocks and top <= blocks[-1][1]:
            blocks[-1] = (blocks[-1][0], bottom)
        else:
            blocks.append((top, bottom))
    return blocks


def erase_specks(gray: Image.Image, config: TextLayerConfig) -> Image.Image:
    """Lone dark specks (one pixel, or two touching) painted over with paper.

    Scanner dust beside a word comes back glued to it ('Vielen.', 'Nr::', '.LS-913651'), and a
    page read with fewer specks gives tesseract fewer blobs to try. Nothing printed is that
    small at ``speck_min_dpi`` or more: a 7 pt full stop or i-dot is three pixels or more at
    200 dpi (one or two at 150 dpi, where nothing is erased). Unlike the median filter (kept for
    heavily speckled pages) this leaves thin strokes untouched.
    """
    pixels = np.asarray(gray, dtype=np.uint8)
    dark = (pixels < config.speck_ink_level).view(np.uint8)
    neighbours = _box3_sum(dark) - dark
    single = dark & (neighbours == 1)
    beside_single = _box3_sum(single) - single
    erase = (dark == 1) & ((neighbours == 0) | ((single == 1) & (beside_single > 0)))
    if not erase.any():
        return gray
    out = pixels.copy()
    out[erase] = 255
    return Image.fromarray(out)


def _box3_sum(values: np.ndarray) -> np.ndarray:
    """Sum over each pixel's 3x3 neighbourhood (itself included), zero outside the image."""
    rows = values.copy()
    rows[:, 1:] += values[:, :-1]
    rows[:, :-1] += values[:, 1:]
    total = rows.copy()
    total[1:] += rows[:-1]
    total[:-1] += rows[1:]
    return total


def turn(gray: Image.Image, clockwise: int) -> Image.Image:
    if clockwise % 360 == 0:
        return gray
    return gray.rotate(-clockwise, expand=True)


def straighten(gray: Image.Image, skew: float) -> Image.Image:
    return gray.rotate(-skew, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)


def _quality(lines: list[Line]) -> float:
    words = [w for line in lines for w in line.words]
    if not words:
        return 0.0
    return sum(w.confidence for w in words) / len(words)


def _well_read(lines: list[Line]) -> int:
    """Words tesseract is sure of and that look like words: 3+ letters or digits, conf >= 0.6."""
    return sum(
        1
        for line in lines
        for w in line.words
        if w.confidence >= 0.6 and sum(ch.isalnum() for ch in w.text) >= 3
    )


def looks_misread(lines: list[Line], config: TextLayerConfig) -> bool:
    """A reading that suggests the page is turned: low confidence, or mostly fragments.

    Sideways text gives hundreds of confident one- and two-letter fragments (mean confidence
    ~0.65, but only ~2% real words); upright scans on the sample corpus have 65-90% real words.
    """
    words = sum(len(line.words) for line in lines)
    if not words:
        return True
    return (
        _quality(lines) < config.osd_below_confidence
        or _well_read(lines) / words < config.osd_below_word_share
    )


def _straight(gray: Image.Image, config: TextLayerConfig) -> tuple[Image.Image, float]:
    """The page levelled by its measured skew (left alone under ``min_deskew_degrees``)."""
    facts = analyse(gray, config)
    skew = facts.skew if abs(facts.skew) >= config.min_deskew_degrees else 0.0
    return (straighten(gray, skew) if skew else gray), skew


def _clean_for_tesseract(upright: Image.Image, config: TextLayerConfig, dpi: float) -> Image.Image:
    """Despeckle, invert light-on-dark bands, erase rules and specks: what tesseract reads."""
    # Salt-and-pepper noise costs tesseract both accuracy and time (it tries to read every
    # dot); a 3x3 median removes it and leaves 8 pt glyphs at 300 dpi intact.
    if speckle_share(upright) > config.speckle_threshold:
        upright = upright.filter(ImageFilter.MedianFilter(3))
    if config.invert_dark_regions:
        upright = invert_dark_regions(upright, config)
    if config.remove_rules:
        upright = remove_rules(upright, config)
    if config.erase_specks and dpi >= config.speck_min_dpi:
        upright = erase_specks(upright, config)
    return upright


@dataclass(slots=True)
class _Reading:
    lines: list[Line]
    straight: Image.Image  # the upright, levelled page before tesseract's clean-up
    cleaned: Image.Image  # ... and after it: what tesseract read
    skew: float
    engine: str  # the tesseract (library or program) and version that read it


def _read_upright(gray: Image.Image, config: TextLayerConfig, dpi: float) -> _Reading:
    """Straighten, clean up and OCR with tesseract an image that is already the right way up."""
    straight, skew = _straight(gray, config)
    cleaned = _clean_for_tesseract(straight, config, dpi)
    read = tesseract.read_page(cleaned, config)
    return _Reading(read.lines, straight, cleaned, skew, read.engine)


@dataclass(frozen=True, slots=True)
class EngineChoice:
    engine: Literal["tesseract", "rapidocr"]
    reason: str


def choose_engine(lines: list[Line], settings: OCREngineSettings) -> EngineChoice:
    """Keep tesseract's reading of a page, or read it again with RapidOCR (see OCREngineSettings).

    Tesseract's own confidences measure how well it read: clean scans and renders sit near 0.9
    mean with few doubtful words; photographed and thermal-print receipts fall well below.
    """
    if settings.engine != "auto":
        return EngineChoice(settings.engine, f"{settings.engine} set in the configuration")
    words = [w for line in lines for w in line.words]
    if not words:
        return EngineChoice("rapidocr", "tesseract read no words")
    mean = sum(w.confidence for w in words) / len(words)
    doubtful = sum(w.confidence < settings.doubtful_confidence for w in words) / len(words)
    facts = f"tesseract mean confidence {mean:.2f}, doubtful words {doubtful:.2f}"
    if mean < settings.min_mean_confidence:
        return EngineChoice("rapidocr", f"{facts}: mean below {settings.min_mean_confidence:.2f}")
    if doubtful > settings.max_doubtful_share:
        return EngineChoice("rapidocr", f"{facts}: doubtful share above {settings.max_doubtful_share:.2f}")
    return EngineChoice("tesseract", facts)


def mend_amounts(lines: list[Line]) -> list[Line]:
    """Amounts the OCR cut at their decimal separator or whose cents it read as letters.

    Both engines read the wide full stop of receipt print as the end of a word ("TOTAL 18. 40"):
    the amount then reaches the extractors as "18." and "40", neither of them the total. Print
    never sets a space after a decimal separator, so a word ending in digits and a separator
    followed closely on its line by exactly two digits is one amount. The recognizers also read
    the zero of faint or broken print as a round letter ("18.4c"); after digits and a decimal
    separator only digits are printed, so such a letter in the two places after it is a zero.
    """
    return [_zero_cents(line) for line in join_split_decimals(lines)]


def _zero_cents(line: Line) -> Line:
    if not any(_CENTS_WITH_LETTERS.fullmatch(w.text) for w in line.words):
        return line
    words = []
    for word in line.words:
        match = _CENTS_WITH_LETTERS.fullmatch(word.text)
        if match is not None and not match.group(2).isdigit():
            word = dataclasses.replace(word, text=match.group(1) + match.group(2).translate(_ZERO_LOOKALIKES))
        words.append(word)
    return Line(words=words)


def join_underscores(lines: list[Line], gray: Image.Image) -> list[Line]:
    """Two words of a line joined with "_" where the page prints an underscore between them.

    Tesseract reads "R_26233930" as "R 26233930": its models drop the stroke (and its box may
    take it into the next word's). An underscore is a thin stroke at the foot of the text that
    starts where the first word ends and has nothing printed over it; an underline runs on
    under the letters of the first word too, so it joins nothing.
    """
    pixels: np.ndarray | None = None
    ink = np.zeros((0, 0), dtype=bool)
    out: list[Line] = []
    for line in lines:
        words: list[Word] = []
        for word in line.words:
            last = words[-1] if words else None
            if last is not None and word.x0 - last.x1 <= _UNDERSCORE_MAX_GAP * max(last.height, word.height):
                if pixels is None:
                    pixels = np.asarray(gray, dtype=np.uint8)
                    ink = pixels < 128
                if _underscore_after(pixels, ink, last, word):
                    words[-1] = Word(
                        text=f"{last.text}_{word.text}",
                        bbox=union([last.bbox, word.bbox]),
                        confidence=min(last.confidence, word.confidence),
                        size=max(last.size or 0.0, word.size or 0.0) or None,
                        bold=last.bold,
                    )
                    continue
            words.append(word)
        out.append(Line(words=words) if len(words) != len(line.words) else line)
    return out


def _underscore_after(pixels: np.ndarray, ink: np.ndarray, left: Word, right: Word) -> bool:
    """True when a lone thin stroke at the words' foot runs from ``left``'s end towards ``right``."""
    height = max(left.height, right.height)
    end = round(left.x1)
    span = max(3, round(_UNDERSCORE_MAX_GAP * height))
    # From the foot of the text (the lower word box ends at the baseline, or takes the stroke
    # in) to a little under it: a rule under a totals line is lower.
    foot = min(left.bottom, right.bottom)
    first, last = round(foot - 1), round(foot + 0.3 * height)
    top = round(min(left.top, right.top))
    if end - span < 0 or end + span > pixels.shape[1] or top < 0 or last + height > pixels.shape[0]:
        return False
    for row in range(first, last + 1):
        run = ink[row, end - 1 : end + span]
        # The run starts at the first word's end (a pixel's slack either side) ...
        if not run[:4].any():
            continue
        start = int(np.argmax(run))
        if run[start:].all():
            continue  # runs on under the second word: an underline
        length = int(np.argmin(run[start:]))
        if length < 0.3 * height:
            continue
        cols = slice(end - 1 + start, end - 1 + start + length)
        thick = ink[row - 3 : row + 4, cols].mean(axis=1) > _UNDERSCORE_COVER
        # ... is thin, has paper over it up to the words' top and under it (not the top of a
        # letter of the line below), and does not run on under the first word's letters ...
        if thick.sum() > max(2, 0.2 * height):
            continue
        if (
            ink[top : row - 2, cols].mean() > 0.05
            or ink[row + 3 : row + round(0.5 * height), cols].mean() > 0.05
        ):
            continue
        # Under the letters either side, a light grey line counts: an underline scans fainter
        # than print, and breaks up where it is faint.
        reach = round(0.5 * height)
        beside = (
            pixels[row - 1 : row + 2, max(0, end - reach) : end - 2],
            pixels[row - 1 : row + 2, cols.stop + 2 : cols.stop + 2 + reach],
        )
        if any(part.size and (part < 200).mean(axis=1).max() >= 0.5 for part in beside):
            continue
        return True
    return False


def join_split_decimals(lines: list[Line]) -> list[Line]:
    """Words ending in digits and a decimal separator joined with the two digits after them."""
    out: list[Line] = []
    for line in lines:
        words: list[Word] = []
        for word in line.words:
            last = words[-1] if words else None
            if (
                last is not None
                and _SPLIT_UNITS.fullmatch(last.text)
                and _SPLIT_CENTS.fullmatch(word.text)
                and word.x0 - last.x1 <= _SPLIT_MAX_GAP * max(last.height, word.height)
            ):
                words[-1] = Word(
                    text=last.text + word.text,
                    bbox=union([last.bbox, word.bbox]),
                    confidence=min(last.confidence, word.confidence),
                    size=max(last.size or 0.0, word.size or 0.0) or None,
                    bold=last.bold,
                )
            else:
                words.append(word)
        out.append(Line(words=words) if len(words) != len(line.words) else line)
    return out


def image_kind(image: Image.Image) -> ImageKind:
    """A photo or a scan, told from how the file was written, before any OCR runs.

    Cameras and phones write JPEG and record no resolution, or a nominal 72 dpi; scanners
    record the resolution they scanned at (100-1200 dpi), and scans and renders are also kept
    as PNG, TIFF or PDF. The image must be the one opened from the file (its ``format`` set).
    """
    if image.format != "JPEG":
        return "scan"
    stored = image.info.get("dpi")
    if isinstance(stored, tuple) and stored and isinstance(stored[0], int | float) and stored[0] >= 100:
        return "scan"
    return "photo"


def ocr_image(
    image: Image.Image, config: TextLayerConfig, dpi: float | None = None, kind: ImageKind = "scan"
) -> OCRPage:
    """OCR a page image (any mode); returns lines in pixel coordinates of the corrected frame.

    ``dpi`` is the image's resolution when the caller knows it (a rendered PDF page); otherwise
    it is taken from the file or estimated (``estimate_dpi``). ``kind`` is ``image_kind`` of the
    file: a photo goes to RapidOCR straight away (``OCREngineSettings.photos_to_rapidocr``).
    OSD runs only when the first reading is weak: on the sample corpus no upright page needed
    it, and it costs about as much as the OCR pass itself. A page tesseract reads poorly is read
    again by RapidOCR (``choose_engine``) in the same corrected frame; RapidOCR gets the levelled
    page without tesseract's clean-up, which on the development receipts cost it words.
    """
    from textlayer.rapid import rapidocr_version, rapidocr_words

    gray = to_gray(image)
    dpi = dpi or estimate_dpi(image)
    settings = config.engines
    photo = kind == "photo"
    photo_first = settings.engine == "auto" and photo and settings.photos_to_rapidocr
    if settings.engine == "rapidocr" or photo_first:
        straight, skew = _straight(gray, config)
        if settings.engine == "rapidocr":
            lines, reason = rapidocr_words(straight, settings, photo), choose_engine([], settings).reason
        else:
            # A photo RapidOCR cannot read at all is still worth tesseract's reading below.
            try:
                lines = rapidocr_words(straight, settings, photo)
            except OCRFailed:
                lines = []
            reason = "a photo (JPEG without a scan resolution): read by RapidOCR"
        if lines or settings.engine == "rapidocr":
            return OCRPage(
                lines=mend_amounts(lines),
                width=straight.width,
                height=straight.height,
                rotation=0,
                skew=skew,
                engine=rapidocr_version(settings),
                choice=reason,
            )
    reading = _read_upright(gray, config, dpi)
    rotation = 0
    osd_runs = 0
    if looks_misread(reading.lines, config) and _ink_points(gray)[2] > 0.002:
        osd_runs = 1
        turn_by = detect_orientation(gray, config)
        if turn_by:
            candidate = _read_upright(turn(gray, turn_by), config, dpi)
            if _well_read(candidate.lines) > _well_read(reading.lines):
                reading, rotation = candidate, turn_by
    if config.join_underscores:
        # On the page as scanned: a rule under a line of words, or what the clean-up left of
        # it beside the letters, runs on under them there.
        reading.lines = join_underscores(reading.lines, reading.straight)
    choice = choose_engine(reading.lines, settings)
    lines, engine, reason = reading.lines, reading.engine, choice.reason
    if choice.engine == "rapidocr":
        # A second reading that fails or finds nothing never costs the page tesseract's words.
        try:
            second = [] if photo_first else rapidocr_words(reading.straight, settings, photo)
            kept = "rapidocr read no words"
        except OCRFailed as error:
            second, kept = [], error.message
        if second:
            lines, engine = second, rapidocr_version(settings)
        else:
            reason = f"{reason}; kept tesseract: {kept}"
    if engine == reading.engine:
        # Only a reading kept from tesseract: RapidOCR finds each column's rows by itself.
        lines, bands = reread_columns(
            lines, reading.cleaned, lambda piece: tesseract.read_page(piece, config).lines, config.columns
        )
        if bands:
            reason = f"{reason}; {bands} band(s) of side-by-side columns read again column by column"
    return OCRPage(
        lines=mend_amounts(lines),
        width=reading.straight.width,
        height=reading.straight.height,
        rotation=rotation,
        skew=reading.skew,
        osd_runs=osd_runs,
        engine=engine,
        choice=reason,
    )


def estimate_dpi(image: Image.Image) -> float:
    """An image file's resolution: as stored when plausible, else as if it were a page.

    Phones and some scanners store 72 dpi or nothing; the shorter side of an A4 or Letter page
    is 8.3-8.5 inches, so a page image's shorter side in pixels over 8.5 is a low estimate.
    """
    stored = image.info.get("dpi")
    if (
        isinstance(stored, tuple)
        and stored
        and isinstance(stored[0], int | float)
        and 100 <= stored[0] <= 1200
    ):
        return float(stored[0])
    return min(image.size) / 8.5


def scale_lines(lines: list[Line], factor: float) -> list[Line]:
    """Pixel boxes to another unit (PDF points for rendered PDF pages)."""
    if factor == 1.0:
        return lines
    return [
        Line(
            words=[
                Word(
                    text=w.text,
                    bbox=(
                        round(w.bbox[0] * factor, 2),
                        round(w.bbox[1] * factor, 2),
                        round(w.bbox[2] * factor, 2),
                        round(w.bbox[3] * factor, 2),
                    ),
                    confidence=w.confidence,
                    size=round((w.bbox[3] - w.bbox[1]) * factor, 2),
                    bold=w.bold,
                )
                for w in line.words
            ]
        )
        for line in lines
    ]
