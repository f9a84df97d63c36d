"""Page geometry for the generic extractor: words regrouped into visual rows and gap-separated segments.

The text layer's lines follow its own reading order; label/value geometry needs rows that span
the whole page width (a totals label at the left and its amount at the far right are one row)
and segments that do not (two columns side by side are two segments of one row).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from statistics import median

from extractors.generic.settings import DEFAULT
from extractors.values import find_ibans, find_tax_ids, parse_date
from textlayer.model import BBox, Page, Word, union


@dataclass(slots=True)
class Row:
    page: int
    words: list[Word]
    index: int = 0
    segments: list[list[int]] = field(default_factory=list)  # word indexes per segment
    # top, bottom and median height, worked out once for the word list they were taken from:
    # label and table searches ask a row for them thousands of times.
    _extent: tuple[list[Word], int, float, float, float] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> BBox:
        return union([w.bbox for w in self.words])

    def _measured(self) -> tuple[list[Word], int, float, float, float]:
        extent = self._extent
        words = self.words
        if extent is None or extent[0] is not words or extent[1] != len(words):
            top, bottom = min(w.top for w in words), max(w.bottom for w in words)
            extent = (words, len(words), top, bottom, median(w.height for w in words))
            self._extent = extent
        return extent

    @property
    def top(self) -> float:
        return self._measured()[2] if self.words else min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return self._measured()[3] if self.words else max(w.bottom for w in self.words)

    @property
    def height(self) -> float:
        return self._measured()[4] if self.words else median(w.height for w in self.words)

    def text_of(self, start: int, end: int) -> str:
        return " ".join(w.text for w in self.words[start:end])

    def box_of(self, start: int, end: int) -> BBox:
        return union([w.bbox for w in self.words[start:end]])

    @property
    def breaks(self) -> set[int]:
        """Indexes of the words that start a segment after a wide gap (not the row's first)."""
        return {segment[0] for segment in self.segments[1:]}

    def segment_of(self, index: int) -> list[int]:
        for segment in self.segments:
            if index in segment:
                return segment
        return [index]


# "Date:14/03/2026", "Invoice#INV-1": a label glued to its value by a missing space.
_GLUED = re.compile(r"([^\W\d_](?:[^\W\d_]|[-.](?=[^\W\d_]))+\.?[:#])(?!//)(\S+)")


# "00990811/03/2023", "174613.04.2026": a number glued to the date printed after it (a
# narrow receipt line, a missing space). The date takes the last ten characters, day first.
_GLUED_DATE = re.compile(r"(\S*[A-Za-z0-9])(\d{2}([./-])\d{2}\3(?:19|20)\d{2})")
# "36,30antes del 28 de febrero": an amount glued to the word after it by a space OCR lost.
_AMOUNT_WORD = re.compile(r"(\d{1,3}(?:[.,]\d{3})*[.,]\d{2})([^\W\d_A-Z]{3,})")
# "05/11/202420:13": a date glued to the time after it.
_LEADING_COLON = re.compile(r":[^\W_][\w/.-]{2,}")
_DATE_TIME = re.compile(
    r"(\d{1,2}([./-])\d{1,2}\2(?:19|20)\d{2})(\d{1,2}:\d{2}(?::\d{2})?(?:[AaPp]\.?[Mm]\.?)?)"
)


def split_glued(word: Word) -> list[Word]:
    """A word that is a label glued to its value, a number glued to a date or a date glued to
    a time, as two words with boxes shared by length."""
    match = _GLUED.fullmatch(word.text) or _glued_date(word.text)
    if match is not None:
        label, value = match.group(1), match.group(2)
    elif timed := _DATE_TIME.fullmatch(word.text):
        label, value = timed.group(1), timed.group(3)
    elif glued := _AMOUNT_WORD.fullmatch(word.text):
        label, value = glued.group(1), glued.group(2)
    elif _LEADING_COLON.fullmatch(word.text):
        # OCR set the label's colon on its value: "Rechnungsnummer" ":25/25-52561".
        label, value = ":", word.text[1:]
    else:
        return [word]
    return _cut(word, len(label), len(word.text) - len(value))


def _cut(word: Word, head_end: int, tail_start: int) -> list[Word]:
    """The word as its characters up to ``head_end`` and from ``tail_start`` on, the box shared
    by length (the characters between, a space or nothing, are dropped)."""
    x0, top, x1, bottom = word.bbox
    cut = x0 + (x1 - x0) * head_end / len(word.text)
    return [
        dataclasses.replace(word, text=word.text[:head_end], bbox=(x0, top, cut, bottom)),
        dataclasses.replace(word, text=word.text[tail_start:], bbox=(cut, top, x1, bottom)),
    ]


def cut_words(row: Row, cuts: dict[int, int]) -> None:
    """Cut words of the row in two where a label ends inside them and its value begins
    (``cuts``: word index -> first character of the value), so the value is a word of its own."""
    words: list[Word] = []
    for index, word in enumerate(row.words):
        at = cuts.get(index, 0)
        words.extend(_cut(word, at, at) if 0 < at < len(word.text) else [word])
    row.words = words
    row.segments = _segments(words)


def _glued_date(text: str) -> re.Match[str] | None:
    """A number of three characters or more glued to a valid day.month.year after it."""
    match = _GLUED_DATE.fullmatch(text)
    if match is None or len(match.group(1)) < 3 or not any(c.isdigit() for c in match.group(1)):
        return None
    day, month = int(match.group(2)[:2]), int(match.group(2)[3:5])
    return match if 1 <= day <= 31 and 1 <= month <= 12 else None


# "148..20", "12,,50": a decimal mark OCR read twice (a speck beside it) before the cents.
_DOUBLED_MARK = re.compile(r"(?<=\d)([.,])\1(?=\d{2}(?:\D|$))")


# "O,00", "CHFO.00": a zero before the decimal mark read as the letter O (a tax of nothing).
_LETTER_ZERO = re.compile(r"^((?:[€$£]|EUR|CHF|USD|GBP)?[-−]?)[Oo](?=[.,]\d{2}$)")


# "22,6.2025", "22.6,2025": a dotted date with one dot read as a comma.
_COMMA_DATE = re.compile(r"\d{1,2}[.,]\d{1,2}[.,](?:19|20)\d{2}")


# A day, a month and a year with marks between them that no date prints ("19:04°2025").
_NOISY_DATE = re.compile(r"(\d{1,2})([^\w\s])(\d{1,2})([^\w\s])((?:19|20)\d{2})")
_DATE_MARKS = frozenset({".", "/", "-"})
# A day and a month of two digits each and a four-digit year with one of the two slashes read as
# a "1" ("14103/2025", "14/0312025").
_SLASH_AS_ONE = re.compile(
    r"(?P<day>\d{2})(?:1(?P<month>\d{2})/|/(?P<month2>\d{2})1)(?P<year>(?:19|20)\d{2})"
)


def mend_doubled_mark(word: Word) -> Word:
    """The word with a doubled decimal mark read once ("148..20" -> "148.20"), an amount of
    nothing with its zero read as the letter O ("O,00", "CHFO.00") read as a zero, a dotted
    date with one dot read as a comma ("22,6.2025") read with dots, and a date with a mark no date
    prints between its numbers ("19:04°2025", "12-03:2025") read with the date's own mark, or with
    a slash OCR read as a "1" ("14103/2025")."""
    text = _LETTER_ZERO.sub(r"\g<1>0", _DOUBLED_MARK.sub(r"\1", word.text))
    if "," in text and "." in text and _COMMA_DATE.fullmatch(text):
        dotted = text.replace(",", ".")
        text = dotted if parse_date(dotted) is not None else text
    elif (noisy := _NOISY_DATE.fullmatch(text)) is not None and {noisy[2], noisy[4]} - _DATE_MARKS - {","}:
        # "19:04°2025": a separator no date prints, read from a dash or a stop; the other one, if
        # it is a date's, stands for both. A comma is an amount's mark ("22,6,2025" stays).
        mark = next((m for m in (noisy[2], noisy[4]) if m in _DATE_MARKS), ".")
        mended = f"{noisy[1]}{mark}{noisy[3]}{mark}{noisy[5]}"
        text = mended if parse_date(mended) is not None else text
    elif (lost := _SLASH_AS_ONE.fullmatch(text)) is not None and parse_date(text) is None:
        # "14103/2025": one of a date's two slashes read as the "1" it looks like.
        month = lost["month"] or lost["month2"]
        mended = f"{lost['day']}/{month}/{lost['year']}"
        text = mended if parse_date(mended) is not None else text
    return word if text == word.text else dataclasses.replace(word, text=text)


# "RE0O213", "1O5": the letter O amid digits is a zero; so is an O OCR was unsure of between a
# number's letters and its zeros ("KLO0004711"): no number continues a prefix ending in O with
# a zero where OCR read it with confidence.
_O_AMID_DIGITS = re.compile(r"(?<=\d)[Oo](?=\d)")
_O_BEFORE_ZERO = re.compile(r"(?<=[A-Z])O(?=0)")


# "P0-4711", "A0B/12": a zero among the capitals of a number's prefix, before the separator
# and the digits, is the letter O (no prefix mixes its letters with a lone zero). Not before a
# decimal mark: "CHF0.00" is an amount.
_ZERO_AMID_LETTERS = re.compile(r"^(?=[A-Z]*0[A-Z]*[-/_]\d)([A-Z]*)0(?=[A-Z]*[-/_])")
# A capital's abbreviation with full stops ("V.0.F.", "S.0.C."): a zero in it is the letter O.
_DOTTED_CAPITALS = re.compile(r"(?:[A-Z0]\.){2,}")


def mend_letter_o(word: Word, doubtful: float) -> Word:
    """The word with the letter O OCR read for a zero in a number read as a zero: amid digits
    always, after the number's letters and before its zeros when OCR read the word with less
    confidence than ``doubtful``; and a zero read for the O among a prefix's capitals, or in an
    abbreviation of capitals with full stops ("V.0.F."), read as the letter."""
    text = _O_AMID_DIGITS.sub("0", word.text)
    if word.confidence < doubtful:
        text = _O_BEFORE_ZERO.sub("0", text)
    if (match := _ZERO_AMID_LETTERS.match(text)) is not None and (
        match.group(1) or text[match.end()].isalpha()
    ):
        text = f"{match.group(1)}O{text[match.end() :]}"
    if "0" in text and _DOTTED_CAPITALS.fullmatch(text) and any(c.isalpha() for c in text):
        text = text.replace("0", "O")
    return word if text == word.text else dataclasses.replace(word, text=text)


# "LockwoodLtd", "Carlisle&": a legal form or an ampersand OCR glued to the word of the name
# before it (RapidOCR reads a line's words with narrow spaces as one, Tesseract a narrow gap).
# A form written with full stops ("Hofmanne.K.", "CostaS.L.U.") is glued the same way.
_GLUED_FORM = re.compile(
    r"(\w*[a-zäöüßéèàçñ])(GmbH|Ltd\.?|LLP|LLC|Inc\.?|SARL|SASU|EURL|OHG|AG|KG"
    r"|e\.[KVU]\.|a\.G\.|S\.L\.(?:U\.)?|S\.A\.|S\.r\.l\.|S\.p\.A\.|S\.a\.s\.|S\.n\.c\.|B\.V\.|N\.V\.)"
)
_GLUED_AMPERSAND = re.compile(r"(\w*[^\W\d_])(&)")


def split_glued_form(word: Word) -> list[Word]:
    """A word OCR read with a legal form or an ampersand glued to its end, as two words."""
    match = _GLUED_FORM.fullmatch(word.text) or _GLUED_AMPERSAND.fullmatch(word.text)
    if match is None:
        return [word]
    return _cut(word, len(match.group(1)), len(match.group(1)))


# A numeric date whole: "26/11/2023", "06.11.23", "2024-01-31".
_NUMERIC_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}-\d{1,2}-\d{1,2}")


