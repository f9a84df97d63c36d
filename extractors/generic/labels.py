"""Field label phrases in English, German and French, found in page rows with spaCy's PhraseMatcher.

Words are split into lower-case, accent-free alphanumeric tokens (plus ``#``, ``°`` and ``%``)
before matching, so "Rechnungs-Nr.:", "rechnungs nr" and "RECHNUNGS-NR" are one phrase and a
label never depends on the punctuation a layout happens to use. Overlapping matches keep the
longest phrase ("Total net" beats "Total").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# label kind -> (weight, phrases). Weight says how sure a phrase alone names the field: "Date"
# might be any date, "Invoice date" is the invoice date. Kinds that are not output fields
# (buyer, table columns, ...) exist so that their phrases win over a shorter field phrase and so
# that the extractor can tell where the buyer's block and the line table are.
LABELS: dict[str, tuple[float, list[str]]] = {
    "invoice_number": (
        1.0,
        [
            "rechnung #", "rechnung no", "beleg no", "invoice no #", "bill no", "bill number",
            "credit memo #", "credit memo number", "credit memo no", "gutschrift nr", "n° d avoir",
            "invoice number", "invoice no", "invoice nr", "invoice #", "invoice num", "invoice id",
            "inv no", "credit note number", "credit note no", "credit note #", "document number",
            "document no", "rechnungsnummer", "rechnungs nr", "rechnung nr", "rechnungsnr", "re nr",
            "gutschriftsnummer", "gutschrift nr", "belegnummer", "beleg nr", "numero de facture",
            "n° de facture", "no de facture", "facture n°", "facture no", "numero facture",
            "n° facture", "numero d avoir", "avoir n°", "n° d avoir", "numero de l avoir",
        ],
    ),
    "invoice_date": (
        1.0,
        [
            "beleg datum", "rechnungs datum", "bill date", "date facturation",
            "date of issue", "issue date", "emise le", "emis le", "date d emission", "invoice dated",
            "invoice date", "date of invoice", "credit note date", "document date", "rechnungsdatum",
            "datum der rechnung", "gutschriftsdatum", "belegdatum", "date de facture",
            "date de facturation", "date facture", "date de l avoir", "date d emission",
        ],
    ),
    "date": (0.55, ["date", "datum", "issued", "issue date", "ausgestellt am", "le"]),
    # "Rechnung 4711 vom 22.05.2014": weaker than any date label, since a credit note's
    # "Gutschrift zu Rechnung 4711 vom ..." names the credited invoice's date the same way.
    "date_hint": (0.45, ["vom"]),
    # Weak due-date cues inside sentences ("Bitte überweisen Sie bis zum 12.06.2014").
    "due_hint": (0.6, ["bis zum", "bis spatestens", "no later than", "avant le"]),
    "due_date": (
        1.0,
        [
            "falligkeit", "falligkeitstermin", "zahlbar bis zum", "zahlungsziel bis", "payment due date",
            "a regler avant le", "regler avant le", "payable avant", "due by",
            "due date", "payment due", "due on", "due", "pay by", "payable by", "payment date",
            "faellig am", "fallig am", "faelligkeitsdatum", "falligkeitsdatum", "fallig",
            "zahlbar bis", "zahlungsziel", "date d echeance", "echeance", "a payer avant le",
            "payable avant le", "date limite de paiement",
        ],
    ),
    "po_number": (
        1.0,
        [
            "your order ref", "order reference", "p o number", "p o no", "p o #", "bestell nr",
            "po number", "po no", "po #", "po nr", "p o number", "po", "purchase order",
            "purchase order number", "purchase order no", "your order", "your order no",
            "order number", "order no", "order ref", "customer po", "bestellnummer", "bestell nr",
            "ihre bestellung", "ihre bestellnummer", "bestellung", "auftragsnummer", "ihr auftrag",
            "bon de commande", "n° de commande", "numero de commande", "votre commande",
            "commande n°", "commande", "ref commande",
        ],
    ),
    "vendor_tax_id": (
        1.0,
        [
            "vat id", "vat no", "vat number", "vat reg no", "vat registration number", "vat reg",
            "tax id", "tax number", "vat", "ust idnr", "ust id", "ust id nr", "ustid", "ustidnr",
            "umsatzsteuer id", "umsatzsteuer identifikationsnummer", "steuernummer",
            "tva intracommunautaire", "n° tva", "no tva", "numero de tva", "tva", "n° tva intracom",
            "tva intracom", "id tva",
        ],
    ),
    "buyer_tax_id": (
        1.0,
        [
            "customer vat id", "your vat id", "customer vat", "buyer vat id", "ihre ust idnr",
            "ihre ust id", "kunden ust id", "tva client", "votre n° tva", "votre tva",
        ],
    ),
    "vendor_iban": (1.0, ["iban", "iban no", "iban nr", "iban n°"]),
    "subtotal": (
        1.0,
        [
            "summe netto", "total netto", "netto betrag", "nettowert gesamt", "summe ohne ust",
            "net value", "total net value", "netto summe",
            "subtotal", "sub total", "net amount", "net total", "total net", "total excl vat",
            "total excluding vat", "amount before tax", "total before tax", "net", "nettobetrag",
            "netto", "summe netto", "zwischensumme", "gesamt netto", "nettosumme", "warenwert",
            "total ht", "montant ht", "sous total", "total hors taxes", "montant hors taxes", "net ht",
        ],
    ),
    "tax_amount": (
        1.0,
        [
            "zuzugl ust", "zuzugl mwst", "zzgl ust", "mwst betrag", "ust betrag", "summe ust", "summe mwst",
            "vat", "tax", "vat amount", "tax amount", "total vat", "total tax", "sales tax",
            "mwst", "mehrwertsteuer", "ust", "umsatzsteuer", "zzgl mwst", "zzgl ust", "zzgl",
            "zuzuglich", "mwst betrag", "steuer", "tva", "montant tva", "total tva", "montant de la tva",
        ],
    ),
    "total": (
        1.0,
        [
            "summe inkl ust", "summe inkl mwst", "gesamt inkl ust", "gesamt inkl mwst", "inkl ust",
            "inkl mwst", "total inkl", "gesamtbetrag brutto", "rechnungssumme", "total ttc a payer",
            "amount payable", "total payable", "net a payer", "montant a payer",
            "total", "total due", "amount due", "grand total", "invoice total", "total amount",
            "balance due", "total payable", "total incl vat", "total including vat", "amount payable",
            "total credit", "credit total", "gesamt", "gesamtbetrag", "rechnungsbetrag",
            "gesamtsumme", "endbetrag", "zu zahlen", "zahlbetrag", "summe brutto", "brutto",
            "bruttobetrag", "gutschriftsbetrag", "total ttc", "montant ttc", "net a payer",
            "montant total", "total a payer", "montant du", "total de l avoir",
        ],
    ),
    "currency": (0.9, ["currency", "wahrung", "devise", "monnaie"]),
    "buyer": (
        1.0,
        [
            "bill to", "billed to", "invoice to", "sold to", "ship to", "deliver to", "customer",
            "client", "recipient", "rechnungsempfanger", "rechnungsadresse", "kunde", "lieferadresse",
            "empfanger", "an", "kaufer", "warenempfanger", "buyer", "acheteur",
            "facture a", "facturer a", "adresse de facturation", "destinataire",
            "livrer a", "adresse de livraison",
        ],
    ),
    "vendor": (
        1.0,
        [
            "from", "supplier", "vendor", "seller", "lieferant", "verkaufer", "fournisseur", "vendeur",
            "rechnungsersteller", "rechnungssteller", "emetteur",
        ],
    ),
    "other_id": (
        1.0,
        [
            "customer number", "customer no", "customer id", "account number", "account no",
            "kundennummer", "kunden nr", "kundennr", "numero client", "n° client", "code client",
            "delivery note", "delivery note no", "lieferschein", "lieferscheinnummer", "bon de livraison",
            "bic", "swift", "bic swift", "blz", "tel", "phone", "telefon", "fax", "page", "seite",
            "reference", "referenz", "your reference", "ihre referenz", "votre reference",
            "contract", "vertrag", "contrat", "siret", "siren", "hrb", "handelsregister", "rcs",
            "company no", "company number", "registered in", "amtsgericht",
        ],
    ),
    "carry": (
        1.0,
        [
            "carried forward", "brought forward", "carry forward", "ubertrag", "vortrag", "a reporter",
            "report", "reporte", "subtotal carried forward",
        ],
    ),
    # Line-table column headers.
    "col_description": (
        1.0,
        [
            "description", "item", "item description", "product", "beschreibung",
            "bezeichnung", "artikelbezeichnung", "leistung", "designation", "libelle",
            "produit",
        ],
    ),
    "col_sku": (
        1.0,
        [
            "item code", "article", "art nr", "art no", "ref", "reference", "artikel", "code article",
            "sku", "item no", "item #", "part no", "part number", "product code", "code", "art nr",
            "artikelnummer", "artikelnr", "art nr", "reference", "ref", "referenz", "article n°",
        ],
    ),
    "col_quantity": (1.0, ["qty", "quantity", "units", "menge", "anzahl", "stuck", "quantite", "qte"]),
    "col_unit_price": (
        1.0,
        [
            "p u ht", "p u", "rate", "price",
            "unit price", "price", "rate", "unit cost", "price each", "einzelpreis", "preis", "ep",
            "stuckpreis", "e preis", "prix unitaire", "prix unit", "pu", "p u", "prix", "pu ht",
            "prix unitaire ht",
        ],
    ),
    "col_amount": (
        1.0,
        [
            "net value", "montant ht", "total",
            "amount", "line total", "total", "net amount", "betrag", "gesamtpreis", "gesamt",
            "summe", "montant", "montant ht", "total ht", "total ligne", "net",
        ],
    ),
    "col_tax": (1.0, ["vat %", "tax %", "vat rate", "mwst %", "ust %", "tva %", "taux tva", "steuersatz"]),
    "col_unit": (1.0, ["unit", "uom", "einheit", "unite"]),
    "col_pos": (1.0, ["pos", "no", "#", "line", "n°", "position"]),
}  # fmt: skip

FIELD_KINDS = frozenset(
    {"invoice_number", "invoice_date", "due_date", "po_number", "vendor_tax_id", "vendor_iban", "subtotal"}
    | {"tax_amount", "total", "currency", "date", "date_hint", "due_hint"}
)
# Document titles: never a company name, whatever size they are printed in.
TITLES = frozenset(
    " ".join(_t)
    for _t in (
        ("invoice",), ("tax", "invoice"), ("commercial", "invoice"), ("credit", "note"), ("credit", "memo"),
        ("rechnung",), ("gutschrift",), ("facture",), ("avoir",), ("statement",), ("purchase", "order"),
        ("delivery", "note"), ("lieferschein",), ("bestellung",), ("bon", "de", "commande"),
        ("remittance", "advice"), ("kontoauszug",), ("releve",), ("quote",), ("angebot",), ("devis",),
    )
)  # fmt: skip
COLUMN_KINDS = frozenset(k for k in LABELS if k.startswith("col_"))

_TOKEN = re.compile(r"[^\W_]+|[#°%]")


def fold(text: str) -> str:
    """Lower case without accents: 'Fälligkeit' -> 'falligkeit', 'Échéance' -> 'echeance'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return list(_tokens(text))


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: the same words ("Total", "EUR", "GmbH") recur on every page of a batch.
    return tuple(_TOKEN.findall(fold(text)))


