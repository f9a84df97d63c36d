"""What each document type is called in the languages ledgerbot reads (EN, DE, FR, NL, ES, IT).

A title such as "AVIS DE PAIEMENT" names the type outright, but a model trained on German and
English remittance advices has never seen the French words. This glossary turns a type name
found in a title into a language-neutral hint token (``kwt_remittance_advice``) that both models
learn from; the models still weigh it against everything else on the page. Only titles count: the
same words in running text ("Bon de commande PO-1" on an invoice) are references, not names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ledgerbot.core.domain import DocType

TYPE_NAMES: dict[DocType, tuple[str, ...]] = {
    # A shop's receipt is a bill AP books like an invoice: its names type it as one.
    DocType.INVOICE: (
        "invoice",
        "tax invoice",
        "commercial invoice",
        "rechnung",
        "facture",
        "factuur",
        "factura",
        "fattura",
        "receipt",
        "sales receipt",
        "cash receipt",
        "kassenbon",
        "kassenbeleg",
        "quittung",
        "ticket de caisse",
        "kassabon",
        "kwitantie",
        "factura simplificada",
        "recibo",
        "scontrino",
        "ricevuta",
    ),
    # What a credit note of each language may be titled: a credit note proper, a corrective or
    # cancelling invoice ("Korrekturrechnung", "facture rectificative"), a credit advice.
    DocType.CREDIT_NOTE: (
        "credit note",
        "credit memo",
        "credit memorandum",
        "credit advice",
        "credit invoice",
        "gutschrift",
        "gutschriftsanzeige",
        "rechnungskorrektur",
        "korrekturrechnung",
        "rechnungsberichtigung",
        "stornorechnung",
        "storno",
        "avoir",
        "note de credit",
        "note d avoir",
        "facture d avoir",
        "facture rectificative",
        "creditnota",
        "credit nota",
        "creditfactuur",
        "nota de credito",
        "nota de abono",
        "factura de abono",
        "abono",
        "factura rectificativa",
        "nota di credito",
        "nota credito",
        "nota di accredito",
        "nota d accredito",
    ),
    DocType.PURCHASE_ORDER: (
        "purchase order",
        "bestellung",
        "bon de commande",
        "commande",
        "inkooporder",
        "bestelbon",
        "orden de compra",
        "pedido de compra",
        "ordine di acquisto",
        "ordine d acquisto",
    ),
    DocType.DELIVERY_NOTE: (
        "delivery note",
        "packing slip",
        "dispatch note",
        "lieferschein",
        "bon de livraison",
        "pakbon",
        "leverbon",
        "albaran",
        "nota de entrega",
        "documento di trasporto",
        "bolla di consegna",
    ),
    DocType.STATEMENT: (
        "statement of account",
        "account statement",
        "statement",
        "kontoauszug",
        "kontoubersicht",
        "releve de compte",
        "releve",
        "rekeningoverzicht",
        "extracto de cuenta",
        "estado de cuenta",
        "estratto conto",
    ),
    DocType.REMITTANCE_ADVICE: (
        "remittance advice",
        "payment advice",
        "remittance",
        "zahlungsavis",
        "zahlungsanzeige",
        "avis de paiement",
        "avis de virement",
        "betalingsadvies",
        "aviso de pago",
        "avviso di pagamento",
    ),
    DocType.OTHER: (
        "newsletter",
        "lettre d information",
        "special offer",
        "sonderangebot",
        "offre speciale",
        "invitation",
        "einladung",
        "nieuwsbrief",
    ),
}

ENGLISH = {t: names[0] for t, names in TYPE_NAMES.items()}
_NON_WORD = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Lower case, accents off, every non-letter run one space: "Relevé  de-compte" -> "releve de compte"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return f" {_NON_WORD.sub(' ', plain).strip()} "


# Longest names first, so "bon de commande" wins over "commande" and "facture d avoir" over "facture".
_PHRASES = sorted(
    ((f" {name} ", t) for t, names in TYPE_NAMES.items() for name in names), key=lambda p: -len(p[0])
)


def type_names_in(text: str) -> list[DocType]:
    """The document types named in ``text`` (a title), each once, in order of first mention."""
    folded = fold(text)
    found: list[tuple[int, DocType]] = []
    for phrase, doc_type in _PHRASES:
        at = folded.find(phrase)
        if at >= 0:
            found.append((at, doc_type))
            # Blank the match so a shorter name inside it ("facture" in "facture d avoir") is not counted.
            folded = folded[:at] + " " * len(phrase) + folded[at + len(phrase) :]
    return _first_mentions(found)


def _first_mentions(found: list[tuple[int, DocType]]) -> list[DocType]:
    seen: list[DocType] = []
    for _, doc_type in sorted(found, key=lambda f: f[0]):
        if doc_type not in seen:
            seen.append(doc_type)
    return seen


# OCR reads look-alike glyphs for one another ("lnvoice", "G0TSCHRIFT", "Staternent"): both the
# text and the names are reduced to one spelling per look-alike group before they are compared.
_LOOKALIKES = (
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
    ("0", "o"),
    ("1", "l"),
    ("|", "l"),
    ("!", "l"),
    ("i", "l"),
)
_OCR_WORD = re.compile(r"[a-z0-9|!]+")
# Names this long survive one wrong, lost or extra letter; a shorter one ("avoir") must be exact.
FUZZY_MIN_LETTERS = 6
# A name this long still counts at the end of a word OCR ran together with the one before it
# ("LimitedCreditMemo"); a type word's own compounds end in it too ("Schlussrechnung").
SUFFIX_MIN_LETTERS = 7


def _skeleton(word: str) -> str:
    for seen, meant in _LOOKALIKES:
        word = word.replace(seen, meant)
    return word


def _ocr_tokens(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _join_spaced([_skeleton(t) for t in _OCR_WORD.findall(plain)])


def _join_spaced(tokens: list[str]) -> list[str]:
    """A title set in spaced capitals as one word: "A V O I R", or "A V OIR" as OCR groups it.

    A run of two or more one-letter tokens joins, with a short fragment (up to three letters)
    after it that OCR kept together. A fragment before it stays apart: it is as often the end
    of the word before ("... SAS A V OIR").
    """
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and len(tokens[j]) == 1 and tokens[j].isalpha():
            j += 1
        if j - i >= 2:
            end = j + 1 if j < len(tokens) and len(tokens[j]) <= 3 and tokens[j].isalpha() else j
            out.append("".join(tokens[i:end]))
            i = end
            continue
        out.append(tokens[i])
        i += 1
    return out


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def _same_name(read: str, name: str) -> bool:
    return read == name or (len(name) >= FUZZY_MIN_LETTERS and _within_one_edit(read, name))


_OCR_PHRASES = sorted(
    ((tuple(_ocr_tokens(name)), t) for t, names in TYPE_NAMES.items() for name in names),
    key=lambda p: -len("".join(p[0])),
)


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A type name found in OCR text: its type and how many letters of the text it covers."""

    doc_type: DocType
    start: int  # token index of the first word
    letters: int