def mend_split_dates(words: list[Word]) -> list[Word]:
    """A row's words (left to right) with a date OCR split at a gap inside it ("26/1 1/2023")
    read as one word: the two parts are a word space apart at most, neither is a date, and
    together they are one."""
    out: list[Word] = []
    for word in words:
        last = out[-1] if out else None
        joined = (last.text if last else "") + word.text
        if (
            last is not None
            and word.x0 - last.x1 < 0.6 * max(last.height, word.height)
            and _NUMERIC_DATE.fullmatch(joined)
            and parse_date(joined) is not None
            and parse_date(last.text) is None
            and parse_date(word.text) is None
        ):
            out[-1] = Word(
                joined,
                union([last.bbox, word.bbox]),
                min(last.confidence, word.confidence),
                last.size,
                last.bold,
            )
        else:
            out.append(word)
    return out


def clip_overruns(words: list[Word]) -> list[Word]:
    """A line's words as OCR read them, each ending where the next begins: OCR may box a word
    over the words it read after it on the same baseline ("IBAN:DE89" boxed to the end of the
    groups that follow), and sorted by their boxes those words would come first."""
    out = list(words)
    for i, (word, after) in enumerate(itertools.pairwise(words)):
        shared = min(word.bottom, after.bottom) - max(word.top, after.top)
        beside = shared > 0.5 * min(word.height, after.height)
        if beside and word.x0 < after.x0 < word.x1:
            x0, top, _, bottom = out[i].bbox
            out[i] = dataclasses.replace(out[i], bbox=(x0, top, after.x0, bottom))
    return out


