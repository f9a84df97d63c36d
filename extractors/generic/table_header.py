"""The column header of a line-item table: which printed words name which column, in EN/DE/FR.

A header is found by its vocabulary, not by its place: a row (or two stacked rows, "Unit" over
"Price") in which words name at least three kinds of column, among them a money column and the
description or quantity. Column x-ranges come from the header words' boxes; words beside the
table (a sidebar, an address block on the same line) are left out of the test, since they sit in
their own gap-separated segment of the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from extractors.generic.geometry import Row
from extractors.generic.labels import tokens
from extractors.values import parse_amount
from textlayer.model import Word, union

NUMERIC_KINDS = (
    "col_quantity",
    "col_unit_price",
    "col_amount",
    "col_tax",
    "col_pos",
    "col_discount",
    "col_number",  # numbers of no known role (a weight, a second price)
)
TEXT_KINDS = ("col_description", "col_sku", "col_unit", "col_text")  # col_text: words of no known role

# Column words as folded tokens (lower case, no accents, punctuation dropped: "Art.-Nr." is
# "art nr", "P.U. HT" is "p u ht"). A phrase listing several kinds is ambiguous ("article" is an
# SKU next to a description column, the description otherwise); the first kind not yet taken
# by an unambiguous word of the same header wins.
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    # position
    "pos": ("col_pos",), "position": ("col_pos",), "pos nr": ("col_pos",), "lfd nr": ("col_pos",),
    "#": ("col_pos",), "no": ("col_pos",), "nr": ("col_pos",), "n °": ("col_pos",), "line": ("col_pos",),
    "ln": ("col_pos",), "ligne": ("col_pos",),
    # SKU / article number
    "sku": ("col_sku",), "item code": ("col_sku",), "item no": ("col_sku",), "item number": ("col_sku",),
    "item #": ("col_sku",), "part no": ("col_sku",), "part number": ("col_sku",), "part #": ("col_sku",),
    "product code": ("col_sku",), "product no": ("col_sku",), "product id": ("col_sku",),
    "code": ("col_sku",), "article no": ("col_sku",), "article number": ("col_sku",),
    "article code": ("col_sku",), "catalog no": ("col_sku",), "cat no": ("col_sku",),
    "model": ("col_sku",), "art nr": ("col_sku",), "art no": ("col_sku",), "artikel nr": ("col_sku",),
    "artikelnummer": ("col_sku",), "artikelnr": ("col_sku",), "art": ("col_sku",),
    "materialnummer": ("col_sku",), "material nr": ("col_sku",), "bestellnr": ("col_sku",),
    "ref": ("col_sku",), "reference": ("col_sku",), "ref article": ("col_sku",),
    "code article": ("col_sku",), "code produit": ("col_sku",), "n ° article": ("col_sku",),
    "article": ("col_sku", "col_description"), "artikel": ("col_sku", "col_description"),
    "item": ("col_description", "col_sku"),
    # description
    "description": ("col_description",), "item description": ("col_description",),
    "product": ("col_description",), "product description": ("col_description",),
    "details": ("col_description",), "particulars": ("col_description",), "service": ("col_description",),
    "services": ("col_description",), "goods": ("col_description",), "items": ("col_description",),
    "bezeichnung": ("col_description",), "beschreibung": ("col_description",),
    "artikelbezeichnung": ("col_description",), "leistung": ("col_description",),
    "leistungsbeschreibung": ("col_description",), "produkt": ("col_description",),
    "text": ("col_description",), "artikel bezeichnung": ("col_description",),
    "designation": ("col_description",), "libelle": ("col_description",), "produit": ("col_description",),
    "prestation": ("col_description",), "description article": ("col_description",),
    # quantity
    "qty": ("col_quantity",), "quantity": ("col_quantity",), "quant": ("col_quantity",),
    "units": ("col_quantity",), "hours": ("col_quantity",), "hrs": ("col_quantity",),
    "qty ordered": ("col_quantity",), "qty shipped": ("col_quantity",), "qty invoiced": ("col_quantity",),
    "menge": ("col_quantity",), "anzahl": ("col_quantity",), "anz": ("col_quantity",),
    "stuck": ("col_quantity",), "stk": ("col_quantity",), "stuckzahl": ("col_quantity",),
    "qte": ("col_quantity",), "quantite": ("col_quantity",), "qt": ("col_quantity",),
    "nombre": ("col_quantity",), "nb": ("col_quantity",),
    # unit of measure
    "unit": ("col_unit",), "uom": ("col_unit",), "u m": ("col_unit",), "einheit": ("col_unit",),
    "me": ("col_unit",), "unite": ("col_unit",), "unit of measure": ("col_unit",),
    # unit price
    "unit price": ("col_unit_price",), "price": ("col_unit_price",), "rate": ("col_unit_price",),
    "unit cost": ("col_unit_price",), "cost": ("col_unit_price",), "price each": ("col_unit_price",),
    "each": ("col_unit_price",), "unit rate": ("col_unit_price",), "price unit": ("col_unit_price",),
    "net price": ("col_unit_price",), "list price": ("col_unit_price",),
    "price per unit": ("col_unit_price",),
    "unit net price": ("col_unit_price",), "einzelpreis": ("col_unit_price",), "preis": ("col_unit_price",),
    "ep": ("col_unit_price",), "e preis": ("col_unit_price",), "stuckpreis": ("col_unit_price",),
    "preis je einheit": ("col_unit_price",), "preis einheit": ("col_unit_price",),
    "einzelpreis netto": ("col_unit_price",), "nettopreis": ("col_unit_price",),
    "netto ep": ("col_unit_price",), "ep netto": ("col_unit_price",), "brutto ep": ("col_unit_price",),
    "prix unitaire": ("col_unit_price",), "prix unit": ("col_unit_price",), "prix": ("col_unit_price",),
    "pu": ("col_unit_price",), "p u": ("col_unit_price",), "pu ht": ("col_unit_price",),
    "p u ht": ("col_unit_price",), "prix unitaire ht": ("col_unit_price",), "prix ht": ("col_unit_price",),
    "tarif": ("col_unit_price",), "prix u": ("col_unit_price",),
    # discount
    "discount": ("col_discount",), "disc": ("col_discount",), "rabatt": ("col_discount",),
    "remise": ("col_discount",), "nachlass": ("col_discount",),
    # tax rate
    "vat": ("col_tax",), "vat rate": ("col_tax",), "tax": ("col_tax",), "tax rate": ("col_tax",),
    "mwst": ("col_tax",), "ust": ("col_tax",), "steuer": ("col_tax",), "steuersatz": ("col_tax",),
    "mwst satz": ("col_tax",), "tva": ("col_tax",), "taux tva": ("col_tax",), "taux": ("col_tax",),
    # line amount
    "amount": ("col_amount",), "line total": ("col_amount",), "total": ("col_amount",),
    "net amount": ("col_amount",), "net value": ("col_amount",), "net": ("col_amount",),
    "value": ("col_amount",), "extended": ("col_amount",), "ext price": ("col_amount",),
    "extended price": ("col_amount",), "total price": ("col_amount",), "line amount": ("col_amount",),
    "net total": ("col_amount",), "betrag": ("col_amount",), "gesamt": ("col_amount",),
    "gesamtpreis": ("col_amount",), "summe": ("col_amount",), "wert": ("col_amount",),
    "nettobetrag": ("col_amount",), "gesamtbetrag": ("col_amount",), "positionsbetrag": ("col_amount",),
    "betrag netto": ("col_amount",), "gesamt netto": ("col_amount",), "netto": ("col_amount",),
    "montant": ("col_amount",), "montant ht": ("col_amount",), "total ht": ("col_amount",),
    "total ligne": ("col_amount",), "prix total": ("col_amount",), "total net": ("col_amount",),
    "montant net": ("col_amount",),
    "nettowert": ("col_amount",), "positionswert": ("col_amount",), "zeilenbetrag": ("col_amount",),
    "gesamtwert": ("col_amount",), "gesamtpreis netto": ("col_amount",), "summe netto": ("col_amount",),
    "einh": ("col_unit",), "mengeneinheit": ("col_unit",), "ve": ("col_unit",),
    "einzelpreis brutto": ("col_unit_price",), "bruttopreis": ("col_unit_price",),
    "listenpreis": ("col_unit_price",), "preis je me": ("col_unit_price",),
    "ust satz": ("col_tax",), "umsatzsteuer": ("col_tax",), "mwst %": ("col_tax",), "steuer %": ("col_tax",),
    # Spanish, Italian and Dutch column words.
    "descripcion": ("col_description",), "concepto": ("col_description",), "detalle": ("col_description",),
    "producto": ("col_description",), "articulo": ("col_sku", "col_description"), "codigo": ("col_sku",),
    "cantidad": ("col_quantity",), "cant": ("col_quantity",), "unidades": ("col_quantity",),
    "unidad": ("col_unit",), "precio": ("col_unit_price",), "precio unitario": ("col_unit_price",),
    "precio unit": ("col_unit_price",), "importe unitario": ("col_unit_price",),
    "importe": ("col_amount",), "importe neto": ("col_amount",), "dto": ("col_discount",),
    "descuento": ("col_discount",), "iva": ("col_tax",), "tipo iva": ("col_tax",),
    "descrizione": ("col_description",), "prodotto": ("col_description",),
    "articolo": ("col_sku", "col_description"), "codice": ("col_sku",), "quantita": ("col_quantity",),
    "qta": ("col_quantity",), "q ta": ("col_quantity",), "prezzo": ("col_unit_price",),
    "prezzo unitario": ("col_unit_price",), "prezzo unit": ("col_unit_price",), "importo": ("col_amount",),
    "totale": ("col_amount",), "sconto": ("col_discount",), "aliquota": ("col_tax",),
    "aliquota iva": ("col_tax",),
    "omschrijving": ("col_description",), "beschrijving": ("col_description",),
    "aantal": ("col_quantity",), "eenheid": ("col_unit",),
    "prijs": ("col_unit_price",), "stukprijs": ("col_unit_price",), "eenheidsprijs": ("col_unit_price",),
    "prijs per stuk": ("col_unit_price",), "tarief": ("col_unit_price",), "bedrag": ("col_amount",),
    "totaal": ("col_amount",), "regeltotaal": ("col_amount",),
    "korting": ("col_discount",), "btw": ("col_tax",),
    # OCR drops the dots and the space of short headers: "P.U. HT" read "PUHT".
    "puht": ("col_unit_price",), "prixht": ("col_unit_price",), "totalht": ("col_amount",),
    "montantht": ("col_amount",),
}  # fmt: skip
# Words a header may carry without naming a column: currencies, "excl. VAT", "in", "%".
_FILLER = frozenset(
    {"eur", "usd", "gbp", "chf", "in", "excl", "incl", "exkl", "inkl", "ht", "ttc", "%", "of", "per"}
    | {"je", "pro", "par", "en", "de", "the", "a", "zzgl", "vat", "net", "netto", "brutto", "°"}
)
_MAX_PHRASE = max(len(p.split()) for p in COLUMN_WORDS)


@dataclass(slots=True)
class Column:
    kind: str
    x0: float
    x1: float
    text: str = ""  # the header as printed


@dataclass(frozen=True, slots=True)
class _Match:
    kinds: tuple[str, ...]
    start: int  # word indexes in the header's word list
    end: int


@dataclass(slots=True)
class Header:
    """A found header: its columns and the rows it spans (one, or two stacked rows)."""

    columns: list[Column]
    rows: tuple[int, ...]  # positions in the page's row list


def match_words(words: list[str], breaks: frozenset[int] = frozenset(), fuzzy: bool = False) -> list[_Match]:
    """Column phrases among the words, longest first, each starting and ending on a word edge.

    No phrase crosses a column gap: ``breaks`` are the indexes of words that start a new cell
    ("Unit" and "Price" in two columns are two headers, not "Unit price"). With ``fuzzy`` (OCR'd
    words), a long single word one letter off a column word counts too ("Totai", "Ouantity").
    """
    return list(_match_words(tuple(words), breaks, fuzzy))


@lru_cache(maxsize=16384)
def _match_words(words: tuple[str, ...], breaks: frozenset[int], fuzzy: bool) -> tuple[_Match, ...]:
    # Cached: every row is tried as a header several times (alone, stacked, priced whole).
    toks: list[str] = []
    owner: list[int] = []
    for index, word in enumerate(words):
        for tok in tokens(word):
            toks.append(tok)
            owner.append(index)
    taken: set[int] = set()
    found: list[_Match] = []
    for n in range(_MAX_PHRASE, 0, -1):
        for s in range(len(toks) - n + 1):
            e = s + n
            if any(i in taken for i in range(s, e)):
                continue
            if s > 0 and owner[s - 1] == owner[s]:
                continue  # "Kunden-Nr" must not yield "Nr"
            if e < len(toks) and owner[e] == owner[e - 1]:
                continue
            if any(owner[i] in breaks for i in range(s + 1, e) if owner[i] != owner[i - 1]):
                continue
            kinds = COLUMN_WORDS.get(" ".join(toks[s:e]))
            if kinds is None and fuzzy and n == 1:
                kinds = _near_word(toks[s])
            if kinds is None:
                continue
            taken.update(range(s, e))
            found.append(_Match(kinds, owner[s], owner[e - 1] + 1))
    return tuple(sorted(found, key=lambda m: m.start))


_SINGLE_WORDS = {p: k for p, k in COLUMN_WORDS.items() if " " not in p and len(p) >= 5}


def _near_word(token: str) -> tuple[str, ...] | None:
    """The column word a long OCR'd token misreads by one letter ("totai", "ouantite").

    Only substitutions, OCR's usual slip: with insertions and deletions too, an address word
    ("United") would pass for a column word ("Unite").
    """
    if len(token) < 5:
        return None
    for word, kinds in _SINGLE_WORDS.items():
        if len(word) == len(token) and sum(x != y for x, y in zip(word, token, strict=True)) == 1:
            return kinds
    return None


# A table of services priced whole ("Description | Amount"): no count, no unit price.
_DESCRIPTION_AND_AMOUNT = frozenset({"col_description", "col_amount"})


def header_columns(words: list[Word], row_height: float, priced_whole: bool = False) -> list[Column] | None:
    """Columns named by a header's words (left to right), or None when they are no header."""
    if not words:
        return None
    if any(is_money(w.text) for w in words):
        return None  # a header names columns; it holds no amounts
    cells = cell_segments(words, row_height, 0.8)
    fuzzy = any(w.confidence < 1.0 for w in words)
    matches = match_words([w.text for w in words], frozenset(seg[0] for seg in cells), fuzzy)
    if not matches:
        return None
    segments = cell_segments(words, row_height, 1.2)
    matched_words = {i for m in matches for i in range(m.start, m.end)}
    in_table = [i for seg in segments if any(i in matched_words for i in seg) for i in seg]
    covered = sum(
        1 for i in in_table if i in matched_words or all(t in _FILLER for t in tokens(words[i].text))
    )
    if covered < 0.7 * len(in_table):
        return None
    columns = _resolve(words, matches, cells)
    kinds = {c.kind for c in columns}
    if len(kinds) < 3 and not (priced_whole and kinds == _DESCRIPTION_AND_AMOUNT):
        return None
    if not ({"col_amount", "col_unit_price"} & kinds and {"col_description", "col_quantity"} & kinds):
        return None
    return columns