def _window_matches(window: list[str], words: tuple[str, ...]) -> bool:
    """Whether OCR tokens read as the name's words: word by word, or joined across a split or merge."""
    name = "".join(words)
    read = "".join(window)
    if len(window) == len(words):
        if all(_same_name(t, w) for t, w in zip(window, words, strict=True)) or _same_name(read, name):
            return True
    elif len(name) >= FUZZY_MIN_LETTERS and read == name:
        return True
    return len(window) == 1 and len(name) >= SUFFIX_MIN_LETTERS and read.endswith(name)


def _may_start(token: str, head: str, ends_in_name: bool) -> bool:
    """Whether a token can begin a name starting with ``head``: one edit leaves one of the
    first two letters in place."""
    return ends_in_name or token[0] in head or (token[1:2] in head and len(token) > 1)


def _halves(text: str) -> tuple[str, str]:
    """A prefix and a suffix of ``text`` such that a string within one edit of it (or equal)
    starts with the one or ends with the other: the edit falls in one half, the other is intact."""
    half = len(text) // 2
    return text[:half], text[half + 1 :]


# Per name, what the search needs of it: its words, type, letters joined, length, the window
# sizes (in tokens) that can hold it, and the halves of the name and of its first word.
_OCR_SEARCH = tuple(
    (
        words,
        doc_type,
        "".join(words),
        sum(map(len, words)),
        sorted({len(words), len(words) + 1, max(1, len(words) - 1)}),
        _halves("".join(words)),
        _halves(words[0]),
    )
    for words, doc_type in _OCR_PHRASES
)