def build_rows(page: Page) -> list[Row]:
    """Words grouped by vertical overlap into rows (top to bottom), each sorted left to right.
    On an OCR'd page a word boxed over the words read after it ends where they begin, a
    decimal mark read twice is read once, the letter O read for a zero in a number is a zero,
    and a date split at a gap inside it ("26/1 1/2023") is one word."""
    read = (
        [
            part
            for line in page.lines
            for w in clip_overruns(line.words)
            for part in split_glued_form(mend_letter_o(mend_doubled_mark(w), DEFAULT.doubtful_read))
        ]
        if page.source == "ocr"
        else page.words
    )
    turned = _sideways_words(read) if page.source != "ocr" else []
    if turned:
        sideways = {id(w) for w in turned}
        read = [w for w in read if id(w) not in sideways]
    words = sorted((part for w in read for part in split_glued(w)), key=lambda w: (w.top + w.bottom) / 2)
    if not words and not turned:
        return []
    rows: list[list[Word]] = []
    current: list[Word] = []
    # The current row's sum of word centres and its tallest letters, kept as words join it
    # (the same sums and maxima as over the whole row each time, in the same order).
    centres = 0.0
    tallest: float | None = None
    for word in words:
        centre = (word.top + word.bottom) / 2
        if current:
            ref = current[-1]
            ref_centre = centres / len(current)
            # A mark's box is as flat as its ink ("-", "·" between a name and its address): it is
            # placed by the height of the letters around it, not by its own.
            letters = tallest if tallest is not None else ref.height
            heights = [letters if _mark(w.text) else w.height for w in (word, ref)]
            tolerance = max(1.0, 0.45 * min(heights))
            if abs(centre - ref_centre) > tolerance:
                rows.append(current)
                current, centres, tallest = [], 0.0, None
        current.append(word)
        centres += centre
        if not _mark(word.text):
            tallest = word.height if tallest is None else max(tallest, word.height)
    if current:
        rows.append(current)
    out: list[Row] = []
    for index, row_words in enumerate(rows):
        row_words.sort(key=lambda w: w.x0)
        if page.source == "ocr":
            row_words = mend_split_dates(row_words)
        row = Row(page=page.number, words=row_words, index=index)
        row.segments = _segments(row_words)
        out.append(row)
    # Sideways print (a legal line along the margin) reads as rows of its own after the page's
    # rows, so the upright rows keep their order and the margin's words read as one line.
    for run in _sideways_runs(turned):
        out.append(Row(page=page.number, words=run, index=len(out), segments=[list(range(len(run)))]))
    return out


