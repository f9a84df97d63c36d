"""Header-field candidates from label/value geometry: each with a value, a box and ranking features.

A candidate is one possible answer for one field ("total could be 1190.00, from the amount to
the right of 'Total'"). Candidates are generated generously; choosing between them is the job
of the ranker (``ranking.py``) and of the consistency checks (``consistency.py``).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from stdnum import vatin

from extractors.generic import label_words
from extractors.generic.domains import domain_match, names_domain, printed_domains, spelled_spans
from extractors.generic.geometry import Row, h_overlap
from extractors.generic.labels import (
    FIELD_KINDS,
    LABELS,
    LabelMatch,
    fold,
    is_title,
    label_finder,
    ocr_slip,
    tokens,
)
from extractors.generic.settings import DEFAULT
from extractors.values import (
    FIELD_TYPES,
    ISO_CURRENCIES,
    VALUE_TYPES,
    find_currency,
    find_doubtful_ibans,
    find_ibans,
    find_unchecked_ibans,
    iban_guessed,
    iban_structure,
    parse_date,
    parse_iban,
    parse_vat_id,
)
from textlayer.model import BBox, Word, union

HEADER_OUTPUT = tuple(FIELD_TYPES)

# Label kind -> the output fields its value may fill. "date" alone might be the invoice date;
# "vat" might label the tax id or the tax amount (the value type decides).
_LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice_number": ("invoice_number",),
    "invoice_date": ("invoice_date",),
    "date": ("invoice_date",),
    "date_hint": ("invoice_date",),
    "due_date": ("due_date",),
    "due_hint": ("due_date",),
    "po_number": ("po_number",),
    "vendor_tax_id": ("vendor_tax_id",),
    "vendor_iban": ("vendor_iban",),
    "subtotal": ("subtotal",),
    "tax_amount": ("tax_amount",),
    "total": ("total",),
    "currency": ("currency",),
    "doc_title": ("invoice_number",),
    "order_ref": ("po_number",),
}
# Weak cues whose value must follow at once ("Facture FA-2017-0010", "Rechnung 4711 vom 22.05.2014")
# and never sits below them: a title or a "vom" with more words in between names something else.
_ADJACENT_ONLY = frozenset({"doc_title", "date_hint"})
# Labels a word before them may qualify ("Taxable invoice no.", "Commercial Invoice"), and the
# widest gap, in text heights, at which a word still reads as part of them.
_TITLE_KINDS = frozenset({"doc_title", "invoice_number"})
_TITLE_QUALIFIER_GAP = 0.8

# ... so must the date after a bare "bis" / "by" in a payment sentence ("Bitte überweisen Sie
# 581,36 € bis 14.11.2026", "Please pay ... by 20 September 2024"), which alone names nothing.
_BARE_DUE_HINTS = frozenset({"bis", "by"})


def _adjacent_only(match: LabelMatch) -> bool:
    return match.kind in _ADJACENT_ONLY or (match.kind == "due_hint" and match.phrase in _BARE_DUE_HINTS)


_MONEY_KINDS = frozenset({"subtotal", "tax_amount", "total"})
_MONEY_FIELDS = ("subtotal", "tax_amount", "total")
_PUNCTUATION = re.compile(r"[\W_]*")
_ASIDE = re.compile(r"\([^\W\d_]+\)")  # one word in parentheses: "(Original)", "(copy)"
# Words that introduce the base a rate applies to ("19 % MwSt. auf 198,00", "VAT 20% on 150.00").
_BASE_WORDS = frozenset({"auf", "on", "of", "von", "sur", "from", "aus", "base", "basis"})
# Rate rows of a VAT breakdown under one column label, plus its sum row: at most this many.
_COLUMN_ROWS = 5
RELATIONS = ("right", "right_gap", "below", "pattern", "layout")
# Currency signs that name their currency alone ("$" is also an OCR slip for "S").
_GLUED_SIGNS = frozenset({"€", "£"})
# Punctuation around a word that is not part of it: a sentence's end, brackets, OCR's debris.
_EDGE_MARKS = "([{\"'‘“«|.,;:!?)]}’”»_"

# Legal forms that end a company name, EN/DE/FR (and common neighbours), cooperatives too.
_LEGAL_FORM = re.compile(
    # "& Co." starts with a mark, where a space before it is no word boundary: it stands apart.
    r"(?:&\s*Co\.?|\b(?:GmbH\s*&\s*Co\.?(?:\s*KG)?|GmbH|AG|KG|OHG|UG\s*\(haftungsbeschr[aä]nkt\)|UG"
    r"|e\.\s?K\.|Ltd\.?|Limited|plc|LLP|LLC"
    r"|Inc\.?|Corp\.?"
    r"|SARL|SAS|SASU|EURL|SA|S\.A\.|B\.V\.|BV|N\.V\.|S\.r\.l\.|SpA|a\.\s?G\.|e\.\s?V\.|mbH"
    r"|S\.L\.U?\.?|SLU?|S\.A\.U\.|S\.p\.A\.|S\.a\.s\.|S\.n\.c\.|S\.r\.l\.s\.|Srl|SPRL|SCRL|SRL|V\.O\.F\.|VOF"
    r"|DAC|CLG|e\.U\.|C\.V\.|S\.\s?Coop\.?|Soc\.\s?Coop\.?|SCOP|SCIC|U\.A\.|KGaA|SNC|SCS|SELARL|S\.C\.|(?-i:SC)"
    r"|Sdn\.?\s*Bhd\.?|Bhd\.?|Pte\.?\s*Ltd\.?|Pty\.?\s*Ltd\.?))"
    r"(?=$|[\s,.·|•])",
    re.IGNORECASE,
)
LEGAL_FORM = _LEGAL_FORM  # for the ranker's context features

# Street with house number, postcode with town, post-office box: EN/DE/FR address lines, as the
# shipped ranker's features were trained with (``address``, a name's wrapped line).
_ADDRESS = re.compile(
    r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|street|st\.|road|rd\.|avenue|ave\."
    r"|lane|drive|rue|chemin|boulevard|bd\.?)\s*\d{1,4}\s*[a-z]?\b"
    r"|^(?:[A-Z]{1,2}-)?\d{4,5}\s+[A-ZÄÖÜ][a-zäöüß]+(?:$|[\s/])|\b(?:postfach|p\.?\s?o\.?\s?box|bp|cs)\s+\d+",
    re.IGNORECASE,
)
# The lines of an address in the wider forms of EN/DE/FR/NL/ES/IT, which find the letter's
# address window (the recipient): a street word ending a compound before the number
# ("Gartenweg 12", "Kerkstraat 8"); a street word opening the line, a name, then the number
# ("rue Neuve 17", "Via Roma 170", "Calle Mayor 5"); a number, then the street ("12 Harbour
# Street", "17 rue de la Paix"); a postcode before the town ("04109 Halle", "31000 TOULOUSE, FR",
# "9711 LM Groningen"); a UK postcode ("BS1 2AA"); a US state and ZIP code ("Springfield, IL
# 62704"); a post-office box.
_ADDRESS_LINE = re.compile(
    r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|street|st\.|road|rd\.|avenue|ave\."
    r"|lane|drive|rue|chemin|boulevard|bd\.?|straat|laan|plein|gracht|kade|singel|dijk|steeg|dreef)"
    r"\s*\d{1,4}\s*[a-z]?\b"
    r"|^(?:rue|avenue|av\.|boulevard|chemin|all[ée]e|place|quai|impasse|route|via|viale|piazza|piazzale|corso"
    r"|vicolo|calle|c/|avenida|avda\.|plaza|paseo|carrer|camino|ronda|travesía)\s[^\d,]{1,40}?\s\d{1,4}\s*[a-z]?\b"
    r"|^\d{1,5}\s*(?:bis|ter|[a-z])?,?\s+(?:[^\W\d]+\s+){0,3}(?:street|st\.?|road|rd\.?|avenue|ave\.?|lane|drive"
    r"|way|boulevard|blvd\.?|court|place|square|rue|chemin|all[ée]e|quai|impasse|route)(?:$|[\s,])"
    r"|^(?:[A-Z]{1,2}-)?\d{4,5}\s+[A-ZÄÖÜ][a-zäöüß]+(?:$|[\s/,])"
    r"|(?-i:\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b)|(?-i:,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)"
    r"|\b(?:postfach|p\.?\s?o\.?\s?box|bp|cs|postbus|apartado|casella\s+postale)\s+\d+",
    re.IGNORECASE,
)
_NAME_SEPARATORS = re.compile(r"\s+[·|•–]\s+|\s+-\s+|,\s+")


@dataclass(slots=True)
class Candidate:
    field: str
    value: Any
    text: str
    page: int
    bbox: BBox
    relation: str
    label: LabelMatch | None = None
    features: dict[str, float] = dataclasses.field(default_factory=dict)
    score: float = 0.0
    label_text: str = ""  # the label as printed ("Rechnungs-Nr.:"), for drafting templates
    # The phrases beside and over the value and its type size (``context.py``), for the ranker.
    neighbourhood: Any = None


@dataclass(slots=True)
class PageContext:
    """What candidate generation knows about one page: rows, label matches, the buyer's block."""

    rows: list[Row]
    labels: dict[int, list[LabelMatch]]  # row index -> label matches
    width: float
    height: float
    buyer_words: set[int]  # id() of words inside the buyer's address block
    table_rows: set[int]  # row indexes that belong to the line-item table
    ocr: bool = False  # the page was read by OCR (its words may carry look-alike slips)
    # id() of the words of dates in a table of dated amounts (``_column_dates``)
    column_dates: set[int] = dataclasses.field(default_factory=set)


def page_context(
    rows: list[Row],
    width: float,
    height: float,
    table_rows: set[int],
    labels: dict[int, list[LabelMatch]] | None = None,
    *,
    ocr: bool = False,
) -> PageContext:
    if labels is None:
        finder = label_finder()
        labels = {row.index: finder.find([w.text for w in row.words], row.breaks) for row in rows}
    labels = {row.index: _outside_ids(row, _outside_dates(row, labels.get(row.index, []))) for row in rows}
    for row in rows:
        labels[row.index] = [*labels[row.index], *_pay_by_hints(row, labels[row.index])]
    context = PageContext(rows, labels, width, height, set(), table_rows, ocr)
    context.buyer_words = _buyer_block(context)
    context.column_dates = _column_dates(context)
    return context


def _column_dates(context: PageContext) -> set[int]:
    """Dates in the column a bare "Date" heads among column headings, beside a column of amounts
    under a heading no field label names ("Instalment | Date | Amount" over "Deposit | 15.04.2026 |
    250,00"): the dates of a table's rows (payments made, instalments), none of them the
    document's own. The id() of their words."""
    out: set[int] = set()
    rows = context.rows
    for r, row in enumerate(rows):
        for match in context.labels[row.index]:
            if match.kind != "date" or row.segment_of(match.start) != list(range(match.start, match.end)):
                continue
            beside = _plain_headings_beside(context, row, match)
            if not beside:
                continue
            heads = [row.words[i] for i in (*beside, match.start)]
            span = (min(w.x0 for w in heads), row.top, max(w.x1 for w in heads), row.bottom)
            last_bottom = row.bottom
            for below in rows[r + 1 : r + 1 + DEFAULT.column_date_rows]:
                if below.top - last_bottom > DEFAULT.column_date_gap * below.height:
                    break
                if not any(h_overlap(w.bbox, span) > 0 for w in below.words):
                    continue  # a row of another column beside the table ("Still open 480,00")
                words = [w.text for w in below.words]
                dates = [
                    (a, b)
                    for a, b, _ in _value_spans("date", words)
                    if _heading_over(row, below.box_of(a, b)) == match.start
                ]
                amounts = [
                    a
                    for a, b, _ in _value_spans("amount", words)
                    if _CENTS.search(below.text_of(a, b)) and _heading_over(row, below.box_of(a, b)) in beside
                ]
                if not dates or not amounts:
                    break
                out.update(id(w) for a, b in dates for w in below.words[a:b])
                last_bottom = below.bottom
    return out


def _plain_headings_beside(context: PageContext, row: Row, match: LabelMatch) -> set[int]:
    """The first words of the segments right before and after the label's own: column headings
    of words alone, when no label of a field or another value names them (``set()`` otherwise)."""
    segments = row.segments or [list(range(len(row.words)))]
    at = next((i for i, seg in enumerate(segments) if match.start in seg), None)
    if at is None:
        return set()
    named = {m.start for m in context.labels[row.index] if m.kind in _NAMING_KINDS and m is not match}
    out: set[int] = set()
    for neighbour in (at - 1, at + 1):
        if not 0 <= neighbour < len(segments):
            continue
        segment = segments[neighbour]
        if named.intersection(segment):
            return set()  # "Invoice No. | Date | Amount Due": the document's own fields
        if not any(ch.isdigit() for i in segment for ch in row.words[i].text):
            out.add(segment[0])
    return out