def _resolve(words: list[Word], matches: list[_Match], segments: list[list[int]]) -> list[Column]:
    """One column per header cell; ambiguous words take the kind no other cell has."""
    # Matches in one gap-free segment are one printed cell ("Item / Description", "Price EUR"),
    # unless they name two of the count, the price and the amount: then they are two cells set
    # close ("Anzahl Einzelpreis EUR"), each with the words up to the next ("EUR" is the price's);
    # a row with no column gap at all is a sentence, its words one cell.
    cells: list[list[_Match]] = []
    seg_of = {i: n for n, seg in enumerate(segments) for i in seg}
    gapped = len(segments) > 1
    for m in matches:
        if (
            cells
            and seg_of[cells[-1][-1].start] == seg_of[m.start]
            and not (gapped and _two_roles(cells[-1], m))
        ):
            cells[-1].append(m)
        else:
            cells.append([m])
    sure = {c[0].kinds[0] for c in cells if len(c) == 1 and len(c[0].kinds) == 1}
    columns: list[Column] = []
    for cell in cells:
        options = [k for m in cell for k in m.kinds]
        single = [m.kinds[0] for m in cell if len(m.kinds) == 1]
        if len(cell) > 1 and single:
            # Several words in one cell: the one naming a single kind says what the cell is.
            kind = _most_specific(single)
        else:
            used = sure | {c.kind for c in columns}
            kind = next((k for k in options if k not in used), options[0])
        start, end = cell[0].start, cell[-1].end
        following = next((c[0].start for c in cells if c[0].start >= end), len(words))
        segment = segments[seg_of[start]]
        # The words after the cell's own in its segment, up to the next cell ("EUR").
        while end < following and end in segment and end - 1 in segment:
            end += 1
        box = union([w.bbox for w in words[start:end]])
        columns.append(Column(kind, box[0], box[2], " ".join(w.text for w in words[start:end])))
    # Two cells of one kind ("Net" ... "Total"): the right one is the amount, the left the price.
    amounts = [c for c in columns if c.kind == "col_amount"]
    if len(amounts) == 2 and not any(c.kind == "col_unit_price" for c in columns):
        amounts[0].kind = "col_unit_price"
    return columns