def _mark(text: str) -> bool:
    """A word of punctuation alone: a separator, a dash, a dot."""
    return not any(c.isalnum() for c in text)


def _turned(word: Word) -> bool:
    """A word printed sideways: several characters in a box much taller than wide."""
    x0, top, x1, bottom = word.bbox
    return len(word.text) >= 3 and (bottom - top) > SIDEWAYS_ASPECT * max(x1 - x0, 0.1)


# A word is sideways when its box is this many times taller than wide (upright words of three
# characters or more are wider than tall).
SIDEWAYS_ASPECT = 2.0


def _sideways_words(words: list[Word]) -> list[Word]:
    """Words printed sideways: the long ones by their shape, and every word inside the narrow
    strip they stand in (short numbers, dashes), which no upright word of the page fits in."""
    seeds = [w for w in words if _turned(w)]
    if not seeds:
        return []
    strips: list[list[float]] = []  # x0, x1, top, bottom of each strip of sideways words
    for word in sorted(seeds, key=lambda w: w.x0):
        strip = next((s for s in strips if h_overlap((s[0], 0, s[1], 1), word.bbox) >= 0.5), None)
        if strip is None:
            strips.append([word.x0, word.x1, word.top, word.bottom])
        else:
            strip[:] = [
                min(strip[0], word.x0),
                max(strip[1], word.x1),
                min(strip[2], word.top),
                max(strip[3], word.bottom),
            ]
    out: dict[int, Word] = {}
    for x0, x1, top, bottom in strips:
        inside = sorted((w for w in words if x0 - 1 <= w.x0 and w.x1 <= x1 + 1), key=lambda w: w.top)
        reach = 3 * (x1 - x0)
        # The strip grows along its words: a short word beyond its end joins when it is near.
        for word in inside:
            if top - reach <= word.top <= bottom + reach:
                out[id(word)] = word
                bottom = max(bottom, word.bottom)
        for word in reversed(inside):
            if top - reach <= word.bottom <= bottom + reach:
                out[id(word)] = word
                top = min(top, word.top)
    return list(out.values())