def _heading_over(row: Row, box: BBox) -> int | None:
    """The first word of the segment of ``row`` that stands over ``box``: the one it overlaps
    most, else the nearest by centre."""
    segments = row.segments or [list(range(len(row.words)))]
    if not segments or not row.words:
        return None
    boxes = [row.box_of(seg[0], seg[-1] + 1) for seg in segments]
    overlaps = [h_overlap(b, box) for b in boxes]
    if max(overlaps) > 0:
        return segments[overlaps.index(max(overlaps))][0]
    centre = (box[0] + box[2]) / 2
    nearest = min(range(len(boxes)), key=lambda i: abs((boxes[i][0] + boxes[i][2]) / 2 - centre))
    return segments[nearest][0]


def _pay_by_hints(row: Row, matches: list[LabelMatch]) -> list[LabelMatch]:
    """ "Bitte überweisen Sie € 1.163,40 bis 21.05.2026 auf das Konto ...": in a sentence that asks
    for payment, "bis" / "by" / "before" right before a date names the due date (a weak cue, as
    "bis zum" is), unless a date before it makes the two a period."""
    words = [w.text for w in row.words]
    if not _PAY_VERBS.intersection(tokens(" ".join(words))):
        return []
    taken = {i for m in matches for i in range(m.start, m.end)}
    dates = {a for a, _b, _v in _value_spans("date", words)}
    return [
        LabelMatch("due_hint", word.casefold(), LABELS["due_hint"][0], i, i + 1)
        for i, word in enumerate(words)
        if word.casefold() in _PAY_BY and i not in taken and i + 1 in dates and not _date_ends_at(row, i)
    ]


# Verbs of a sentence asking for payment, and the words that put a deadline on it.
_PAY_VERBS = frozenset(
    {"uberweisen", "zahlen", "bezahlen", "begleichen", "transfer", "pay", "remit", "settle", "virer",
     "payer", "regler", "verser", "betalen", "overmaken", "voldoen"}
)  # fmt: skip
_PAY_BY = frozenset({"bis", "by", "before", "until", "avant", "voor"})


# Words that may stand before a document's own title ("Our invoice 123", "La fattura n. 12",
# "Rif. fattura: R/073").
_OWN_TITLE = frozenset(
    {"our", "the", "this", "unsere", "unserer", "diese", "die", "notre", "la", "le", "cette", "onze", "de",
     "het", "deze", "nuestra", "nuestro", "el", "esta", "nostra", "nostro", "il", "questa", "ref", "rif",
     "reference", "referencia", "riferimento", "referentie"}
)  # fmt: skip


def _heads_its_line(row: Row, match: LabelMatch) -> bool:
    """True when a document title starts its segment (after "our"/"the" at most): in the middle
    of a sentence ("Annule et remplace la facture X", "Bezug: Rechnung 4711") the title word
    names another document."""
    segment = row.segment_of(match.start)
    before = [row.words[i].text for i in segment if i < match.start]
    return all(" ".join(tokens(w)) in _OWN_TITLE for w in before)


def _outside_dates(row: Row, matches: list[LabelMatch]) -> list[LabelMatch]:
    """The label matches that are not words inside a date ("14 *de* febrero *de* 2025")."""
    if not matches:
        return matches
    dates = _value_spans("date", [w.text for w in row.words])
    return [m for m in matches if not any(a < m.start and m.end <= b for a, b, _ in dates)]


def _outside_ids(row: Row, matches: list[LabelMatch]) -> list[LabelMatch]:
    """The label matches that are no group of a VAT id or an IBAN: "DE" of "DE 683 163 718" is
    no "de" before a date, "BCNO" of "IE94 BCNO 0142 ..." no "No." of an order (as labels they
    would end the value of the id's own label, or name a group of it)."""
    if not matches:
        return matches
    words = [w.text for w in row.words]
    ids = [(a, b) for kind in ("vat_id", "iban") for a, b, _ in _value_spans(kind, words)]
    return [m for m in matches if m.kind in _ID_KINDS or not any(a <= m.start < b for a, b in ids)]


# Labels that may be glued to the id they name ("IBANDE61 ..."): never a group of it.
_ID_KINDS = frozenset({"vendor_iban", "vendor_tax_id", "buyer_tax_id", "buyer_account"})


# Labels of the document's own fields: a row they start is no line of the buyer's address
# (the buyer's VAT id may be printed in it, its label does not end the block).
_FIELD_ROW_KINDS = frozenset(
    {"invoice_number", "invoice_date", "due_date", "po_number", "order_ref", "doc_title"}
    | {"subtotal", "tax_amount", "total"}
)


def _buyer_block(context: PageContext) -> set[int]:
    """Words below a 'Bill to' / 'Rechnungsempfänger' / 'Facturé à' label, in its column."""
    out: set[int] = set()
    rows = context.rows
    for r, row in enumerate(rows):
        for match in context.labels[row.index]:
            if match.kind != "buyer":
                continue
            box = row.box_of(match.start, match.end)
            left = box[0] - 4
            right = left + 0.42 * context.width
            # Rest of the label's own segment ("Bill to: Foo GmbH") is buyer too.
            segment = row.segment_of(match.start)
            for i in segment:
                if i >= match.end:
                    out.add(id(row.words[i]))
            last_bottom = row.bottom
            for below in rows[r + 1 : r + 8]:
                if below.top - last_bottom > 2.2 * below.height:
                    break
                hit = [w for w in below.words if w.x0 >= left - 2 and w.x0 < right]
                if not hit:
                    continue
                first = below.words.index(hit[0])
                if any(m.start == first and m.kind in _FIELD_ROW_KINDS for m in context.labels[below.index]):
                    break  # "Rechnungsdatum 08.08.2026" under the address: the document's fields begin
                out.update(id(w) for w in hit)
                last_bottom = below.bottom
    out.update(_block_over_buyer_id(context))
    return out


# A label over the buyer's block ends it: its head ("Bill to") or a field of the document.
_BLOCK_ENDS = (FIELD_KINDS - {"date_hint"}) | {"buyer", "vendor"}


def _block_over_buyer_id(context: PageContext) -> set[int]:
    """Words of the address block that ends in a buyer's VAT id ("NIF cliente NL27...") with no
    "Bill to" over it: the lines above the id in its column, up to a gap or a label row."""
    out: set[int] = set()
    rows = context.rows
    for r, row in enumerate(rows):
        for match in context.labels[row.index]:
            if match.kind != "buyer_tax_id":
                continue
            left = row.box_of(match.start, match.end)[0]
            right = left + 0.42 * context.width
            top = row.top
            for above in reversed(rows[max(0, r - 8) : r]):
                if top - above.bottom > 2.2 * above.height:
                    break
                hit = [i for i, w in enumerate(above.words) if left - 3 <= w.x0 < right]
                if not hit:
                    continue  # a row of the other column, between two lines of this block
                labelled = any(m.start in hit for m in context.labels[above.index] if m.kind in _BLOCK_ENDS)
                if labelled or abs(above.words[hit[0]].x0 - left) > 6:
                    break
                out.update(id(above.words[i]) for i in hit)
                top = above.top
    return out


def header_candidates(contexts: list[PageContext]) -> dict[str, list[Candidate]]:
    """Every candidate for every header field, over all pages."""
    out: dict[str, list[Candidate]] = {name: [] for name in HEADER_OUTPUT}
    for context in contexts:
        for r, row in enumerate(context.rows):
            # A label in parentheses is prose ("Franco de port (commande > 300 € HT)") or qualifies
            # the label before it ("Rechnungsbetrag (inkl. USt.) 119,00"): it neither names a value
            # nor ends the value of the label it qualifies. A whole group after words that are no
            # label ("Konto (IBAN) DE31 ...") names the value after it (``LabelFinder.find``).
            matches = [
                m
                for m in context.labels[row.index]
                if not row.words[m.start].text.startswith("(") or row.words[m.end - 1].text.endswith(")")
            ]
            for m_index, match in enumerate(matches):
                if match.kind not in FIELD_KINDS:
                    continue
                if match.kind == "doc_title" and not _heads_its_line(row, match):
                    continue
                if _hints_other_date(matches, match, row.segment_of(match.start)):
                    continue  # "Bon de livraison 380255 du 02-08-2023": the delivery note's date
                in_table = row.index in context.table_rows
                if in_table and match.kind not in _MONEY_KINDS:
                    continue
                next_start = next((m.start for m in matches[m_index + 1 :] if m.start >= match.end), None)
                for name in _LABEL_FIELDS[match.kind]:
                    found = _right_of(context, row, match, name, next_start)
                    for cand in found:
                        cand.features["in_table"] = float(in_table)
                    out[name].extend(found)
                    # A label in a table row is a column header, or a totals row the table ran into
                    # ("Taxe | Base | Montant | Total HT 624,90"): only its own row can hold its value.
                    if not _adjacent_only(match) and not in_table:
                        out[name].extend(_below(context, r, row, match, name, matches))
        _pattern_candidates(context, out)
        _unlabelled_candidates(context, out)
    if contexts and contexts[0].rows:
        out["invoice_date"].extend(_letter_dates(contexts[0]))
    for context in contexts:
        out["due_date"].extend(_debit_dates(context))
    out["vendor_name"].extend(vendor_name_candidates(contexts))
    if not out["invoice_date"] and any(context.column_dates for context in contexts):
        # A date of a table of dated amounts is the document's own when it prints no other.
        for context in contexts:
            context.column_dates = set()
        return header_candidates(contexts)
    return out


def _features(context: PageContext, bbox: BBox, match: LabelMatch | None, relation: str) -> dict[str, float]:
    feats = {f"rel_{r}": float(relation == r) for r in RELATIONS}
    feats.update(
        {
            "label_weight": match.weight if match else 0.0,
            "label_len": float(len(match.phrase.split())) if match else 0.0,
            "x": bbox[0] / context.width,
            "y": bbox[1] / context.height,
            "page1": 0.0,
        }
    )
    return feats


def _value_spans(
    kind: str, words: list[str], search: Callable[[str], Iterable[tuple[tuple[int, int], Any]]] | None = None
) -> list[tuple[int, int, Any]]:
    """(first word, end word, value) of every value of ``kind`` (or that ``search`` finds) in the words."""
    text = " ".join(words)
    starts: list[int] = []
    offset = 0
    for word in words:
        starts.append(offset)
        offset += len(word) + 1
    out = []
    for (a, b), value in (search or VALUE_TYPES[kind].find)(text):
        first = max(i for i, s in enumerate(starts) if s <= a)
        last = max(i for i, s in enumerate(starts) if s < b)
        # A value must cover whole words: "12345" inside "RE-12345" is not a value on its own.
        partial = a != starts[first] or b != starts[last] + len(words[last])
        # ... but a currency sign may be glued to a column word ("Gesamt/€", "Betrag(€)").
        glued_sign = kind == "currency" and (
            text[a:b] in _GLUED_SIGNS or _code_on_amount(words[first], text[a:b])
        )
        # A code or a number may end a sentence, stand in brackets or carry OCR's debris
        # ("Beträge in EUR.", "Rechnung 4711,", "(RE-2041)", "in EUR!").
        marked = (
            kind in ("currency", "identifier")
            and first == last
            and words[first].strip(_EDGE_MARKS) == text[a:b]
        )
        # OCR reads specks beside an amount with cents as marks ("312,40 €,", "'12,50"): the
        # word is still that amount.
        specked = (
            kind == "amount"
            and _CENTS.search(text[a:b]) is not None
            and not text[starts[first] : a].strip(_EDGE_MARKS)
            and not text[b : starts[last] + len(words[last])].strip(_EDGE_MARKS)
        )
        whole_anyway = glued_sign or marked or specked
        if partial and kind not in ("iban", "vat_id", "tax_id", "date") and not whole_anyway:
            continue
        out.append((first, last + 1, value))
    return out


def _no_dates(spans: list[tuple[int, int, Any]], words: list[str]) -> list[tuple[int, int, Any]]:
    """Identifier spans that are not a date or a day of one: "Beitragsrechnung  24. Januar 2014"
    names no reference 24, and "30.01.2026" under "Vostro ordine" is the letter's date. Nor is
    another number's label glued to its digits ("Caisse7", "Kasse3": the till, not the receipt)."""
    dates = [(a, b) for a, b, _ in _value_spans("date", words)]
    return [
        sp
        for sp in spans
        if not any(a <= sp[0] and sp[1] <= b and b - a > 1 for a, b in dates)
        and _no_date(" ".join(words[sp[0] : sp[1]]))
        and not _other_label_glued(words[sp[0]])
    ]


def _no_date(text: str) -> bool:
    """Not a date as printed. Digits alone ("20260112") read as a date only without their
    separators, and a reference numbered by year and sequence looks the same: such a number
    stays an identifier, for the ranker to weigh."""
    return text.isdigit() or parse_date(text) is None


_LETTERS_THEN_DIGITS = re.compile(r"([^\W\d_]{3,})[.:#]?\d{1,3}")