def _may_match(
    tokens: list[str], start: int, size: int, name: tuple[str, str], first: tuple[str, str]
) -> bool:
    """Whether the window can read as the name at all (``_window_matches`` accepts only a window
    whose letters are the name's but for one edit, whose first token is the first word's but for
    one edit, or that ends with the name): the cheap half of the test, on the window's letters."""
    read = "".join(tokens[start : start + size])
    head = tokens[start]
    return (
        read.startswith(name[0])
        or read.endswith(name[1])
        or head.startswith(first[0])
        or head.endswith(first[1])
    )


def find_type_names_ocr(text: str) -> list[NameMatch]:
    """Type names in text as OCR reads it: look-alike glyphs equal, one letter off in a long name,
    a name split in two ("GUT SCHRIFT") or run together ("CREDITNOTE"). Longest names win."""
    read = _ocr_tokens(text)
    tokens: list[str | None] = list(read)
    lengths = [len(t) for t in read]
    # Where a window can read as a name (``_may_match``), by the first two letters read from
    # each token on, the last two read up to each token, and each token's own last two. Only
    # those places are tried, in order, so the same names are found as by trying every one.
    places = _Places(read)
    found: list[NameMatch] = []
    for words, doc_type, name, name_length, sizes, name_halves, first_halves in _OCR_SEARCH:
        head = name[:2]
        for size in sizes:
            for start in places.of(name_halves, first_halves, size):
                if start > len(tokens) - size:
                    break
                first = tokens[start]
                if first is None or not _may_start(first, head, size == 1 and first.endswith(name)):
                    continue
                # Each word of a match is at most one letter off, or the name ends a single
                # token: a window of another length cannot match.
                read_length = sum(lengths[start : start + size])
                if abs(read_length - name_length) > size and not (size == 1 and read_length > name_length):
                    continue
                if not _may_match(read, start, size, name_halves, first_halves):
                    continue
                window = [t for t in tokens[start : start + size] if t is not None]
                if len(window) == size and _window_matches(window, words):
                    found.append(NameMatch(doc_type, start, min(len("".join(window)), name_length)))
                    tokens[start : start + size] = [None] * size
    return sorted(found, key=lambda m: m.start)


class _Places:
    """The token indexes where a window of text can read as a name, found by look-ups."""

    def __init__(self, read: list[str]) -> None:
        self.count = len(read)
        self.starting: dict[str, list[int]] = {}  # by the first one or two letters from there on
        self.ending: dict[str, list[int]] = {}  # by the last one or two letters up to there
        self.token_ending: dict[str, list[int]] = {}  # by the token's own last one or two letters
        for at, token in enumerate(read):
            after = (token + (read[at + 1] if at + 1 < len(read) else ""))[:2]
            before = ((read[at - 1] if at else "") + token)[-2:]
            for key in {after, after[:1]}:
                self.starting.setdefault(key, []).append(at)
            for key in {before, before[-1:]}:
                self.ending.setdefault(key, []).append(at)
            for key in {token[-2:], token[-1:]}:
                self.token_ending.setdefault(key, []).append(at)

    def of(self, name: tuple[str, str], first: tuple[str, str], size: int) -> Iterable[int]:
        """Ascending: every index from which ``size`` tokens may pass ``_may_match``."""
        if not all((*name, *first)):
            return range(self.count)  # a name too short to halve: no look-up narrows it
        found = {
            *self.starting.get(name[0][:2], ()),
            *self.starting.get(first[0][:2], ()),
            *self.token_ending.get(first[1][-2:], ()),
            *(at - size + 1 for at in self.ending.get(name[1][-2:], ()) if at >= size - 1),
        }
        return sorted(found)