@dataclass(frozen=True, slots=True)
class LabelMatch:
    kind: str
    phrase: str
    weight: float
    start: int  # index of the first word of the label in the row
    end: int  # index after the last word
    # True when the label's last word has more after the phrase ("Nr.:12345"): the value may
    # be glued to the label.
    partial_tail: bool = False


class LabelFinder:
    """Finds label phrases among a row's words. Built once; matching is per row."""

    def __init__(self, table_mode: bool = False) -> None:
        from spacy.matcher import PhraseMatcher
        from spacy.tokens import Doc
        from spacy.vocab import Vocab

        self._Doc = Doc
        self.vocab = Vocab()
        self.matcher = PhraseMatcher(self.vocab)
        # One matcher key per distinct phrase; a phrase may name several kinds ("tva": the tax id
        # label and the tax amount label), which the value type later tells apart.
        self._kinds: dict[str, list[tuple[str, float]]] = {}
        for kind, (weight, phrases) in LABELS.items():
            if table_mode != kind.startswith("col_"):
                continue
            for phrase in phrases:
                key = " ".join(tokens(phrase))
                if not key:
                    continue
                if key not in self._kinds:
                    self._kinds[key] = []
                    self.matcher.add(key, [Doc(self.vocab, words=key.split())])
                if kind not in (k for k, _ in self._kinds[key]):
                    self._kinds[key].append((kind, weight))

    def find(self, words: list[str]) -> list[LabelMatch]:
        """Non-overlapping label matches, longest first, in reading order."""
        toks: list[str] = []
        owner: list[int] = []
        for index, word in enumerate(words):
            for tok in _tokens(word):
                toks.append(tok)
                owner.append(index)
        if not toks:
            return []
        doc = self._Doc(self.vocab, words=toks)
        spans: dict[tuple[int, int], str] = {}
        for match_id, start, end in self.matcher(doc):
            # A label starts at the start of a word; "Kunden-Nr" must not yield "Nr".
            if start > 0 and owner[start - 1] == owner[start]:
                continue
            # ... and ends at the end of a word: the value "PO-45125" is not the label "PO".
            if end < len(toks) and owner[end] == owner[end - 1]:
                continue
            spans[(start, end)] = self.vocab.strings[match_id]
        taken: set[int] = set()
        out: list[LabelMatch] = []
        for start, end in sorted(spans, key=lambda se: (se[0] - se[1], se[0])):
            if any(i in taken for i in range(start, end)):
                continue
            taken.update(range(start, end))
            phrase = " ".join(toks[start:end])
            first, last = owner[start], owner[end - 1]
            tail = end < len(toks) and owner[end] == last
            # Two kinds can share one phrase ("tva": tax id or tax amount); keep both.
            for kind, weight in self._kinds[spans[(start, end)]]:
                out.append(LabelMatch(kind, phrase, weight, first, last + 1, tail))
        out.sort(key=lambda m: (m.start, m.kind))
        return out


@lru_cache(maxsize=2)
def label_finder(table_mode: bool = False) -> LabelFinder:
    return LabelFinder(table_mode)


def describe(match: LabelMatch) -> dict[str, Any]:
    return {"kind": match.kind, "phrase": match.phrase, "weight": match.weight}