def _other_label_glued(word: str) -> bool:
    """ "Caisse7", "Kasse:3": a word of another number's label with a short number glued to it."""
    match = _LETTERS_THEN_DIGITS.fullmatch(word)
    if match is None:
        return False
    return any(m.kind == "other_id" for m in label_finder().find([match.group(1)]))


def _series_start(row: Row, label_end: int, a: int) -> int:
    """``a`` (relative to the label's end), moved back over a series code printed before it;
    leader dots or a colon between the label and the code ("Nr.: ...... FV 2023-01422") are
    not words of the value."""
    first = label_end
    while first < label_end + a and _PUNCTUATION.fullmatch(row.words[first].text):
        first += 1
    return with_series(row, first, label_end + a, len(row.words), labelled=True) - label_end


def _identifier(row: Row, start: int, end: int, value: Any) -> Any:
    """The identifier as printed over ``start:end``: with its series code when one was taken in,
    joined by the underscore OCR read at the start of the number after it."""
    if start < end - 1 and _SERIES.fullmatch(row.words[start].text):
        # OCR may split the number at its underscore ("RE _4711", "RE_ 4711"): it joins them.
        code = row.words[start].text
        joint = "" if code.endswith("_") else "_" if row.words[start + 1].text.startswith("_") else " "
        return f"{code}{joint}{value}"
    return value


# A short number that heads the number after it ("23 2023000885", "26 00000632"): a series.
_NUMBER_SERIES = re.compile(r"\d{1,3}")
_SERIES_BODY = re.compile(r"\d[\d/_-]{3,}")


def _number_series(row: Row, offset: int, a: int, b: int, value: Any) -> tuple[int, int, Any]:
    """The identifier at ``row.words[offset + a : offset + b]``, grown over the number after it
    when the identifier is a short number set a word space before it (not a column gap)."""
    first = offset + a
    if b - a != 1 or first + 1 >= len(row.words) or not _NUMBER_SERIES.fullmatch(row.words[first].text):
        return a, b, value
    head, body = row.words[first], row.words[first + 1]
    if (
        not _SERIES_BODY.fullmatch(body.text)
        or parse_date(body.text) is not None
        or body.x0 - head.x1 > 1.2 * max(head.height, body.height)
        or first + 1 not in row.segment_of(first)
    ):
        return a, b, value
    return a, b + 1, f"{head.text} {body.text}"


def _code_on_amount(word: str, code: str) -> bool:
    """ "CHF11.732,53", "1.234,56EUR": an ISO currency code glued to the amount it names."""
    rest = word.replace(code, "", 1).strip("-−()")
    return code in ISO_CURRENCIES and rest != word and _AMOUNT_OR_RATE.fullmatch(rest) is not None


# A series code printed apart from the number it heads ("FV 2023-01422", "F 008890", "RE 469/23"):
# part of the number as printed. Marks and linking words ("No", "DE") are not.
_SERIES = re.compile(r"[A-Z]{1,4}_?")  # with the underscore OCR kept of "FV_2023/11" split at it
_NOT_SERIES = frozenset(
    label_words.NUMBER + label_words.LINKS + label_words.ORDER_MARKS + label_words.DOCUMENT
)
# After a label or under it, the document's name in capitals heads the number ("Bill No" over
# "INV 3305775", "N° facture: FAC 6720057"): the label was already printed.
_NOT_SERIES_LABELLED = frozenset(label_words.NUMBER + label_words.LINKS + label_words.ORDER_MARKS)
# Words after which a number is announced: a number mark, the document's own name, or any word
# closed by a colon or made of leader dots.
_ANNOUNCES = frozenset(w for w in label_words.NUMBER + label_words.DOCUMENT if " " not in w)


def _announces_number(word: str) -> bool:
    if word.endswith(":") or _PUNCTUATION.fullmatch(word):
        return True
    folded = tokens(word)
    return len(folded) == 1 and folded[0] in _ANNOUNCES


def with_series(row: Row, first: int, start: int, end: int, labelled: bool = False) -> int:
    """``start``, or the index of the series code before it when one is printed there.

    The code must be the first word the value may use (``first``: right after its label, or
    the first word under it), in capitals, no currency and no number mark (nor, where no label
    was printed, ``labelled`` False, the document's name: "INV 4711" alone is label and number),
    and close to the number (a word space, not a column gap).
    """
    before = start - 1
    if before != first or start >= end:
        return start
    word, number = row.words[before], row.words[start]
    if (
        not _SERIES.fullmatch(word.text)
        or word.text in ISO_CURRENCIES
        or word.text.casefold() in (_NOT_SERIES_LABELLED if labelled else _NOT_SERIES)
        or number.x0 - word.x1 > 1.2 * max(word.height, number.height)
    ):
        return start
    return before


def _right_of(
    context: PageContext, row: Row, match: LabelMatch, name: str, next_start: int | None
) -> list[Candidate]:
    kind = FIELD_TYPES[name]
    stop = next_start if next_start is not None else len(row.words)
    if stop <= match.end:
        return []
    label_box = row.box_of(match.start, match.end)
    segment = row.segment_of(match.start)
    words = [w.text for w in row.words[match.end : stop]]
    out: list[Candidate] = []
    spans = _value_spans(kind, words)
    if kind == "identifier":
        # "Auftrag 300 € netto": a number followed by a currency is an amount, not a reference.
        spans = [sp for sp in spans if not _currency_follows(words, sp[1])]
    if kind == "amount":
        # "Zahlbar innerhalb 30 Tagen netto bis 04.04.2013, 3 % Skonto innerhalb 10 Tagen": past
        # a date the label's sentence has moved on; a number there is no amount of the label's.
        spans = [sp for sp in spans if not _date_before(words, sp[0])]
    if kind in ("identifier", "text") and spans:
        spans = spans[:1]
    if kind == "identifier":
        spans = _no_dates(spans, words)
        spans = [(_series_start(row, match.end, a), b, v) for a, b, v in spans]
        spans = [_number_series(row, match.end, a, b, v) for a, b, v in spans]
    if _adjacent_only(match):
        # Marks and an aside in parentheses ("Rechnung (Original) RE-4711", "Invoice (copy)
        # 4711") may stand between the title and its number; any other word may not.
        spans = [
            sp
            for sp in spans
            if all(_PUNCTUATION.fullmatch(w) or _ASIDE.fullmatch(w) for w in words[: sp[0]])
            and match.end + sp[0] in segment
        ][:1]
    if name in ("invoice_date", "due_date"):
        spans = [sp for sp in spans if not _dates_another_document(row, match.end + sp[0], context)]
    if match.kind == "date_hint":
        # "vom 06.12.2013 bis zum 06.12.2014" is a period, not the date of anything.
        after = [w.text.casefold() for w in row.words[match.end :]] + [""]
        spans = [sp for sp in spans if after[sp[1]] not in _PERIOD_WORDS]
    if match.kind == "due_hint" and _date_ends_at(row, match.start):
        return []  # the end of a period: "vom 06.12.2013 bis zum 06.12.2014"
    for order, (a, b, value) in enumerate(spans):
        first, end = match.end + a, match.end + b
        if kind == "identifier":
            value = _identifier(row, first, end, value)
        box = row.box_of(first, end)
        relation = "right" if first in segment else "right_gap"
        feats = _features(context, box, match, relation)
        feats["order"] = float(order)
        feats["from_right"] = float(len(spans) - 1 - order)
        feats["gap"] = (box[0] - label_box[2]) / context.width
        feats["words_between"] = float(a)
        feats["in_buyer"] = float(any(id(w) in context.buyer_words for w in row.words[first:end]))
        if kind == "iban":
            feats["repaired"] = float(parse_iban(row.text_of(first, end)) != value)
            feats["iban_guessed"] = float(feats["repaired"] and iban_guessed(row.text_of(first, end), value))
        if kind in ("iban", "vat_id"):
            # "von Ihrem Konto mit IBAN DE21 ...": the buyer's account, named by a label before.
            feats["buyer_label"] = float(
                any(m.kind in _BUYER_ID_KINDS and m.end <= match.start for m in context.labels[row.index])
            )
        if name == "tax_amount" and value < 0 and row.words[first].text.startswith("("):
            value = -value  # "enthaltene Versicherungsteuer (35,13 €)": included, not negative
        # "zzgl. 19 % MwSt. auf 198,00 €  37,62 €": the amount after "auf" / "on" is the base.
        feats["rate_base"] = float(kind == "amount" and a > 0 and words[a - 1].casefold() in _BASE_WORDS)
        out.append(
            Candidate(
                name, value, row.text_of(first, end), row.page, box, relation, match, feats,
                label_text=row.text_of(match.start, match.end),
            )
        )  # fmt: skip
    return out


def _below(
    context: PageContext, r: int, row: Row, match: LabelMatch, name: str, matches: list[LabelMatch]
) -> list[Candidate]:
    kind = FIELD_TYPES[name]
    label_box = row.box_of(match.start, match.end)
    right_neighbours = [row.words[m.start].x0 for m in matches if m.start >= match.end]
    right_limit = min(right_neighbours) if right_neighbours else label_box[2] + 0.3 * context.width
    # A value centred under its label starts left of it ("Invoice Date" over "14 Mar 2026"): its
    # column reaches halfway to whatever stands left of the label in the label's row.
    # (The value must still overlap the label, see below.)
    label_width = label_box[2] - label_box[0]
    # Words no label claims that open the label's segment ("Bitte" in "Bitte zahlen bis", "Please"
    # in "Please pay by") head the same column: the value under them starts where they start.
    first = _segment_lead(row, match, matches)
    left_limit = row.words[first].x0 - max(0.6 * row.height, 0.5 * label_width)
    if first > 0:
        left_limit = (row.words[first - 1].x1 + row.words[first].x0) / 2
    left_limit = min(left_limit, label_box[0] - 0.6 * row.height)
    out: list[Candidate] = []
    money = name in _MONEY_KINDS
    last_bottom = row.bottom
    for depth, below in enumerate(context.rows[r + 1 : r + 1 + (_COLUMN_ROWS if money else 2)], start=1):
        if below.top - row.bottom > 3.5 * row.height * depth or (
            out and below.top - last_bottom > 2.2 * below.height
        ):
            break
        picked = [i for i, w in enumerate(below.words) if w.x0 >= left_limit and w.x0 < right_limit - 1]
        if not picked:
            continue
        # Contiguous run of picked words; a label below ("Due date") ends the run.
        below_labels = context.labels[below.index]
        if any(m.start <= picked[0] < m.end and m.kind in FIELD_KINDS for m in below_labels):
            break
        found = len(out)
        start, end = picked[0], picked[-1] + 1
        words = [w.text for w in below.words[start:end]]
        spans = _value_spans(kind, words)
        # A value that follows a label of its own row ("Gesamtbetrag: 571,04") belongs to that label.
        spans = [sp for sp in spans if not _labelled_in_row(below, below_labels, start + sp[0])]
        if kind == "date":
            # "Leipzig, 17. November 2024" under "Bitte zahlen bis: ...": the letter's own date.
            spans = [sp for sp in spans if not _town_before_in_row(below, start + sp[0])]
            # "Instalment | Date | Amount": the date of an instalment, a row of a table.
            spans = [sp for sp in spans if id(below.words[start + sp[0]]) not in context.column_dates]
        if kind == "identifier":
            spans = _no_dates(spans, words)
        if kind in ("identifier", "text") and spans:
            spans = spans[:1]
        if kind == "identifier":
            spans = [
                (with_series(below, start, start + a, start + b, labelled=True) - start, b, v)
                for a, b, v in spans
            ]
            spans = [_number_series(below, start, a, b, v) for a, b, v in spans]
        for order, (a, b, value) in enumerate(spans):
            if kind == "identifier":
                value = _identifier(below, start + a, start + b, value)
            box = below.box_of(start + a, start + b)
            if h_overlap(box, label_box) <= 0 and abs(box[0] - label_box[0]) > 2 * row.height:
                continue
            feats = _features(context, box, match, "below")
            feats["order"] = float(order)
            feats["from_right"] = float(len(spans) - 1 - order)
            feats["gap"] = (box[1] - label_box[3]) / context.height
            feats["depth"] = float(depth)
            feats["in_buyer"] = float(
                any(id(w) in context.buyer_words for w in below.words[start + a : start + b])
            )
            text = below.text_of(start + a, start + b)
            label_text = row.text_of(match.start, match.end)
            out.append(
                Candidate(name, value, text, below.page, box, "below", match, feats, label_text=label_text)
            )
        # A money column of a VAT breakdown goes on over one row per rate (and a sum row);
        # any other value is the first one below its label.
        if not money or len(out) == found or (len(out) > found + 1):
            break
        last_bottom = below.bottom
    return out


def _segment_lead(row: Row, match: LabelMatch, matches: list[LabelMatch]) -> int:
    """The first word of the run of plain words (letters only, no other label's) that opens the
    label's segment right before it, else the label's own first word."""
    claimed = {i for m in matches for i in range(m.start, m.end)}
    segment = row.segment_of(match.start)
    first = match.start
    while (
        first - 1 in segment and first - 1 not in claimed and row.words[first - 1].text.rstrip(",").isalpha()
    ):
        first -= 1
    return first if first == segment[0] else match.start


