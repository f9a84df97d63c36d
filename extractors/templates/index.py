"""Finds the templates that may apply to a document without trying every template in turn.

Templates are indexed once by the vendor identity they name (VAT id, IBAN, the rarest word of
each vendor name). A document's own VAT ids, IBANs and words are read once and looked up, so
the cost of matching stays the same with a thousand learned templates in the folder as with
none; only templates that match on keywords alone (hand-written layout templates) are checked
one by one, and there are few of them.

On an OCR'd page a name may come out with a slipped letter ("ACMF" for "ACME"): there every
longer word of a name points at its template, and the name counts as printed when a row reads
like it (by similarity), so one slip in any word, the rarest included, still finds the vendor.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz

from extractors.generic.labels import tokens
from extractors.templates.catalog import Entry
from extractors.templates.locate import SETTINGS, DocumentView
from extractors.templates.schema import Template
from extractors.values import TAX_ID_PATTERN as _TAX_ID
from extractors.values import find_ibans, parse_tax_id


def printed_like(name: tuple[str, ...], rows: list[str], similarity: float | None = None) -> bool:
    """Whether one of ``rows`` (folded) reads like the folded ``name`` with OCR slips: the row is
    the name, or holds it among other words (a name and its registration number on one row)."""
    wanted = " ".join(name)
    needed = SETTINGS.fuzzy_name if similarity is None else similarity
    for row in rows:
        if len(row) + 3 < len(wanted):
            continue
        score = fuzz.ratio(wanted, row) if len(row) <= len(wanted) + 3 else fuzz.partial_ratio(wanted, row)
        if score >= needed:
            return True
    return False


def ocr_rows(view: DocumentView) -> list[str]:
    """The folded rows of a document's OCR'd pages, and each with the row under it (a name
    printed over two rows), for ``printed_like``."""
    out: list[str] = []
    for page in view.pages:
        if not page.ocr:
            continue
        rows = [" ".join(toks) for toks, _ in page.row_tokens]
        out.extend(rows)
        out.extend(f"{a} {b}" for a, b in pairwise(rows))
    return out


# A number as a letterhead prints it: digits, grouped by spaces, hyphens or dots ("03-5550 1234",
# "(162761-X)"); a colon or a slash makes it a time or a date.
_NUMBER = re.compile(r"(?<![\d:/])\d[\d\s.\-]*\d(?![\d:/])")
# Digits a number needs to tell one vendor from another (a house number or a year does not).
MIN_NUMBER_DIGITS = 6
# How closely (0-100) a row of a page that prints a vendor's letterhead numbers must read like
# its name: OCR garbles a shop's name in a display typeface beyond the name's own similarity,
# but a different name reads much further from it.
NUMBERS_NAME_SIMILARITY = 70.0


def printed_numbers(text: str) -> list[str]:
    """The digits of each number of ``text`` long enough to name a vendor (money excluded: its
    cents, two digits after a mark at its end, say it is an amount)."""
    out = []
    for match in _NUMBER.finditer(text):
        printed = match.group(0)
        if re.search(r"[.,]\d{2}$", printed):
            continue
        digits = re.sub(r"\D", "", printed)
        if len(digits) >= MIN_NUMBER_DIGITS and digits not in out:
            out.append(digits)
    return out


def identity_key(value: str) -> str:
    """A VAT id or IBAN as compared: upper case, without spaces, dots or hyphens."""
    return re.sub(r"[\s.\-]", "", value).upper()


def name_tokens(name: str) -> tuple[str, ...]:
    return tuple(tokens(name))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a template applies to a document."""

    entry: Entry
    by: str  # "tax_id", "iban", "name" or "keywords"
    score: float

    @property
    def template(self) -> Template:
        return self.entry.template()

    def describe(self) -> str:
        return f"{self.entry.ref} by {self.by}"