def type_names_ocr(text: str) -> list[DocType]:
    """``type_names_in`` for OCR text: each type once, in order of first mention."""
    return _first_mentions([(m.start, m.doc_type) for m in find_type_names_ocr(text)])


# What a credit note says besides its title: that money goes back to the customer. Words of
# running text, matched on folded text (``fold``) as whole words or phrases.
CREDIT_WORDING: tuple[str, ...] = (
    # EN
    "refund",
    "refunded",
    "credited",
    "amount credited",
    "credit to your account",
    "in your favour",
    "in your favor",
    # DE
    "gutgeschrieben",
    "erstattet",
    "erstattung",
    "ruckerstattung",
    "ruckvergutung",
    "zu ihren gunsten",
    # FR
    "rembourse",
    "remboursement",
    "credite",
    "en votre faveur",
    "a votre credit",
    # NL
    "terugbetaling",
    "terugbetaald",
    "gecrediteerd",
    "te crediteren",
    "teruggestort",
    "in uw voordeel",
    # ES
    "reembolso",
    "reembolsado",
    "abonado",
    "abonamos",
    "a su favor",
    "a devolver",
    # IT
    "accreditato",
    "accreditata",
    "a vostro favore",
    "a credito",
)
_CREDIT_WORDING = re.compile(
    " (?:" + "|".join(sorted(map(re.escape, CREDIT_WORDING), key=len, reverse=True)) + ") "
)


def credit_wording_in(text: str) -> bool:
    """Whether running text says money is credited or refunded ("Amount credited", "erstattet")."""
    return _CREDIT_WORDING.search(fold(text)) is not None


# A credit note names the invoice it corrects: "refers to invoice 4711", "Gutschrift zu Rechnung
# RE-12", "avoir sur facture F-9", "rectifica la factura 88". A word of this list right before an
# invoice's name, and its number (no date) right after it, make such a reference; on an invoice
# the same name stands before its own number with no such word ("Invoice No. 4711").
REFERRING_WORDS: tuple[str, ...] = (
    # EN
    "for", "to", "of", "against", "re", "ref", "reference", "regarding", "concerning", "correcting",
    "correction", "cancels", "cancelling", "original", "refers", "relating",
    # DE
    "zu", "zur", "zum", "der", "bezug", "bezuglich", "betreff", "betr", "korrektur", "storno",
    "ursprungliche", "ursprunglichen", "originalrechnung",
    # FR
    "sur", "la", "concernant", "annule", "remplace", "rectifie", "corrige", "initiale", "origine",
    # NL
    "van", "op", "betreft", "bij", "correctie", "creditering", "oorspronkelijke",
    # ES
    "sobre", "referencia", "rectifica", "anula",
    # IT
    "della", "alla", "rif", "riferimento", "rettifica", "originale",
)  # fmt: skip
# The invoice's own name, not a receipt's: a credit note corrects an invoice.
_INVOICE_NOUNS = frozenset({"invoice", "rechnung", "facture", "factuur", "factura", "fattura"})
_NUMBER_MARKS = frozenset({"no", "nr", "n", "number", "nummer", "num", "numero", "nro", "nº"})
_REFERRING = frozenset(REFERRING_WORDS)
_REF_TOKEN = re.compile(r"[a-z0-9]+(?:[./-][a-z0-9]+)*")
_A_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}")


def refers_to_invoice(text: str) -> bool:
    """Whether text names another invoice by its number ("Credit for invoice INV-17 dated ...")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    tokens = _REF_TOKEN.findall(plain)
    for i, token in enumerate(tokens):
        if token not in _INVOICE_NOUNS or not _REFERRING & set(tokens[max(0, i - 2) : i]):
            continue
        after = [t for t in tokens[i + 1 : i + 4] if t not in _NUMBER_MARKS]
        if after and any(ch.isdigit() for ch in after[0]) and not _A_DATE.fullmatch(after[0]):
            return True
    return False