_PERIOD_WORDS = frozenset(
    {"bis", "to", "until", "till", "au", "-", "–", "a", "al", "hasta", "tot", "t/m", "fino"}
)


def _date_ends_at(row: Row, index: int) -> bool:
    """True when the words of ``row`` just before ``index`` end with a date."""
    words = [w.text for w in row.words[max(0, index - 4) : index]]
    return any(b == len(words) for _a, b, _v in _value_spans("date", words))


def _date_before(words: list[str], index: int) -> bool:
    """True when a date stands among ``words[:index]``."""
    return index > 0 and next(VALUE_TYPES["date"].find(" ".join(words[:index])), None) is not None


_DATE_KINDS = frozenset({"invoice_date", "date", "date_hint", "due_date", "due_hint", "other_date"})
# A letter's date line sits in the top part of its first page, right of the address block.
_LETTER_DATE_TOP = 0.45
_LETTER_DATE_LEFT = 0.45


# Nouns of the documents an invoice cites with their own number and date: delivery notes and
# orders ("Lieferschein 422602 vom 25.01.2026", "Albarán 483499 de 23/03/2026", "DDT 4711 del
# 5 ottobre 2026"). Whole phrases: "note" alone also ends "credit note", the document itself;
# a two-letter abbreviation ("BC", "PO") may be any code's letters.
_CITED_DOCUMENTS = frozenset(
    tuple(tokens(phrase)) for phrase in (*label_words.DELIVERY, *label_words.ORDER) if len(phrase) >= 3
)
_NUMBER_MARKS = frozenset(t for mark in label_words.NUMBER for t in tokens(mark)) | {"n°", "nº"}


def _dates_another_document(row: Row, index: int, context: PageContext) -> bool:
    """True when the date at word ``index`` follows another document's noun and number, with at
    most a short word between ("Lieferschein 422602 vom", "Order 4711 of", "Albarán 483499 de"),
    or a number a label names as another document's ("zu Rechnung 4711 vom", "Credit for
    invoice 553 dated"): it dates that delivery, order or invoice, not this one. On OCR'd pages
    the noun may carry one slip ("Albarn")."""
    words = [fold(w.text.strip(_EDGE_MARKS)) for w in row.words[:index]]
    if words and words[-1].isalpha() and len(words[-1]) <= 5:
        words.pop()  # "vom", "de", "du", "of", "dated"
    if not words or not any(c.isdigit() for c in words[-1]):
        return False
    words.pop()
    while words and (words[-1] in _NUMBER_MARKS or not words[-1]):
        words.pop()
    if any(m.kind in _CITING_KINDS and m.end == len(words) for m in context.labels.get(row.index, [])):
        return True
    for phrase in _CITED_DOCUMENTS:
        if len(words) < len(phrase) or tuple(words[-len(phrase) : -1]) != phrase[:-1]:
            continue
        noun, known = words[-1], phrase[-1]
        if noun == known or (context.ocr and len(known) >= 5 and _one_edit(noun, known)):
            return True
    return False


# Labels of the numbers of other documents: a customer's account, a delivery note, the invoice a
# credit note corrects, an order.
_CITING_KINDS = frozenset({"other_id", "po_number", "order_ref"})


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one letter changed, lost or added."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :] if len(a) < len(b) else a[i + 1 :] == b[i:]


def _letter_dates(context: PageContext) -> list[Candidate]:
    """A date standing alone at the right of the top of page 1, with no label: the letter's date.

    German and French business letters print their date so ("Beitragsrechnung ... 24. Januar
    2014", "Paris, le 3 mars 2026" without "le" read as a label); a date under or beside a
    label of any date kind belongs to that label instead.
    """
    out: list[Candidate] = []
    rows = context.rows
    for r, row in enumerate(rows):
        if row.top > _LETTER_DATE_TOP * context.height:
            break
        if any(m.kind in _DATE_KINDS for m in context.labels[row.index]):
            continue
        for segment in row.segments:
            first, end = segment[0], segment[-1] + 1
            words = [w.text for w in row.words[first:end]]
            # "Wien, 24/06/2024": a town and the date close a letter's heading wherever it stands.
            dates = _value_spans("date", words)
            placed = [sp for sp in dates if sp[1] == len(words) and _town_before(words, sp[0])]
            if placed:
                first = first + placed[0][0]
            elif row.words[first].x0 < _LETTER_DATE_LEFT * context.width:
                continue
            spans = placed or [sp for sp in dates if sp[0] == 0 and sp[1] == len(words)]
            if not spans:
                continue
            box = row.box_of(first, end)
            # A town before it makes it the letter's date, whatever label stands over it.
            if not placed and _labelled_above(context, r, box):
                continue
            feats = _features(context, box, None, "layout")
            feats["letter_date"] = 1.0
            text = row.text_of(first, end)
            out.append(Candidate("invoice_date", spans[0][2], text, row.page, box, "layout", None, feats))
    return out


def _town_before_in_row(row: Row, index: int) -> bool:
    """True when a town and a comma stand before word ``index`` in its segment of ``row``."""
    head = [row.words[i].text for i in row.segment_of(index) if i < index]
    return _town_before(head, len(head))


def _town_before(words: list[str], start: int) -> bool:
    """True when ``words[:start]`` is a town and a comma: "Wien,", "Den Haag,", "Paris, le",
    "Bologna, li", "Madrid, a"."""
    head = words[:start]
    if head and head[-1].casefold() in ("le", "den", "am", "il", "el", "li", "lì", "a"):
        head = head[:-1]  # "Paris, le 3 mars 2026", "Roma, il 6 gennaio 2026", "Bologna, li 30.01.2026"
    return (
        0 < len(head) <= 3
        and head[-1].endswith(",")
        and head[0][:1].isupper()
        and all(w.rstrip(",").replace("-", "").isalpha() for w in head)
    )


# Words of a direct-debit notice: the day named in its sentence is the day the amount is paid.
_DEBIT_WORDS = frozenset(
    {"lastschrift", "lastschriftverfahren", "eingezogen", "abgebucht", "abbuchen", "einziehen", "abbuchung",
     "debit", "debited", "prelevement", "preleve", "prelevee", "prelevera"}
)  # fmt: skip
_ON_WORDS = frozenset({"am", "on", "le", "zum"})


def _debit_dates(context: PageContext) -> list[Candidate]:
    """ "Der Betrag wird am 20.03.2014 von Ihrem Konto ... per SEPA-Lastschrift eingezogen".

    A date right after "am" / "on" / "le" in a row whose sentence (this row or the next) speaks
    of a direct debit is when the invoice is paid: a due-date candidate, weaker than a labelled
    due date.
    """
    out: list[Candidate] = []
    rows = context.rows
    for r, row in enumerate(rows):
        sentence = " ".join(x.text for x in rows[r : r + 2])
        if not _DEBIT_WORDS.intersection(tokens(sentence)):
            continue
        words = [w.text for w in row.words]
        for a, b, value in _value_spans("date", words):
            if a == 0 or words[a - 1].casefold() not in _ON_WORDS:
                continue
            box = row.box_of(a, b)
            feats = _features(context, box, None, "layout")
            feats["debit_date"] = 1.0
            out.append(Candidate("due_date", value, row.text_of(a, b), row.page, box, "layout", None, feats))
    return out


def _labelled_above(context: PageContext, r: int, box: BBox) -> bool:
    """True when a label stands in one of the two rows above ``box``, over it."""
    row = context.rows[r]
    for above in context.rows[max(0, r - 2) : r]:
        if row.top - above.bottom > 2.5 * row.height:
            continue
        for m in context.labels[above.index]:
            label = above.box_of(m.start, m.end)
            if h_overlap(label, box) > 0 or abs(label[0] - box[0]) < row.height:
                return True
    return False


def _currency_follows(words: list[str], end: int) -> bool:
    return end < len(words) and find_currency(words[end]) is not None


def _labelled_in_row(row: Row, labels: list[LabelMatch], index: int) -> bool:
    """True when a label stands before word ``index`` in the same segment of ``row``."""
    segment = row.segment_of(index)
    return any(m.end <= index and m.start in segment and m.kind in _NAMING_KINDS for m in labels)


_NAMING_KINDS = FIELD_KINDS | {"other_id", "other_date", "buyer_tax_id"}
# Labels that make the id after them the buyer's: "USt-IdNr. Kunde", "von Ihrem Konto mit IBAN".
_BUYER_ID_KINDS = frozenset({"buyer_tax_id", "buyer_account"})


def _pattern_candidates(context: PageContext, out: dict[str, list[Candidate]]) -> None:
    """Values recognisable without a label: IBANs, VAT ids and currencies.

    An IBAN printed with wrong check digits is a candidate too, marked ``iban_unchecked``: the
    extractor reports it only when no valid IBAN is printed, and then as doubtful.
    """
    for row in context.rows:
        words = [w.text for w in row.words]
        # "BE18 9455 5725 7865": the first groups of a Belgian IBAN read as a VAT id too.
        in_iban = {
            i
            for search in (None, find_unchecked_ibans)
            for a, b, _ in _value_spans("iban", words, search)
            for i in range(a, b)
        }
        for name, kind, search in (
            ("vendor_iban", "iban", None),
            ("vendor_iban", "iban", find_unchecked_ibans),
            ("vendor_iban", "iban", find_misread_ibans if context.ocr else _nothing),
            ("vendor_iban", "iban", _doubtful_iban_search(row) if context.ocr else _nothing),
            ("vendor_tax_id", "vat_id", None),
            ("vendor_tax_id", "vat_id", find_misread_vat_ids if context.ocr else _nothing),
            ("currency", "currency", None),
        ):
            for a, b, value in _value_spans(kind, words, search):
                if kind == "vat_id" and in_iban.intersection(range(a, b)):
                    continue
                if search is find_unchecked_ibans and row.breaks.intersection(range(a + 1, b)):
                    # No check digits vouch for it: an IBAN is printed in groups one space apart,
                    # not across the wide gaps between a table's cells ("PO6402 | 339 set").
                    continue
                box = row.box_of(a, b)
                feats = _features(context, box, None, "pattern")
                feats["in_buyer"] = float(any(id(w) in context.buyer_words for w in row.words[a:b]))
                prior = [m for m in context.labels[row.index] if m.end <= a]
                feats["buyer_label"] = float(any(m.kind in _BUYER_ID_KINDS for m in prior))
                feats["in_table"] = float(row.index in context.table_rows)
                text = row.text_of(a, b)
                if kind == "iban":
                    feats["iban_unchecked"] = float(search is find_unchecked_ibans)
                    # Look-alike characters put back ("NLO7" -> "NL07"), confirmed by mod-97.
                    checked = search is not find_unchecked_ibans
                    feats["repaired"] = float(parse_iban(text) != value and checked)
                    feats["iban_guessed"] = float(checked and feats["repaired"] and iban_guessed(text, value))
                elif search is not None:
                    feats["repaired"] = 1.0
                out[name].append(Candidate(name, value, text, row.page, box, "pattern", None, feats))