class VendorIndex:
    """Templates by identity; ``candidates`` returns those a document's identity points to."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.templates = list(entries)
        self._by_id: dict[str, list[int]] = defaultdict(list)
        self._by_iban: dict[str, list[int]] = defaultdict(list)
        self._by_name: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        self._by_name_word: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        self._by_number: dict[str, list[int]] = defaultdict(list)
        self._keywords_only: list[int] = []
        for i, template in enumerate(self.templates):
            m = template.match
            for tax_id in m.tax_ids:
                self._by_id[identity_key(tax_id)].append(i)
            for iban in m.ibans:
                self._by_iban[identity_key(iban)].append(i)
            for name in m.names:
                toks = name_tokens(name)
                if toks:
                    # The longest word is the rarest one: "le" and "gmbh" would point everywhere.
                    self._by_name[max(toks, key=len)].append((i, toks))
                    for tok in {t for t in toks if len(t) >= SETTINGS.min_name_word}:
                        self._by_name_word[tok].append((i, toks))
            for number in m.numbers:
                self._by_number[number].append(i)
            if not m.has_identity:
                self._keywords_only.append(i)

    def __len__(self) -> int:
        return len(self.templates)

    def candidates(self, view: DocumentView) -> list[Evidence]:
        """Templates whose identity the document prints, best evidence first."""
        text = view.document.text
        found: dict[int, Evidence] = {}

        def add(i: int, by: str, score: float) -> None:
            if i not in found or found[i].score < score:
                found[i] = Evidence(self.templates[i], by, score)

        if self._by_id or self._by_iban:
            for line in text.splitlines():
                if self._by_id:
                    for match in _TAX_ID.finditer(line):
                        parsed = parse_tax_id(match.group(0))
                        for i in self._by_id.get(identity_key(parsed or match.group(0)), []):
                            add(i, "tax_id", 3.0)
                if self._by_iban:
                    for _, iban in find_ibans(line):
                        for i in self._by_iban.get(iban, []):
                            add(i, "iban", 3.0)
        if self._by_name:
            folded = f" {' '.join(tokens(text))} "
            for tok in view.token_set:
                for i, name in self._by_name.get(tok, []):
                    if f" {' '.join(name)} " in folded:
                        add(i, "name", 1.0)
            if any(page.ocr for page in view.pages):
                self._fuzzy_names(view, add)
        if self._by_number:
            printed: dict[int, int] = defaultdict(int)
            for number in {n for line in text.splitlines() for n in printed_numbers(line)}:
                for i in self._by_number.get(number, []):
                    printed[i] += 1
            rows = ocr_rows(view) if printed else []
            for i, count in printed.items():
                if count < min(2, len(self.templates[i].match.numbers)):
                    continue
                # On an OCR'd page only, and with a row that still reads somewhat like the name:
                # another vendor quoting the numbers prints a name of its own there.
                names = [name_tokens(n) for n in self.templates[i].match.names]
                if any(printed_like(n, rows, NUMBERS_NAME_SIMILARITY) for n in names if n):
                    # Below a name printed as learned: the numbers only say who it is when the
                    # name cannot be read.
                    add(i, "numbers", 0.8)
        for i in self._keywords_only:
            add(i, "keywords", 0.5)
        return sorted(found.values(), key=lambda e: -e.score)

    def _fuzzy_names(self, view: DocumentView, add: Callable[[int, str, float], None]) -> None:
        """Names printed with OCR slips: templates a name word points at, confirmed on a row."""
        seen: dict[tuple[int, tuple[str, ...]], set[str]] = defaultdict(set)
        for word in self._name_words(view):
            for i, name in self._by_name_word.get(word, []):
                seen[(i, name)].add(word)
        hits: dict[int, tuple[str, ...]] = {}
        for (i, name), words in seen.items():
            longer = {t for t in name if len(t) >= SETTINGS.min_name_word}
            if len(words) >= SETTINGS.min_name_words_exact * len(longer):
                hits[i] = name
        if not hits:
            return
        rows = ocr_rows(view)
        for i, name in hits.items():
            if printed_like(name, rows):
                # Less than a name printed as learned: identity by tax id or IBAN still wins.
                add(i, "name", 0.9)

    def _name_words(self, view: DocumentView) -> set[str]:
        """The words of a document that may be words of a vendor's name: its words, and on OCR'd
        pages the two words OCR glued into one ("HarbourHardware") or split ("Hard ware")."""
        known = self._by_name_word
        out = {tok for tok in view.token_set if tok in known}
        shortest = SETTINGS.min_name_word
        for page in view.pages:
            if not page.ocr:
                continue
            for toks, _ in page.row_tokens:
                for tok in toks:
                    for cut in range(1, len(tok)):
                        head, tail = tok[:cut], tok[cut:]
                        if len(head) >= shortest and head in known:
                            out.add(head)
                        if len(tail) >= shortest and tail in known:
                            out.add(tail)
                for a, b in pairwise(toks):
                    if a + b in known:
                        out.add(a + b)
        return out