_PRIORITY = ("col_description", "col_amount", "col_unit_price", "col_quantity", "col_sku", "col_tax")
# The columns a row's arithmetic is read from: two of them are never one printed cell.
_ROLE_KINDS = frozenset({"col_quantity", "col_unit_price", "col_amount"})


def _two_roles(cell: list[_Match], match: _Match) -> bool:
    """``match`` names another of the count, the price and the amount than ``cell`` does."""
    named = {k for m in cell if len(m.kinds) == 1 for k in m.kinds}
    return (
        len(match.kinds) == 1
        and match.kinds[0] in _ROLE_KINDS
        and bool(named & _ROLE_KINDS)
        and match.kinds[0] not in named
    )


def _most_specific(kinds: list[str]) -> str:
    return min(kinds, key=lambda k: _PRIORITY.index(k) if k in _PRIORITY else len(_PRIORITY))


def distance(x0: float, x1: float, col: Column) -> float:
    """How far a box is from lining up with a column: its nearest edge or centre alignment."""
    return min(abs(x1 - col.x1), abs(x0 - col.x0), abs((x0 + x1 - col.x0 - col.x1) / 2))


def cell_segments(words: list[Word], height: float, gap: float) -> list[list[int]]:
    """Word indexes split where the gap is wider than ``gap`` text heights (column gaps)."""
    segments: list[list[int]] = [[0]]
    for i in range(1, len(words)):
        if words[i].x0 - words[i - 1].x1 > gap * height:
            segments.append([i])
        else:
            segments[-1].append(i)
    return segments