def _sideways_runs(words: list[Word]) -> list[list[Word]]:
    """Sideways words as lines in reading order: one column of words per line, a wide gap along
    it starting another. Text turned counter-clockwise reads upwards, turned clockwise downwards;
    the words alone do not say which, so the order whose text holds a VAT id or an IBAN wins, and
    upwards (the usual margin print) otherwise."""
    columns: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.x0, w.top)):
        column = next((c for c in columns if h_overlap(c[0].bbox, word.bbox) >= 0.5), None)
        if column is None:
            columns.append([word])
        else:
            column.append(word)
    runs: list[list[Word]] = []
    for column in columns:
        column.sort(key=lambda w: w.top)
        width = median(w.x1 - w.x0 for w in column)
        run = [column[0]]
        for word in column[1:]:
            if word.top - run[-1].bottom > 2.5 * width:
                runs.append(run)
                run = []
            run.append(word)
        runs.append(run)
    return [_reading_order(run) for run in runs]


def _reading_order(run: list[Word]) -> list[Word]:
    upwards = run[::-1]
    down, up = (" ".join(w.text for w in ws) for ws in (run, upwards))
    if _identifiers(down) > _identifiers(up):
        return run
    return upwards


def _identifiers(text: str) -> int:
    return sum(1 for _ in find_tax_ids(text)) + sum(1 for _ in find_ibans(text))


def _segments(words: list[Word]) -> list[list[int]]:
    """Split a row where the gap between two words is much wider than a space."""
    if not words:
        return []
    height = median(w.height for w in words)
    segments: list[list[int]] = [[0]]
    for i in range(1, len(words)):
        gap = words[i].x0 - words[i - 1].x1
        if gap > 1.6 * height:
            segments.append([i])
        else:
            segments[-1].append(i)
    return segments


def h_overlap(a: BBox, b: BBox) -> float:
    """Horizontal overlap of two boxes as a share of the narrower one (0..1)."""
    inter = min(a[2], b[2]) - max(a[0], b[0])
    width = min(a[2] - a[0], b[2] - b[0])
    return max(0.0, inter) / width if width > 0 else 0.0