def _nothing(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    return iter(())


def _doubtful_iban_search(row: Row) -> Callable[[str], Iterator[tuple[tuple[int, int], str]]]:
    """A search of the row's text (its words joined by spaces) for IBANs whose look-alike slips
    only the words OCR was unsure of settle, the country letters read as digits too ("1T60 ...")."""
    doubtful: set[int] = set()
    offset = 0
    for word in row.words:
        if word.confidence < DEFAULT.doubtful_read:
            doubtful.update(range(offset, offset + len(word.text)))
        offset += len(word.text) + 1

    def search(text: str) -> Iterator[tuple[tuple[int, int], str]]:
        yield from find_doubtful_ibans(text, doubtful.__contains__)
        yield from find_misread_ibans(text, lambda read: find_doubtful_ibans(read, doubtful.__contains__))

    return search


# An IBAN whose country letters OCR read as digits ("1E35 NLQC ..." for "IE35"): the
# look-alikes put back, mod-97 confirms the reading.
_IBAN_START = re.compile(
    r"(?<![A-Za-z0-9|])(?=[A-Z0-9|]{2}[0-9OoDQIl|ZSB]{2}[ .\-]?[A-Za-z0-9|])(?=\S?[0-9|])"
)


def find_misread_ibans(
    text: str, find: Callable[[str], Iterator[tuple[tuple[int, int], str]]] = find_ibans
) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, IBAN) of every IBAN whose country code OCR read with a digit, confirmed by mod-97
    (as ``find`` confirms it: ``find_ibans``, or a search that also weighs OCR's doubts)."""
    for match in _IBAN_START.finditer(text):
        at = match.start()
        for a in _PREFIX_LETTERS.get(text[at], text[at]):
            for b in _PREFIX_LETTERS.get(text[at + 1], text[at + 1]):
                # Mod-97 holds by chance for one reading in 97: a country without IBANs
                # ("10117 Berlin www" read "TO117BERLINWWW") is no reading at all.
                if iban_structure(a + b) is None:
                    continue
                read = f"{text[:at]}{a}{b}{text[at + 2 :]}"
                found = next(((span, v) for span, v in find(read) if span[0] == at), None)
                if found is not None:
                    yield found
                    break
            else:
                continue
            break
    # OCR loses the thin "I" of "IE" and "IT" ("E 33 NJSR ...", "T12 E418 ..."): read with it.
    for match in _LOST_I.finditer(text):
        at = match.start()
        # ... and may set the letter left apart from the check digits ("E 33").
        gap = int(text[at + 1] == " ")
        read = f"{text[:at]}I{text[at]}{text[at + 1 + gap :]}"
        found = next(((span, v) for span, v in find(read) if span[0] == at), None)
        if found is not None:
            yield (at, found[0][1] - 1 + gap), found[1]


# Where an IBAN or a VAT id of Ireland or Italy starts with its "I" lost: a capital "E" or "T"
# that starts a word, then its digits.
_LOST_I = re.compile(r"(?<![\w|€])(?=[ET] ?\d)")
_LOST_I_VAT = re.compile(r"[ET]\d")


# OCR reads a VAT id's country letters as digits that look like them ("17" for "IT") and its
# digits as letters ("BEO374..."). Read back with the look-alikes swapped, a word is a VAT id
# when its country's own check digits confirm it (python-stdnum), as mod-97 confirms an IBAN.
_PREFIX_LETTERS = {
    "1": "ILT", "|": "IL", "7": "T", "0": "OD", "5": "S", "8": "B", "6": "G", "2": "Z", "4": "A",
    "€": "E", "T": "TI",
}  # fmt: skip
_BODY_DIGITS = str.maketrans("OQDIL|SZBG", "0001115286")
# Its first two characters may be look-alikes of the country's letters ("1€9700726F").
_VAT_WORD = re.compile(r"(?<![\w|€])[A-Za-z0-9|€]{2}[ .]?[A-Za-z0-9|.]{7,15}(?<=[A-Za-z0-9|])(?![\w|])")
# ... or printed in groups ("IE 977 215 OH" for "IE 9772150H").
_VAT_GROUPS = re.compile(r"(?<![\w|€])[A-Z0-9|€]{2}(?: [A-Za-z0-9|]{1,4}){2,4}(?![\w|])")


def find_misread_vat_ids(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, VAT id) of every word OCR misread from a VAT id, its check digits confirming the
    reading; a word that already reads as one is left to ``find_vat_ids``. A VAT id glued to the
    label before it ("N°TVAFR663...") is the word's ending that reads as one."""
    found: set[tuple[int, int]] = set()
    for match in [*_VAT_WORD.finditer(text), *_VAT_GROUPS.finditer(text)]:
        word = match.group(0)
        if parse_vat_id(word) is not None:
            continue
        # Where the id may start: the word's start or, in a word with no space or dot, any
        # later place that leaves the shortest id's ten characters and that starts with two
        # capitals, as printed (the country code glued to its label).
        # After a space, too: a two-letter label before it is taken in by the pattern ("ID
        # 1E7501548F").
        starts = (
            range(max(1, len(word) - 9))
            if word.isalnum()
            else [0, *(i + 1 for i, c in enumerate(word) if c == " ")]
        )
        for at in starts:
            glued = at and word[at - 1] != " "
            if glued and not (word[at : at + 2].isalpha() and word[at : at + 2].isupper()):
                continue
            compact = re.sub(r"[ .]", "", word[at:]).upper()
            if at == 0 and _LOST_I_VAT.match(compact):
                compact = f"I{compact}"  # the thin "I" of "IE" or "IT" lost
            value = _misread_vat_id(compact) if len(compact) >= 10 else None  # the shortest id
            span = (match.start() + at, match.end())
            if value is not None:
                if span not in found:
                    found.add(span)
                    yield span, value
                break


def _misread_vat_id(compact: str) -> str | None:
    """The one VAT id ``compact`` reads as with look-alikes swapped whose check digits hold."""
    prefixes = [
        a + b
        for a in _PREFIX_LETTERS.get(compact[0], compact[0])
        for b in _PREFIX_LETTERS.get(compact[1], compact[1])
    ]
    body = compact[2:].translate(_BODY_DIGITS)
    # The Dutch id keeps a letter B before its last two digits ("NL...B01"), read "8" too.
    bodies = {body, compact[2:], f"{body[:-3]}B{body[-2:]}"}
    found = {
        value
        for prefix in prefixes
        for rest in bodies
        if (value := parse_vat_id(prefix + rest)) is not None and vatin.is_valid(value)
    }
    return found.pop() if len(found) == 1 else None


_CENTS = re.compile(r"[.,]\d{2}\b")
# Labels of amounts that are none of the totals: a payment or change, a sum carried to the next page.
_OTHER_AMOUNTS = frozenset({"payment", "carry", "discount"})
_CHARGES = frozenset(tuple(phrase.split()) for phrase in label_words.CHARGES)
_AMOUNT_OR_RATE = re.compile(r"[\d.,]+%?")


def _unlabelled_candidates(context: PageContext, out: dict[str, list[Candidate]]) -> None:
    """Values no label claims: every date (invoice date), every amount with cents outside the line
    table (subtotal, tax and total alike) and, on page 1 outside the table, every word with
    digits that is no date or amount (invoice number). Receipts print "09/03/2018 21:28" and
    "CASH RM 170.00" with no label, and a label wording no list knows ("Imponibile", "BTW")
    still leaves its value here, for the ranker to judge by the phrases around it and for the
    arithmetic to place: which of the totals block's amounts is the subtotal, the tax and the
    total is what subtotal + tax = total says, whatever words stand beside them. Marked
    ``unlabelled``; the hand-set weights never see them."""
    first_page = bool(context.rows) and context.rows[0].page == 1
    table_bottom = max((r.bottom for r in context.rows if r.index in context.table_rows), default=None)
    for r, row in enumerate(context.rows):
        words = [w.text for w in row.words]
        dates = _value_spans("date", words)
        kinds = [("invoice_date", "date"), ("total", "amount")]
        explained: set[int] = set()
        if first_page and row.index not in context.table_rows:
            # Not the order number: it is printed only sometimes, and nearly always labelled.
            kinds.append(("invoice_number", "identifier"))
            explained = _explained_words(context, r, row)
        for name, kind in kinds:
            if kind != "date" and row.index in context.table_rows:
                continue
            for a, b, value in dates if kind == "date" else _value_spans(kind, words):
                if kind == "date" and _dates_another_document(row, a, context):
                    continue
                text = row.text_of(a, b)
                if kind == "amount" and not _CENTS.search(text):
                    continue
                if kind == "date" and (
                    _dated_otherwise(context, r, row, a) or id(row.words[a]) in context.column_dates
                ):
                    continue
                if kind == "identifier" and (
                    not _id_like(text, a, b, dates) or explained.intersection(range(a, b))
                ):
                    continue
                if kind == "identifier":
                    # A series code that starts its segment ("FV 2023-01422" standing alone) or
                    # follows what announces a number no label list knows ("Boeking nummer: F
                    # 2019146", "INVOICE RE 4569758").
                    first = row.segment_of(a)[0]
                    if a - 1 > first and _announces_number(row.words[a - 2].text):
                        first = a - 1
                    if not any(m.start == first for m in context.labels[row.index]):
                        a = with_series(row, first, a, b)
                        value, text = _identifier(row, a, b, value), row.text_of(a, b)
                box = row.box_of(a, b)
                feats = _features(context, box, None, "layout")
                feats["unlabelled"] = 1.0
                feats["in_buyer"] = float(any(id(w) in context.buyer_words for w in row.words[a:b]))
                feats["words_between"] = float(a)
                if kind != "amount":
                    out[name].append(Candidate(name, value, text, row.page, box, "layout", None, feats))
                    continue
                # The totals follow the line table; with no table on the page they may be anywhere.
                feats["totals_region"] = float(table_bottom is None or row.top >= table_bottom)
                # Amounts that share their row are cells of a breakdown ("A 21% 78,75 16,54 95,29").
                feats["row_amounts"] = float(sum(1 for _ in _value_spans("amount", words)))
                feats["other_amount_label"], feats["discount_label"] = _other_amount_label(context, row, box)
                # Shipping, packing, postage: a charge beside the goods, none of the three totals.
                feats["charge_label"] = float(_names_a_charge(row, box, context.labels[row.index]))
                # A zero is a tax ("0% VAT 0,00"), never a net amount or a total; a credit note
                # prints its amounts negative.
                for money in _MONEY_FIELDS if value != 0 else ("tax_amount",):
                    cand = Candidate(money, value, text, row.page, box, "layout", None, dict(feats))
                    out[money].append(cand)


def _names_a_charge(row: Row, box: BBox, labels: list[LabelMatch]) -> bool:
    """The words of the amount's segment before it start with a charge ("Shipping", "Frais de
    port", "zzgl. Versandkosten"), and no amount's label follows ("Versandkosten USt. 19 %"
    names the charge's tax)."""
    if any(m.kind in _MONEY_FIELDS and row.box_of(m.start, m.end)[2] <= box[0] for m in labels):
        return False
    segment = row.segment_of(next((i for i, w in enumerate(row.words) if w.x0 >= box[0]), 0))
    before = [row.words[i].text for i in segment if row.words[i].x1 <= box[0]]
    if not before and segment and segment[0] > 0:
        # The label stands in a cell of its own left of the amount's ("Shipping   5,90").
        previous = row.segment_of(segment[0] - 1)
        before = [row.words[i].text for i in previous]
    words = [t for w in before for t in tokens(w)]
    if words[:1] and words[0] in _CHARGE_LEADS:
        words = words[1:]
    return any(tuple(words[:n]) in _CHARGES for n in range(1, 5))


# Words before a charge's name: "zzgl. Versandkosten", "plus shipping", "+ Porto".
_CHARGE_LEADS = frozenset({"zzgl", "zuzuglich", "plus", "add", "incl", "inkl", "inklusive", "including"})


def _other_amount_label(context: PageContext, row: Row, box: BBox) -> tuple[float, float]:
    """The weight of a payment, carried-sum or discount label left of ``box`` ("Cash",
    "Change", "Übertrag", "Gesamtrabatt"), and of a discount's alone.

    Read in the amount's row and in any row beside it that it overlaps: a receipt's label and
    amount are often printed a little apart in height, and end up in two rows.
    """
    middle = (box[1] + box[3]) / 2
    weight = discount = 0.0
    for other in context.rows:
        if other is not row and not other.top <= middle <= other.bottom:
            continue
        for m in context.labels[other.index]:
            if m.kind in _OTHER_AMOUNTS and other.box_of(m.start, m.end)[2] <= box[0]:
                weight = max(weight, m.weight)
                if m.kind == "discount":
                    discount = max(discount, m.weight)
    return weight, discount


# Labels whose value is something other than a reference of the invoice: a customer or
# delivery-note number, a phone number, the order number, a VAT id, an account, another date.
_OTHER_VALUE_KINDS = frozenset(
    {"other_id", "po_number", "order_ref", "buyer_tax_id", "vendor_tax_id", "vendor_iban", "buyer_account"}
    | {"other_date", "due_date"}
)
# Labels of a date that is not the invoice's: a delivery or service date, the due date.
_OTHER_DATE_KINDS = frozenset({"other_date", "due_date"})
# "seit 1977", "since 1964", "dal 1964": a year the vendor was founded in, no reference.
_YEAR = re.compile(r"(1[89]|20)\d\d")
_SINCE = frozenset(
    {"since", "seit", "depuis", "sinds", "sedert", "dal", "desde", "dagli", "founded", "established",
     "est", "gegrundet", "fonde", "fondee", "opgericht", "fondata", "fondato", "fundada", "fundado"}
)  # fmt: skip
# "Reference" alone may name the invoice's own number as well as any other: it explains nothing.
_BARE_REFERENCES = frozenset({"reference", "referenz", "referentie", "riferimento", "referencia", "ref"})
# Street words (a number beside one is a house number) and the endings of street compounds.
_STREET_WORDS = frozenset(
    {"rue", "avenue", "av", "ave", "boulevard", "bd", "blvd", "chemin", "chaussee", "allee", "place",
     "impasse", "quai", "route", "via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo",
     "calle", "avenida", "avda", "plaza", "paseo", "carrer", "camino", "ronda", "street", "st", "road",
     "rd", "lane", "drive", "way", "close", "square", "court", "crescent", "terrace", "parkway",
     "highway", "straat", "laan", "weg", "plein", "strasse", "str", "platz", "gasse", "ring", "damm",
     "postfach", "box", "apartado", "casella", "postbus", "bp", "cs"}
)  # fmt: skip
_STREET_ENDINGS = (
    "strasse", "straße", "str", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "straat", "laan",
    "plein", "gracht", "kade", "dijk", "singel", "steeg", "road", "street",
)  # fmt: skip
# A house number, or a range of them ("Waldstrasse 86-90").
_HOUSE_NUMBER = re.compile(r"\d{1,5}[a-zA-Z]?(?:[-–/]\d{1,5}[a-zA-Z]?)?[,.]?")
_POSTCODE = re.compile(r"(?:[A-Z]{1,2}-)?\d{4,5}[,]?")
# British and Irish postcodes print an outward code and an inward one: "EC1A 1BB", "D02 X285";
# Dutch ones four digits and two capitals: "2511 CV".
_POSTCODE_OUT = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?")
_POSTCODE_IN = re.compile(r"\d[A-Z\d]{2}|[A-Z\d]{4}")
_POSTCODE_LETTERS = re.compile(r"[A-Z]{2}")
# Letters OCR reads for the digits of a postcode or a house number ("S611 AZ", "L37a").
_AS_DIGITS = str.maketrans({"S": "5", "O": "0", "o": "0", "I": "1", "l": "1", "L": "1", "B": "8", "Z": "2"})
_PART_BREAKS = frozenset({"·", "|", "•", "–", "—"})


def _explained_words(context: PageContext, r: int, row: Row) -> set[int]:
    """Words of ``row`` already explained as something other than the invoice's number.

    Pieces of a VAT id or an IBAN printed in groups ("IT 300 819 80341"), house numbers,
    postcodes and phone numbers, and the value of a label of another kind: after it in its
    segment ("Klantnr. 3206936", "Tel. 668 6000983") or under it ("N. ordine" over "TE/6826").
    """
    words = [w.text for w in row.words]
    out: set[int] = set()
    for kind in ("vat_id", "iban"):
        for a, b, _ in _value_spans(kind, words):
            out.update(range(a, b))
    if context.ocr:
        for search in (find_misread_vat_ids, find_misread_ibans):
            for a, b, _ in _value_spans("vat_id", words, search):
                out.update(range(a, b))
    out.update(_address_words(row, context.labels[row.index]))
    out.update(_street_over_postcode(context, r, row))
    labels = [m for m in context.labels[row.index] if m.phrase not in _BARE_REFERENCES]
    for index in range(len(words)):
        if index > 0 and _YEAR.fullmatch(words[index]) and set(tokens(words[index - 1])) & _SINCE:
            out.add(index)  # "Familienbetrieb seit 1977": the year the firm was founded
        nearest = _naming_label(labels, row, index)
        if (nearest is not None and nearest.kind in _OTHER_VALUE_KINDS) or _claimed_above(
            context, r, row.words[index].bbox
        ):
            out.add(index)
    return out


def _street_over_postcode(context: PageContext, r: int, row: Row) -> set[int]:
    """The house number ending a line set right over a postcode and town ("Im Winkel 97a" over
    "10117 Berlin"): a street line, whether or not its name holds a street word."""
    below = context.rows[r + 1] if r + 1 < len(context.rows) else None
    if below is None or below.top - row.bottom > 1.5 * row.height:
        return set()
    out: set[int] = set()
    for segment in row.segments:
        last = segment[-1]
        if len(segment) < 2 or not _HOUSE_NUMBER.fullmatch(row.words[last].text):
            continue
        left = row.words[segment[0]].x0
        start = next((i for i, w in enumerate(below.words) if abs(w.x0 - left) <= row.height), None)
        if start is None or start + 1 >= len(below.words):
            continue
        after = [w.text for w in below.words[start : start + 3]] + ["", ""]
        if _postcode(after[0], after[1], after[2], start + 1, set()):
            out.add(last)
    return out


def _naming_label(labels: list[LabelMatch], row: Row, index: int) -> LabelMatch | None:
    """The label that names the value at word ``index``: the nearest before it in its segment,
    or one that ends the segment before when the value starts its own, a column gap apart
    ("Réf. commande:    PO45439")."""
    segment = row.segment_of(index)
    before = [m for m in labels if m.end <= index and m.start in segment and m.kind in _NAMING_KINDS]
    if not before and index == segment[0] and index > 0:
        previous = row.segment_of(index - 1)
        before = [m for m in labels if m.start in previous and m.end == index and m.kind in _NAMING_KINDS]
    return max(before, key=lambda m: m.end) if before else None


def _claimed_above(
    context: PageContext, r: int, box: BBox, kinds: frozenset[str] = _OTHER_VALUE_KINDS
) -> bool:
    """True when the nearest label over ``box`` (two rows up at most) names another kind of value."""
    row = context.rows[r]
    for above in reversed(context.rows[max(0, r - 2) : r]):
        if row.top - above.bottom > 2.5 * row.height:
            break
        over = [
            m
            for m in context.labels[above.index]
            if m.kind in _NAMING_KINDS and h_overlap(above.box_of(m.start, m.end), box) > 0
        ]
        if over:
            return over[0].kind in kinds and over[0].phrase not in _BARE_REFERENCES
        if any(h_overlap(w.bbox, box) > 0 for w in above.words):
            return False  # a value or a text over it: whatever labels it stands higher up
    return False


def _dated_otherwise(context: PageContext, r: int, row: Row, index: int) -> bool:
    """True when a label of another date names the date at word ``index``: the label beside it
    ("Date de livraison 02-08-2023", ``_naming_label``), or else the one over it (a
    "Lieferdatum" column beside the "Rechnungsdatum" one)."""
    labels = context.labels[row.index]
    nearest = _naming_label(labels, row, index)
    if nearest is None:
        # "Leipzig, 17. November 2024" under "Bitte zahlen bis:": a town makes it the letter's date.
        return not _town_before_in_row(row, index) and _claimed_above(
            context, r, row.words[index].bbox, _OTHER_DATE_KINDS
        )
    segment = row.segment_of(nearest.start)
    return nearest.kind in _OTHER_DATE_KINDS or _hints_other_date(labels, nearest, segment)


def _hints_other_date(labels: list[LabelMatch], hint: LabelMatch, segment: list[int]) -> bool:
    """True when ``hint`` is a "vom"/"du"/"del" after another document's label and number
    ("Lieferschein 908703 vom 19.07.2026", "Bestellung 4711 vom ..."): that document's date."""
    if hint.kind != "date_hint":
        return False
    before = [m for m in labels if m.end <= hint.start and m.start in segment and m.kind in _NAMING_KINDS]
    return bool(before) and max(before, key=lambda m: m.end).kind in _OTHER_VALUE_KINDS


def _address_words(row: Row, labels: list[LabelMatch]) -> set[int]:
    """House numbers, postcodes and phone numbers of ``row`` ("Kerkstraat 90b", "80b boulevard
    Gambetta", "D02 X285 Dublin", "+39 451 1009808"): numbers, but no reference of the invoice."""
    words = [w.text for w in row.words]
    folded = [tokens(w) for w in words]
    label_starts = {m.start for m in labels}
    parts: list[list[int]] = []
    for segment in row.segments:
        parts.append([])
        for i in segment:
            if words[i] in _PART_BREAKS:
                parts.append([])
            else:
                parts[-1].append(i)
    out: set[int] = set()
    for part in parts:
        streets = [i for i in part if any(_street_word(t) for t in folded[i])]
        phone = False
        postcode = None
        for n, i in enumerate(part):
            word = words[i]
            if word.startswith("+") and word[1:].isdigit():
                phone = True  # "+39 451 1009808": the words of the number follow
            if phone and word.strip("+()/-").isdigit():
                out.add(i)
                continue
            phone = False
            # Near a street word, or ending a line a street word starts ("Avenida de la
            # Constitución, 118b").
            near = any(abs(s - i) <= 3 for s in streets) or (part[0] in streets and i == part[-1])
            if _HOUSE_NUMBER.fullmatch(word) and near:
                out.add(i)
            after = [words[j] for j in part[n + 1 : n + 3]] + ["", ""]
            if _postcode(word, after[0], after[1], part[n + 1] if n + 1 < len(part) else None, label_starts):
                postcode = n
                out.add(i)
                if _POSTCODE_OUT.fullmatch(word) or _POSTCODE_LETTERS.fullmatch(after[0]):
                    out.add(part[n + 1])
        if postcode is not None:
            # "Kerkstraat 137a, 5611 AZ Eindhoven": before the postcode, numbers are the street's.
            out.update(i for i in part[:postcode] if _HOUSE_NUMBER.fullmatch(words[i].translate(_AS_DIGITS)))
    return out


def _postcode(word: str, nxt: str, then: str, nxt_index: int | None, label_starts: set[int]) -> bool:
    """True when ``word`` starts a postcode and town: "80331 München", "EC1A 1BB", "2511 CV Den Haag"."""
    if nxt_index is None or nxt_index in label_starts:
        return False
    digits = word.translate(_AS_DIGITS)
    if _POSTCODE_OUT.fullmatch(word) and _POSTCODE_IN.fullmatch(nxt):
        return True
    if re.fullmatch(r"\d{4}", digits) and _POSTCODE_LETTERS.fullmatch(nxt) and then[:1].isupper():
        return True
    return _POSTCODE.fullmatch(digits) is not None and nxt[:1].isupper() and nxt.isalpha()


def _street_word(token: str) -> bool:
    return token in _STREET_WORDS or (len(token) > 6 and token.endswith(_STREET_ENDINGS))


# "4x40", "M8x40", "10 x 10 cm": a size, not a reference.
_SIZE = re.compile(r"[A-Za-z]{0,2}\d+(?:[.,]\d+)?[x×X*]\d+(?:[.,]\d+)?[a-z]{0,3}")
# "9.00-17.30", "08:00–12:00", "14:05": a time of day or a span of them (opening hours, when a
# receipt was printed), not a reference.
_TIME = r"(?:[01]?\d|2[0-4])[.:][0-5]\d"
_TIMES = re.compile(rf"{_TIME}\s?[-–]\s?{_TIME}|(?:[01]?\d|2[0-4]):[0-5]\d(?::[0-5]\d)?")


def _id_like(text: str, a: int, b: int, dates: list[tuple[int, int, Any]]) -> bool:
    """A reference number: three characters or more with a digit, not part of a date or an
    amount, and no size ("M8x40") or time of day ("9.00-17.30")."""
    if len(text) < 3 or any(da <= a and b <= db for da, db, _ in dates) or _SIZE.fullmatch(text):
        return False
    if _TIMES.fullmatch(text):
        return False
    if _other_label_glued(text) or _is_iban(text) or _misread_dotted_form(text):
        return False
    # "1.234,56" and "19%" are an amount and a rate; "4711" and "RE-2026-07" may be references.
    return not (_AMOUNT_OR_RATE.fullmatch(text) and (_CENTS.search(text) or text.endswith("%")))


# Digits OCR reads for the letters of a legal form.
_FORM_DIGITS = str.maketrans({"1": "l", "0": "o", "5": "s", "8": "b"})


def _misread_dotted_form(text: str) -> bool:
    """A legal form written with stops that OCR read with a digit for a letter ("S.r.1."): the
    end of a company name, not a reference."""
    return (
        "." in text
        and text != text.translate(_FORM_DIGITS)
        and bool(_LEGAL_FORM.fullmatch(text.translate(_FORM_DIGITS)))
    )


def _is_iban(text: str) -> bool:
    """An account number printed whole: an IBAN, its check digits right or not."""
    compact = text.strip(_EDGE_MARKS)
    whole = (0, len(compact))
    return parse_iban(compact) is not None or any(span == whole for span, _ in find_unchecked_ibans(compact))


def _label_inside_name(row: Row, segment: list[int], labelled: list[LabelMatch]) -> bool:
    """True when the segment's only labels are vendor words set inside a capitalised name, after
    a capitalised word and with no colon ("Nordic Supplier Company", "LE VENDEUR"): a heading
    or a label before a name starts its segment ("Supplier: Acme Ltd", "From Acme Ltd")."""
    if any(m.kind != "vendor" for m in labelled):
        return False
    for m in labelled:
        before, label = row.words[m.start - 1] if m.start > segment[0] else None, row.words[m.end - 1]
        if before is None or not before.text[:1].isupper() or not before.text.isalpha():
            return False
        if not label.text[:1].isupper() or label.text.endswith(":") or " ".join(tokens(label.text)) == "from":
            return False
    return True


def _wordmark_before(words: list[Word], printed: list[str]) -> bool:
    """True when ``words`` start with a word repeated ("BECKER BECKER & ZIMMERMANN AG") and a row
    of ``printed`` (folded token strings) holds the rest without the repetition."""
    if len(words) < 3 or not words[0].text.isalpha() or fold(words[0].text) != fold(words[1].text):
        return False
    rest = " ".join(t for w in words[1:] for t in tokens(w.text))
    doubled = f"{' '.join(tokens(words[0].text))} {rest}"
    return any(rest in text and doubled not in text for text in printed)


def vendor_name_candidates(contexts: list[PageContext]) -> list[Candidate]:
    """Company-name-like segments: legal form, big or bold type, page top or footer, not the buyer."""
    out: list[Candidate] = []
    printed = [" ".join(tokens(row.text)) for c in contexts for row in c.rows]
    sizes = [w.size or w.height for c in contexts[:1] for row in c.rows for w in row.words]
    base = sorted(sizes)[len(sizes) // 2] if sizes else 1.0
    domains = printed_domains(
        w.text for c in contexts for row in c.rows for w in row.words if id(w) not in c.buyer_words
    )
    for context in contexts[:1]:
        blocks: list[tuple[Row, list[Any], bool]] = []
        # "Lieferant" / "Supplier" above a column: the first line under it names the vendor.
        # On OCR'd pages logo debris after the label ("Rechnungsersteller Fe R D sm") leaves it a head.
        vendor_heads = [
            (row.index, row.box_of(m.start, m.end))
            for row in context.rows
            for m in context.labels[row.index]
            if m.kind == "vendor"
            and (
                m.end - m.start == len(row.segment_of(m.start))
                or (context.ocr and _debris_after(row, m.start, m.end))
            )
        ]
        for row in context.rows:
            if row.index in context.table_rows:
                continue
            labels = context.labels[row.index]
            for segment in row.segments:
                words = [row.words[i] for i in segment]
                if any(id(w) in context.buyer_words for w in words):
                    continue
                if is_title(" ".join(w.text for w in words)):
                    continue
                # "Lieferant GmbH": a label word followed by a legal form is part of the name.
                # "vom"/"van"/"de" label only a date that follows them at once: in a name
                # ("Visser & van Dijk N.V.", "Maison de la Presse") they are words of it.
                labelled = [
                    m
                    for m in labels
                    if m.start in segment
                    and m.kind != "date_hint"
                    and not (m.kind == "vendor" and _legal_form_at(row, m.end))
                ]
                vendor_label = any(m.kind == "vendor" for m in labelled)
                below_head = any(
                    0 < row.index - r_index <= 2 and abs(words[0].x0 - box[0]) < 15
                    for r_index, box in vendor_heads
                )
                if labelled and not vendor_label:
                    # "Acme GmbH · Street 1 · VAT ID DE..." — only what precedes the first label.
                    first = min(labelled, key=lambda m: m.start)
                    words = words[: first.start - segment[0]]
                    if first.kind in _TITLE_KINDS and _qualifies_title(row, words, first.start):
                        continue
                elif vendor_label and _label_inside_name(row, segment, labelled):
                    vendor_label = False  # "Nordic Supplier Company": a word of the name
                elif vendor_label:  # "From: Acme GmbH" — the name is what follows the label
                    skip = max(m.end for m in labelled if m.kind == "vendor") - segment[0]
                    words = words[skip:]
                if words and context.ocr:
                    words = _without_debris(words)
                if words:
                    blocks.append((row, words, vendor_label or below_head))
        # A name that spells the vendor's domain, wherever it is printed ("Ihre Leistungen von
        # Nordwind Telecom" beside nordwindtelecom.fr), with the legal form that follows it.
        for row in context.rows:
            if row.index in context.table_rows:
                continue
            for a, b in spelled_spans([w.text for w in row.words], domains):
                b = _past_legal_form(row.words, b)
                span = row.words[a:b]
                if not any(id(w) in context.buyer_words for w in span) and all(
                    words != span for _, words, _ in blocks
                ):
                    blocks.append((row, span, False))
        # A name set in large type may wrap: "Sterling Hygiène" over "Limited", left-aligned or
        # centred (receipts centre their heading: "BRIGHTWATER HARDWARE &" over "PAINTS").
        wrapped: set[int] = set()
        for (row, words, label), (_, words2, _) in _stacked_blocks(blocks):
            # The middle height of each line's words: OCR boxes a word with descenders taller.
            size, size2 = _line_size(words), _line_size(words2)
            centre = (words[0].x0 + words[-1].x1) / 2 - (words2[0].x0 + words2[-1].x1) / 2
            if (
                (abs(words[0].x0 - words2[0].x0) < max(2, 0.2 * size) or abs(centre) < 0.5 * size)
                and abs(size - size2) < max(0.5, 0.15 * size)
                and words2[0].top - words[-1].bottom < 1.1 * size
                and len(words2) <= 3
                # "Receipt# : CS00031415" under a name: a label and its number, not the name's end.
                and not any(w.text.endswith(":") for w in words2)
                # "Beispiel AG" over "Feldstraße 34": a street line is no part of the name.
                and _ADDRESS.search(" ".join(w.text for w in words2)) is None
                # "Acme Ltd" over "Lambert Conseil SRL": each ends in its legal form, two names.
                and not _two_names(words, words2)
            ):
                blocks.append((row, words + words2, label))
                wrapped.add(len(blocks) - 1)
        id_rows = {row.index for row in context.rows if _names_an_id(row)}
        owners = {row.index for row in context.rows if row.index in id_rows and _owns_an_id(row, context)}
        window = _address_window(context)
        for b_index, (row, words, vendor_label) in enumerate(blocks):
            # A wordmark before the name that repeats its first word ("BECKER" before "BECKER &
            # ZIMMERMANN AG") is the logo, not a word of the name, where the name is printed
            # without it elsewhere (a footer); a name that doubles a word ("KIM KIM HARDWARE") is not.
            if _wordmark_before(words, printed):
                words = words[1:]
            text = " ".join(w.text for w in words)
            if sum(c.isalpha() for c in text) < 3:
                continue
            first_letter = next((c for c in text if c.isalnum()), "")
            parts = len(_NAME_SEPARATORS.split(text))
            for name, start, end in _name_spans(text, words):
                if _cut_short(name) or (context.ocr and _handwritten(name)):
                    continue
                if context.ocr:
                    name = repair_legal_form(name)
                box = union([w.bbox for w in words[start:end]])
                size = max((w.size or w.height) for w in words[start:end])
                legal = _LEGAL_FORM.search(name)
                feats = _features(context, box, None, "layout")
                feats.update(
                    {
                        "legal_form": float(bool(legal)),
                        "only_legal_form": float(
                            legal is not None and legal.group(0).strip() == name.strip()
                        ),
                        "size_ratio": size / base if base else 1.0,
                        "bold": float(any(w.bold for w in words[start:end])),
                        "vendor_label": float(vendor_label),
                        "footer": float(box[1] > 0.8 * context.height),
                        "whole_segment": float(end - start == len(words)),
                        "n_words": float(end - start),
                        "digits": float(sum(c.isdigit() for c in name)),
                        "upper": float(name.isupper()),
                        # Company names start with a capital or a digit; OCR noise from a logo
                        # ("cest", "@fte Im") does not.
                        "capitalised": float(first_letter.isupper() or first_letter.isdigit()),
                        # The imprint line "Acme GmbH · Street 1 · VAT DE123…" names the company
                        # that owns the VAT id / IBAN: the vendor, when it is not the buyer's.
                        "id_row": float(row.index in id_rows),
                        # "Acme GmbH · Hauptstr. 5 · 10115 Berlin": the sender line above the
                        # address window, or the imprint, starts with the vendor's name.
                        "sender_line": float(parts >= 3 and start == 0 and end < len(words)),
                        # "Lieferantenstraße 20", "80333 München", "P.O. Box 12": an address line.
                        "address": float(_ADDRESS.search(name) is not None),
                        "wrapped": float(b_index in wrapped),
                        # First line of the address window of a letter: the recipient.
                        "window": float(row.index in window and start == 0),
                        # The name spells a web or mail domain printed outside the buyer's block.
                        "domain_name": domain_match(_LEGAL_FORM.sub(" ", name).split(), domains),
                        # ... spells it whole (for the extractor's rule, not a ranker feature).
                        "domain_exact": float(names_domain(_LEGAL_FORM.sub(" ", name).split(), domains)),
                        # ... heads a block of rows that prints a VAT id or an IBAN no buyer's
                        # label claims (for the extractor's rule, not a ranker feature).
                        "block_ids": float(_heads_an_id_block(context, row, box, owners)),
                    }
                )
                out.append(Candidate("vendor_name", name, name, row.page, box, "layout", None, feats))
    return out


def _debris(words: list[Word]) -> list[bool]:
    """Which of a segment's OCR'd words are debris rather than print: read with little
    confidence (unless a capitalised word is spelled out), or in a run of fragments ("Fe R D |":
    what OCR reads in a logo drawn as graphics).
    Letter-spaced capitals ("A C M E") are a word spaced out, not fragments."""
    fragment = [_fragment(w.text) for w in words]
    out = [w.confidence < DEFAULT.debris_confidence and not _spelled_word(w.text) for w in words]
    start = 0
    while start < len(words):
        if not fragment[start]:
            start += 1
            continue
        end = start
        while end < len(words) and fragment[end]:
            end += 1
        run = [w.text for w in words[start:end]]
        spaced = len(run) >= 4 and all(len(t) == 1 and t.isupper() for t in run)
        if end - start >= DEFAULT.fragment_run and not spaced:
            out[start:end] = [True] * (end - start)
        start = end
    return out


def _spelled_word(text: str) -> bool:
    """A capitalised word of letters ("Nordwind", a speck beside it aside): OCR unsure of it
    (a speck, a faint or large letter) read a word, not a logo's strokes."""
    core = text.strip(_EDGE_MARKS)
    capitalised = core[:1].isupper() and core[1:].islower()
    return len(core) >= DEFAULT.spelled_letters and core.isalpha() and capitalised


def _fragment(text: str) -> bool:
    """One or two letters, or marks alone ("R", "Fe", "|"); not "&", a legal form or a number."""
    if text in {"&", "+"} or _LEGAL_FORM.fullmatch(text) or text.strip(_EDGE_MARKS).isdigit():
        return False
    return sum(c.isalnum() for c in text) <= 2


def _without_debris(words: list[Word]) -> list[Word]:
    """The words of a name candidate without OCR debris at either end; none when debris is half
    of them or more (the rest is the same logo read as letters: "FeRD | ce")."""
    debris = [d or _stray_mark(w.text) for w, d in zip(words, _debris(words), strict=True)]
    if 2 * sum(debris) >= len(words):
        return []
    start, end = 0, len(words)
    while start < end and debris[start]:
        start += 1
    while end > start and debris[end - 1]:
        end -= 1
    kept = words[start:end]
    # A speck OCR read as an opening quote before the name ("‘Nordwind"), closed nowhere in it.
    if kept and kept[0].text[:1] in _OPENING_QUOTES and len(kept[0].text) > 1:
        printed = " ".join(w.text for w in kept)
        if not any(c in printed for c in _CLOSING_QUOTES):
            kept[0] = dataclasses.replace(kept[0], text=kept[0].text[1:])
    return kept


_OPENING_QUOTES = frozenset('‘“"«‚„')  # not "'": Dutch names start with "'t"
_CLOSING_QUOTES = frozenset("’”»")


def _stray_mark(text: str) -> bool:
    """A mark alone that separates nothing in a name ("|", "=", "£"): a stroke of a logo or a rule
    read as a character. Separators ("&", "-", "·", "/") are words of a sender line."""
    return not any(c.isalnum() for c in text) and text not in _SEPARATOR_MARKS


_SEPARATOR_MARKS = frozenset({"&", "+", "-", "–", "—", "·", "•", "/", ",", "."})


def _debris_after(row: Row, start: int, end: int) -> bool:
    """True when a label starts its segment (words ``start`` to ``end``) and the rest of the
    segment is OCR debris."""
    segment = row.segment_of(start)
    rest = [row.words[i] for i in segment if i >= end]
    return segment[0] == start and bool(rest) and all(_debris(rest))


def _past_legal_form(words: Sequence[Word], start: int, longest: int = 3) -> int:
    """The index after the legal form that starts at ``words[start]``, of up to ``longest`` words
    ("GmbH", "UG (haftungsbeschränkt)", "GmbH & Co. KG"); ``start`` when none does."""
    for end in range(min(len(words), start + longest), start, -1):
        if _LEGAL_FORM.fullmatch(" ".join(w.text for w in words[start:end])):
            return end
    return start


def _line_size(words: list[Word]) -> float:
    sizes = sorted(w.size or w.height for w in words)
    return sizes[len(sizes) // 2]


def _cut_short(name: str) -> bool:
    """A name that ends in an ampersand goes on in the next line ("Smith &" over "Sons"): the
    line alone is no name (the wrapped one, when the next line was found, is a candidate)."""
    return name.rstrip().endswith("&")


def _handwritten(name: str) -> bool:
    """Letters and not one capital among them, on an OCR'd page: what someone wrote on the paper
    (a name, a note) or what OCR made of a scribble; shops and companies print their name in
    capitals or with capital initials."""
    letters = [c for c in name if c.isalpha()]
    return len(letters) >= 3 and not any(c.isupper() for c in letters)


def _stacked_blocks(
    blocks: list[tuple[Row, list[Any], bool]],
) -> list[tuple[tuple[Row, list[Any], bool], tuple[Row, list[Any], bool]]]:
    """Pairs of blocks where the second is the next one under the first in its column: the
    next row, or the one after when a row of another column lies between them by height
    ("Packaging" over "Lockwood DAC" beside a sender line set a little lower)."""
    pairs = []
    for n, first in enumerate(blocks):
        row, words = first[0], first[1]
        for second in blocks[n + 1 : n + 4]:
            row2, words2 = second[0], second[1]
            if row2.index > row.index + 2:
                break
            if (
                row2.index > row.index
                and h_overlap(union([w.bbox for w in words]), union([w.bbox for w in words2])) > 0
            ):
                pairs.append((first, second))
                break
    return pairs


def _two_names(first: list[Word], second: list[Word]) -> bool:
    """True when the line over another already ends in a legal form and so does the other, which
    is more than a legal form ("Müller GmbH & Co." over "KG" is one name)."""
    top, below = " ".join(w.text for w in first), " ".join(w.text for w in second)
    ends = [m for m in _LEGAL_FORM.finditer(below) if m.end() >= len(below.rstrip(" .,"))]
    return (
        any(m.end() >= len(top.rstrip(" .,")) and "&" not in m.group(0) for m in _LEGAL_FORM.finditer(top))
        and bool(ends)
        and ends[-1].start() > 0
    )


# Legal forms as they end a name, in the spelling a repaired OCR slip is given.
_LEGAL_FORM_SPELLING = {
    "plc": "plc", "ltd": "Ltd", "llc": "LLC", "inc": "Inc", "gmbh": "GmbH", "sarl": "SARL", "eurl": "EURL",
    "sas": "SAS", "ohg": "OHG",
}  # fmt: skip
# What OCR makes of the letters of a legal form, besides the look-alikes the labels share.
_LEGAL_FORM_SLIPS = str.maketrans({"e": "c", "o": "c", "1": "l", "i": "l", "|": "l", "8": "b", "0": "o"})


# Legal forms written with full stops between their letters (letters folded, three or more):
# an OCR slip in one of them is put right in place, the stops and the other letters as printed.
_DOTTED_FORMS = frozenset({"srl", "sas", "slu", "spa", "sau", "snc", "srls", "sprl", "scrl", "vof", "sarl"})
# Punctuation around a printed word ("(haftungsbeschränkt)", "Schäfer,"): not part of its spelling.
_WORD_MARKS = "()[]{}.,;:!?\"'«»‚‘’“”"
# Words of a legal form OCR prints without their accents ("UG (haftungsbeschrankt)").
_FORM_ACCENTS = {"haftungsbeschrankt": "haftungsbeschränkt"}


def document_spellings(words: Iterable[str]) -> dict[str, Counter[str]]:
    """How often each spelling of a word is printed, by the word without accents and case
    ("Schäfer" and "Schafer" under "schafer"); only words of letters, so a domain
    ("schafer.example") keeps its spelling."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for text in words:
        core = unicodedata.normalize("NFC", text.strip(_WORD_MARKS))
        if core.isalpha():
            out[fold(core)][core] += 1
    return out


def accents_from_document(
    name: str, spellings: dict[str, Counter[str]], min_letters: int, lines: Sequence[Sequence[str]] = ()
) -> str:
    """A name with the accents OCR lost or mistook put back from the document's other readings of
    its words: "Schafer & Becker" with "Schäfer" in the footer is "Schäfer & Becker"; "Lefévre"
    read once against "Lefèvre" read three times is "Lefèvre"; "Birobedarf" or "Biirobedarf" (a
    "ü" read as another letter or as two strokes) with "Bürobedarf" in the footer is "Bürobedarf".

    A word without accents takes the likeliest accented spelling; a word with accents takes
    another only when that one is read more often. Each letter keeps its case as read. A letter
    read as another ("Birobedarf") takes a spelling only from ``lines`` (the page's lines, as
    words) that print another word of the name beside it: "Miller" is not "Müller".
    """
    name_words = {w.strip(_WORD_MARKS).casefold() for w in name.split(" ")}
    out = []
    for word in name.split(" "):
        lead = len(word) - len(word.lstrip(_WORD_MARKS))
        printed = word.strip(_WORD_MARKS)
        core = unicodedata.normalize("NFC", printed)
        # A legal form ("SARL", "GmbH") is spelled without accents; OCR adds them too ("SÁRL").
        word_of_name = core.isalpha() and len(core) >= min_letters and not _LEGAL_FORM.fullmatch(core)
        seen = spellings.get(fold(core), Counter()) if word_of_name else Counter()
        accented = [(n, s) for s, n in seen.items() if not s.isascii() and len(s) == len(core)]
        if word_of_name and not accented and core.isascii():
            # OCR reads an accented letter in large type as another plain one ("Birobedarf"):
            # a spelling that differs only where it has its accents is the word.
            others = name_words - {core.casefold()}
            beside = document_spellings(
                w for line in lines if others & {x.strip(_WORD_MARKS).casefold() for x in line} for w in line
            )
            accented = [
                (n, s)
                for spelled in beside.values()
                for s, n in spelled.items()
                if not s.isascii()
                and len(s) == len(core)
                and all(a.lower() == b.lower() or not b.isascii() for a, b in zip(core, s, strict=True))
            ]
        if word_of_name and not accented and core.isascii():
            # ... or the two strokes of a "ü" as "ii" ("Biirobedarf").
            for at in (i for i in range(len(core) - 1) if core[i : i + 2].lower() == "ii"):
                read_as = core[:at] + ("U" if core[at].isupper() else "u") + core[at + 2 :]
                variant = spellings.get(fold(read_as), Counter())
                umlauts = [(n, s) for s, n in variant.items() if "ü" in s.lower() and len(s) == len(read_as)]
                if umlauts:
                    core, accented, seen = read_as, umlauts, variant
                    break
        if accented:
            count, best = max(accented)
            if core.isascii() or count > seen[core]:
                fixed = "".join(
                    b.upper() if c.isupper() else b.lower() for c, b in zip(core, best, strict=True)
                )
                word = word[:lead] + fixed + word[lead + len(printed) :]
        out.append(word)
    return " ".join(out)


# A company with a Spanish legal form ("S.L.", "S.L.U.", "S.A.U.", "S.Coop."): OCR that reads
# German and French, not Spanish, sees the acute accent of "á", "é", "í", "ó" as a diaeresis
# ("Sänchez", "Väzquez"). Spanish spells no "ä", "ë", "ï" or "ö" ("ü" it has: "Güell").
_SPANISH_FORM = re.compile(r"(?:^|\s)(?:S\.?L\.?U?\.?|S\.?A\.?U\.?|S\.?L\.?L\.?|S\.? ?Coop\.?)$")
_SPANISH_ACUTE = str.maketrans("äëïöÄËÏÖ", "áéíóÁÉÍÓ")


def spanish_acutes(name: str) -> str:
    """``name`` with the diaereses OCR read for acute accents put back, when its legal form is
    Spanish; any other name as it is."""
    return name.translate(_SPANISH_ACUTE) if _SPANISH_FORM.search(name) else name


def repair_legal_form(name: str) -> str:
    """A name whose last word is a legal form misread by OCR, spelled right ("Castell Office ple",
    "Servizi Gallo S.r.I.", "Krüger UG (haftungsbeschrankt)").

    Only the last word, only when it is one slip from a legal form of three letters or more and
    is no word of its own; the rest of the name is left as read.
    """
    head, _, last = name.rpartition(" ")
    if not head:
        return name
    bare = last.strip("()")
    if bare.casefold() in _FORM_ACCENTS:
        return f"{head} {last.replace(bare, _FORM_ACCENTS[bare.casefold()])}"
    if "." in last:
        return f"{head} {_dotted_form(last)}"
    if not last.isalnum() or last.casefold() in _LEGAL_FORM_SPELLING:
        return name
    if not last.isascii() and fold(last) in _LEGAL_FORM_SPELLING:  # an accent OCR added: "SÁRL"
        return f"{head} {_LEGAL_FORM_SPELLING[fold(last)]}"
    folded = last.casefold()
    for form, spelling in _LEGAL_FORM_SPELLING.items():
        if len(folded) == len(form) and (
            folded.translate(_LEGAL_FORM_SLIPS) == form or ocr_slip(folded, form)
        ):
            return f"{head} {spelling}"
    return name


def _dotted_form(word: str) -> str:
    """ "S.r.I." -> "S.r.l.": the letters of a dotted legal form with OCR's look-alikes put back."""
    letters = [(i, c) for i, c in enumerate(word) if c.isalnum()]
    folded = "".join(c for _, c in letters).casefold()
    form = folded.translate(_LEGAL_FORM_SLIPS)
    if form == folded or form not in _DOTTED_FORMS or folded in _DOTTED_FORMS:
        return word
    out = list(word)
    for (i, c), right in zip(letters, form, strict=True):
        if c.casefold() != right:
            # Case as the letter before it is printed: "S.r.I." is "S.r.l.", "S.R.I." is "S.R.L.".
            before = next((b for j, b in reversed(letters) if j < i), c)
            out[i] = right.upper() if before.isupper() else right
    return "".join(out)


def _address_window(context: PageContext) -> set[int]:
    """Rows that start an address block in a letter's window: the recipient's name.

    The window sits in the left half of the page, below the letterhead and above the body
    (DIN 5008 and most English/French letters); its block is a name followed within three rows
    by a street or postcode line that starts in the same column.
    """
    out: set[int] = set()
    rows = context.rows
    for r, row in enumerate(rows):
        x0, top = row.words[0].x0, row.top
        if not (x0 < 0.45 * context.width and 0.09 * context.height < top < 0.35 * context.height):
            continue
        if _ADDRESS_LINE.search(row.text_of(0, len(row.segments[0]))):
            continue
        for below in rows[r + 1 : r + 4]:
            if below.top - row.bottom > 4 * row.height:
                break
            if abs(below.words[0].x0 - x0) < 3 and _ADDRESS_LINE.search(
                below.text_of(0, len(below.segments[0]))
            ):
                out.add(row.index)
                break
    return out


def _qualifies_title(row: Row, words: list[Word], label_at: int) -> bool:
    """Words set right before the document's title or number label, at a word space, that name
    no company: they qualify the title ("Taxable invoice no.", "Commercial Invoice #")."""
    if not words or len(words) > 2 or _LEGAL_FORM.search(" ".join(w.text for w in words)):
        return False
    label = row.words[label_at]
    return label.x0 - words[-1].x1 < _TITLE_QUALIFIER_GAP * max(label.height, words[-1].height)


def _legal_form_at(row: Row, index: int) -> bool:
    """True when the words of ``row`` from ``index`` on start with a legal form ("GmbH", "AG")."""
    if index >= len(row.words):
        return False
    match = _LEGAL_FORM.match(row.text_of(index, min(index + 4, len(row.words))))
    return match is not None


def _owns_an_id(row: Row, context: PageContext) -> bool:
    """The row prints a VAT id or an IBAN outside the buyer's block and after no buyer's label."""
    words = [w.text for w in row.words]
    for kind in ("vat_id", "iban"):
        for a, b, _ in _value_spans(kind, words):
            buyers = any(m.kind in _BUYER_ID_KINDS and m.end <= a for m in context.labels[row.index])
            if not buyers and not any(id(w) in context.buyer_words for w in row.words[a:b]):
                return True
    return False


def _heads_an_id_block(context: PageContext, row: Row, box: BBox, owners: set[int]) -> bool:
    """The name's own row, or a row of the block under it (rows close under each other that
    start where the name starts), prints an id the name's company owns."""
    if row.index in owners:
        return True
    height = max(box[3] - box[1], 1.0)
    bottom = box[3]
    for below in context.rows[row.index + 1 : row.index + 1 + _ID_BLOCK_ROWS]:
        starts = [below.words[segment[0]].x0 for segment in below.segments]
        if below.top - bottom > 1.5 * height or not any(abs(x - box[0]) < height for x in starts):
            return False
        if below.index in owners:
            return True
        bottom = below.bottom
    return False


# Rows of a letterhead block under a company's name: address, contact and tax lines.
_ID_BLOCK_ROWS = 6


def _names_an_id(row: Row) -> bool:
    """True when the row prints a VAT id or an IBAN."""
    return any(next(VALUE_TYPES[kind].find(row.text), None) is not None for kind in ("vat_id", "iban"))


def _name_spans(text: str, words: list[Any]) -> list[tuple[str, int, int]]:
    """The segment itself, and the name cut at the legal form when an address follows it."""
    out = [(text, 0, len(words))]
    if match := _LEGAL_FORM.search(text):
        end_char = match.end()
        cut = text[:end_char].strip()
        n = len(cut.split())
        if n < len(words) and n > 0:
            out.append((cut, 0, n))
    for part in _NAME_SEPARATORS.split(text):
        if part != text and _LEGAL_FORM.search(part) and part in text:
            start_word = len(text[: text.index(part)].split())
            n = len(part.split())
            out.append((part.strip(), start_word, start_word + n))
    return out