def is_money(text: str) -> bool:
    value = parse_amount(text)
    return value is not None and any(c in text for c in ".,") and any(c.isdigit() for c in text)


def stacked_words(upper: Row, lower: Row) -> list[Word]:
    """Words of a two-row header in reading order: each column's stack top to bottom."""
    words = sorted([*upper.words, *lower.words], key=lambda w: w.x0)
    stacks: list[list[Word]] = []
    for word in words:
        if stacks:
            right = max(w.x1 for w in stacks[-1])
            if word.x0 < right - 0.5:  # overlaps the stack horizontally
                stacks[-1].append(word)
                continue
        stacks.append([word])
    ordered: list[Word] = []
    for stack in stacks:
        ordered.extend(sorted(stack, key=lambda w: (w.top, w.x0)))
    return ordered


def _continues_header(below: Row, columns: list[Column]) -> bool:
    """Words without digits, each under one of the header's cells: the header's wrapped line."""
    if any(any(c.isdigit() for c in w.text) for w in below.words):
        return False
    slack = below.height
    return all(any(c.x0 - slack <= w.x0 and w.x1 <= c.x1 + slack for c in columns) for w in below.words)


def _phrase_across(upper: Row, lower: Row) -> bool:
    """A column's label printed over both rows ("Unit" over "Price"): read alone, the upper row
    names another column ("Unit" of measure) and leaves the row's words to guess at."""
    words = stacked_words(upper, lower)
    below = {id(w) for w in lower.words}
    breaks = frozenset(seg[0] for seg in cell_segments(words, upper.height, 0.8))
    return any(
        len({id(w) in below for w in words[m.start : m.end]}) == 2
        for m in match_words([w.text for w in words], breaks)
    )


def find_header_at(rows: list[Row], r: int, priced_whole: bool = False) -> Header | None:
    """The header starting at ``rows[r]``: that row alone, or with the row stacked under it.
    ``priced_whole``: a header of descriptions and amounts alone counts too."""
    row = rows[r]
    single = header_columns(row.words, row.height, priced_whole)
    if r + 1 < len(rows):
        below = rows[r + 1]
        gap = below.top - row.bottom
        if gap < 0.8 * row.height and match_words([w.text for w in below.words]):
            stacked = header_columns(stacked_words(row, below), row.height)
            if stacked is not None and (
                single is None
                or len(stacked) > len(single)
                or (len(stacked) == len(single) and _phrase_across(row, below))
            ):
                return Header(stacked, (r, r + 1))
            if single is not None and _continues_header(below, single):
                # "Total" over "ligne", "Taux" over "TVA": the header's second line, not a row.
                return Header(single, (r, r + 1))
    if single is not None:
        return Header(single, (r,))
    return None
