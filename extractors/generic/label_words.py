"""Label phrases of six languages (EN/DE/FR/NL/ES/IT) composed from classes of words.

A header label names its field with a few words of known classes: a document noun and a number
mark ("Factura nº", "N° de facture", "Rechnungs-Nr.", "Factuurnummer"), a date word and a
document noun ("Data fattura", "Fecha de la factura", "Factuurdatum"), an order noun and a mark
("N. ordine", "Nº de pedido", "Bestelnummer"). The phrases are composed from the classes in
both orders, with the linking words of each language ("numéro *de* facture", "data *della*
fattura") and glued into one compound ("factuur" + "nummer"), so a wording that no list spells
out, but that uses the words any invoice of these languages uses, is still a label. Phrases a
class cannot compose (sentences, idioms) are listed as they are. Every word is written as the
label finder's tokens read it (lower case, no accents or punctuation: "n °" for "N°", "n o" for
"n.º"), so the thousands of composed phrases need no folding when the finder is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import product

# --- classes of words ---------------------------------------------------------------------------

# The document itself: its number is the invoice number, its date the invoice date.
DOCUMENT = (
    "invoice", "inv", "bill", "document", "doc", "credit note", "credit memo", "credit invoice",
    "rechnung", "rechnungs", "rg", "beleg", "belegs", "dokument", "gutschrift", "gutschrifts",
    "facture", "fact", "avoir", "piece",
    "factuur", "creditnota", "creditfactuur", "nota",
    "factura", "fra", "fac", "documento", "abono", "factura rectificativa", "nota de credito",
    "nota de abono", "factura de abono",
    "fattura", "fatt", "nota di credito", "nota credito", "nota d accredito",
    # Till receipts: an invoice settled on the spot.
    "receipt", "ticket", "kassenbon", "recibo", "ricevuta", "scontrino", "kassabon", "bonnetje",
    "transaction", "trans",
)  # fmt: skip
# Titles that make a document a credit note (a credit against an invoice, amounts negative): a
# credit note proper, or an invoice that corrects or cancels another ("Korrekturrechnung",
# "facture rectificative", "factura rectificativa"). "Abono" and "Storno" alone also name a
# payment or a reversal in running text, so only their longer titles are listed.
CREDIT_TITLES = (
    "credit note", "credit memo", "credit memorandum", "credit invoice", "credit advice",
    "gutschrift", "gutschriftsanzeige", "rechnungskorrektur", "korrekturrechnung", "stornorechnung",
    "rechnungsberichtigung",
    "avoir", "facture d avoir", "note de credit", "facture rectificative",
    "creditnota", "credit nota", "creditfactuur",
    "nota de abono", "nota de credito", "factura de abono", "factura rectificativa",
    "nota di credito", "nota credito", "nota di accredito", "nota d accredito",
)  # fmt: skip
# Number marks: "No.", "Nr.", "N°", "Nº", "n.º", "núm.", "#", "Nummer", "número", "Nbr.".
NUMBER = ("no", "nr", "number", "num", "numero", "nummer", "#", "n °", "n", "n o", "nro", "nbr")
# A customer's account is also named by its code ("Codice cliente", "Cod. cli.", "Customer ID").
CUSTOMER_MARKS = (*NUMBER, "cod", "codice", "code", "codigo", "id")
# An order is also named by its reference ("Order ref.", "Rif. ordine", "Ref. pedido").
ORDER_MARKS = (*NUMBER, "ref", "reference", "rif", "riferimento", "referencia", "referentie", "id")
# Linking words between a mark or a date word and its noun ("n° *de* facture", "data *di* ...").
LINKS = ("de", "de la", "du", "des", "d", "di", "del", "della", "dell", "van", "der", "of", "of the")
# Marks that also glue onto a noun as a compound ("factuurnummer", "Rechnungsnr", "invoiceno").
GLUED_NUMBER = ("nummer", "nr", "no", "number", "num")
DATE = ("date", "datum", "fecha", "data", "dt")
# Date words that glue onto a noun ("factuurdatum", "Rechnungsdatum", "vervaldatum").
GLUED_DATE = ("datum", "date")
# What the date is of: the issue of the document (invoice date), its due day, an order, a delivery.
ISSUE = (
    "issue", "emission", "emision", "emissione", "uitgifte", "ausstellung", "expedicion",
    "facturation", "facturacion", "fatturazione", "facturering", "facturatie", "billing",
)  # fmt: skip
DUE = (
    "due", "payment", "vencimiento", "vto", "venc", "scadenza", "verval", "vervaldag", "echeance",
    "falligkeit", "faelligkeit", "pago", "pagamento", "betaling", "zahlung", "paiement",
)  # fmt: skip
ORDER = (
    "order", "purchase order", "po", "p o", "bestellung", "bestell", "auftrag", "auftrags",
    "commande", "bon de commande", "bestelling", "bestel", "inkooporder", "pedido", "orden",
    "orden de compra", "ordine", "ordine d acquisto", "ordine di acquisto", "oda", "buyer order", "bc",
)  # fmt: skip
# Order nouns that name the order number alone ("Pedido: PO-1", "Ordine d'acquisto: ORD-7");
# not "order", "Auftrags", "bestel", which start other phrases ("Order date", "Bestelwijze").
ORDER_ALONE = tuple(
    o for o in ORDER if o not in ("order", "bc", "oda", "orden", "bestel", "bestell", "auftrags")
)
# The buyer's own account with the vendor: its number is no reference of the invoice.
CUSTOMER = (
    "customer", "client", "account", "kunden", "kunde", "klant", "debiteur", "debiteuren",
    "cliente", "cli", "abonne", "abonnement", "mitglieds", "member", "contract", "vertrags", "contrat",
    "contrato", "contratto", "policy", "police", "polizza", "poliza",
)  # fmt: skip
DELIVERY = (
    "delivery", "delivery note", "dispatch note", "packing slip", "shipment", "shipping", "ship",
    "lieferschein", "lieferscheins", "liefer", "lieferung", "versand", "leistungs", "leistung",
    "livraison", "bon de livraison", "expedition", "prestation",
    "levering", "lever", "aflever", "pakbon", "afleverbon", "verzending", "prestatie",
    "entrega", "albaran", "envio", "prestacion", "servicio", "suministro",
    "consegna", "ddt", "documento di trasporto", "bolla", "spedizione", "prestazione",
    "service", "supply",
)  # fmt: skip
# Charges beside the goods in a totals block ("Shipping 5,90", "Versandkosten 4,99", "Frais de
# port 7,00"): an amount they name is neither the subtotal, the tax nor the total. As token runs.
CHARGES = (
    "shipping", "shipping costs", "shipping and handling", "shipping handling", "postage", "freight",
    "packing", "packaging", "handling fee", "delivery fee", "delivery charge", "delivery",
    "versand", "versandkosten", "versandpauschale", "porto", "fracht", "frachtkosten", "verpackung",
    "verpackungskosten", "frais de port", "frais d expedition", "frais de livraison", "port",
    "frais d emballage", "emballage", "verzendkosten", "verzending", "vracht", "gastos de envio",
    "envio", "portes", "spese di spedizione", "spedizione", "trasporto", "spese di trasporto",
)  # fmt: skip
# Discounts on the whole invoice, printed between the goods' sum and the net amount they
# reduce ("Zwischensumme 589,23 / Gesamtrabatt -29,46 / Netto 559,77"): the amount beside one is
# none of the three totals, and the lines less it make the net amount.
DISCOUNTS = (
    "discount", "total discount", "invoice discount", "rebate", "rabatt", "gesamtrabatt",
    "nachlass", "preisnachlass", "rechnungsrabatt", "remise", "remise globale", "rabais", "korting",
    "descuento", "descuento global", "sconto", "sconto globale",
)  # fmt: skip
# Words that make a document label name another document: the invoice a credit note or a
# correction refers to ("N° de facture associée", "Previous invoice no.", "Factura rectificada").
# After the label, and before it; as token runs, as the label finder reads them.
RELATED_AFTER = (
    "associee", "associe", "d origine", "precedente", "referencee", "di riferimento", "originaria",
)  # fmt: skip
RELATED_BEFORE = (
    "original", "previous", "preceding", "related", "referenced", "corrected", "ursprungliche",
    "ursprunglichen", "zugehorige", "bezogene", "korrigierte", "oorspronkelijke", "gerelateerde",
    "gecorrigeerde", "vorherige", "storno",
)  # fmt: skip
# Registers the vendor is entered in: their numbers are no reference of the invoice.
REGISTER = (
    "reg", "registration", "company", "company reg", "register", "registered", "handelsregister",
    "registro", "registre", "kvk", "hrb", "hra", "rcs", "rea", "siren", "siret", "cciaa",
)  # fmt: skip
# Possessives of the buyer: "your order" is the buyer's order, i.e. the PO number.
YOUR = ("your", "ihre", "ihr", "votre", "vos", "uw", "su", "sus", "vostro", "vostra", "vs")
# The buyer's side: whose VAT id or address follows is the buyer's, not the vendor's.
BUYER_MARK = ("client", "cliente", "klant", "customer", "kunde", "kunden", "buyer", "afnemer", "acquirente")
# VAT id labels of the six languages (the tax amount's "IVA"/"BTW" alone stays a tax label).
TAX_ID = (
    "vat id", "vat no", "vat number", "vat reg no", "tax id", "ust idnr", "ust id",
    "btw nummer", "btw nr", "btw no", "btw id", "btw identificatienummer", "btwnummer", "btw nummer",
    "omzetbelastingnummer", "nif", "cif", "n i f", "c i f", "nif iva", "cif iva", "nif cif",
    "numero de iva", "numero iva", "n iva", "identificacion fiscal", "numero de identificacion fiscal",
    "nif intracomunitario", "iva intracomunitario", "partita iva", "p iva", "piva", "partita i v a",
    "p i v a", "codice fiscale", "cod fisc", "c f", "codice fiscale e partita iva", "p iva e c f",
)  # fmt: skip

# --- phrases no class composes --------------------------------------------------------------------

LISTED: dict[str, tuple[str, ...]] = {
    "invoice_date": (
        "emessa il", "emesso il", "emessa in data", "emitida el", "emitido el", "fecha de expedicion",
        "uitgegeven op", "gedateerd", "issued on", "issued at", "data emissione", "re datum", "rg datum",
        "rech datum", "rechn datum",
    ),
    "date": ("fecha", "data", "datum", "date", "fecha y hora"),
    # "Factura 123 de 4 de mayo", "Fattura 12 del 6 gennaio", "Factuur 123 van 4 mei": the value
    # must follow the word at once (see candidates.py), so "de"/"del"/"van" are safe here.
    "date_hint": ("del", "de", "van", "d d", "con fecha", "in data", "en fecha"),
    "due_date": (
        "vervaldatum", "vervaldag", "uiterste betaaldatum", "te betalen voor", "te betalen op",
        "betalen voor", "betaling voor", "uiterlijk te betalen op", "uiterste betaaldag",
        "fecha de vencimiento", "vencimiento", "vto", "fecha vto", "fecha limite de pago",
        "pagar antes de", "pagar antes del", "pagadero antes del", "a pagar antes del", "pagadero el",
        "scadenza", "data scadenza", "data di scadenza", "scadenza pagamento", "pagamento entro",
        "pagare entro", "da pagare entro", "pagabile entro", "scadenza fattura", "termine di pagamento il",
        "payment deadline", "pay before", "payable before", "please pay by", "payment due by",
        "payable on", "due for payment by", "zahlbar am", "payable au plus tard le", "vence", "vence el",
    ),
    "due_hint": ("uiterlijk", "entro il", "entro", "antes del", "antes de", "a mas tardar el", "before"),
    "po_number": (
        "your order", "uw bestelling", "uw order", "uw inkooporder", "su pedido", "su orden",
        "vostro ordine", "vs ordine", "ihre bestellung", "votre commande", "rif ordine",
        "riferimento ordine", "ref pedido", "referencia pedido", "referencia del pedido",
        "order ref", "order reference", "inkoopordernummer", "bestelnummer", "ordernummer",
        "po", "p o",
    ),
    "order_ref": (
        "uw referentie", "uw kenmerk", "su referencia", "vostro riferimento", "vs riferimento",
        "rif cliente", "referencia cliente", "referentie klant",
    ),
    "buyer_tax_id": (
        "nif cliente", "cif cliente", "nif del cliente", "p iva cliente", "partita iva cliente",
        "vostra p iva", "vostra partita iva", "btw klant", "btw nummer klant", "uw btw nummer",
        "uw btw nr", "su nif", "su cif", "codice fiscale cliente", "customer tax id", "buyer tax id",
    ),
    "buyer": (
        "cliente", "klant", "facturar a", "facturado a", "factureren aan", "factuuradres",
        "destinatario", "intestatario", "spett le", "spettabile", "cliente finale",
        "direccion de facturacion", "indirizzo di fatturazione", "leveradres", "afleveradres",
        "direccion de envio", "enviar a", "consegna a", "fatturare a", "fatturato a", "datos del cliente",
        "dati cliente", "klantgegevens", "gefactureerd aan", "invoiced to", "charged to",
        "a l attention de", "to the attention of", "for the attention of", "attn", "z hd", "zu handen",
        "zhd", "t a v", "ter attentie van", "all attenzione di", "alla c a", "a la atencion de",
    ),
    "other_id": (
        "kvk", "kvk nummer", "registro mercantil", "reg merc", "rea", "cciaa", "c c i a a",
        "reg imprese", "registro imprese", "telefono", "tfno", "tel", "pagina", "pag", "blad",
        "referentie", "riferimento", "referencia", "swift", "bic", "capitale sociale",
        "cap soc", "handelsregister", "eori", "gln", "duns", "siret", "siren", "ust nr lieferant",
        "tracking", "tracking number", "sendungsnummer", "colli", "zending", "ape", "naf", "code ape",
        "code naf", "nace", "btw id klant", "kvk nr",
    ),
    "other_date": (
        "periodo", "periode", "periode de", "leveringsperiode", "periodo de facturacion",
        "periodo di fatturazione", "billing period", "service period", "factuurperiode",
        "shipped", "shipped on", "dispatched", "dispatched on", "delivered", "delivered on",
        "geliefert am", "versandt am", "livre le", "expedie le", "geleverd op", "verzonden op",
        "enviado el", "entregado el", "spedito il", "consegnato il",
    ),
    "currency": ("valuta", "divisa", "moneda", "wahrung", "devise", "currency code"),
    "doc_title": (
        "factura", "fattura", "factuur", "creditnota", "creditfactuur", "abono", "factura rectificativa",
        "nota de credito", "nota di credito", "nota credito", "fattura commerciale", "factura ordinaria",
        "fattura differita", "fattura immediata", "bill", "sales invoice", "vat invoice",
        "facture de vente", "factura de venta", "fattura di vendita", "verkoopfactuur", "facture originale",
        "receipt", "sales receipt", "kassenbon", "quittung", "recibo", "ricevuta", "scontrino", "kassabon",
        "ticket de caisse", "factura simplificada", "tax invoice", "ticket",
    ),
}  # fmt: skip


# Every class word and listed phrase: the words an OCR slip in a label is repaired to (labels.py).
WORDS = (
    *DOCUMENT, *NUMBER, *ORDER_MARKS, *CUSTOMER_MARKS, *DATE, *ISSUE, *DUE, *ORDER, *CUSTOMER,
    *DELIVERY, *REGISTER, *RELATED_AFTER, *RELATED_BEFORE, *YOUR, *BUYER_MARK, *TAX_ID,
    *(phrase for phrases in LISTED.values() for phrase in phrases),
)  # fmt: skip


def _spaced(*parts: str) -> str:
    return " ".join(filter(None, parts))


def _numbered(nouns: Iterable[str], marks: Iterable[str] = NUMBER) -> Iterator[str]:
    """ "Factura nº", "nº de factura", "numero fattura", "factuurnummer" for every noun and mark."""
    for noun, mark in product(nouns, marks):
        yield _spaced(noun, mark)
        yield _spaced(mark, noun)
        for link in LINKS:
            yield _spaced(mark, link, noun)
    for noun, mark in product(nouns, GLUED_NUMBER):
        if " " not in noun:
            yield noun + mark
            # German links a compound with "s" ("Rechnungsnummer", "Auftragsnr").
            yield noun + "s" + mark


def _dated(nouns: Iterable[str]) -> Iterator[str]:
    """ "Fecha de factura", "data della fattura", "datum factuur", "factuurdatum", "invoice date"."""
    for noun, word in product(nouns, DATE):
        yield _spaced(word, noun)
        yield _spaced(noun, word)
        for link in LINKS:
            yield _spaced(word, link, noun)
    for noun, word in product(nouns, GLUED_DATE):
        if " " not in noun:
            yield noun + word
            yield noun + "s" + word


def _your(nouns: Iterable[str]) -> Iterator[str]:
    """ "Your order no.", "Uw bestelling", "Su pedido nº": the buyer's own reference."""
    for owner, noun in product(YOUR, nouns):
        yield _spaced(owner, noun)
        for mark in NUMBER:
            yield _spaced(owner, noun, mark)
        if " " not in noun:
            # "Uw ordernr.", "Ihre Bestellnummer": the possessive belongs to the label.
            for mark in GLUED_NUMBER:
                yield _spaced(owner, noun + mark)


def _buyer_ids() -> Iterator[str]:
    """ "NIF cliente", "BTW-nummer klant", "Partita IVA del cliente", "Vs. Partita IVA", "Your
    VAT no.": the buyer's VAT id."""
    for label, mark in product(TAX_ID, BUYER_MARK):
        yield _spaced(label, mark)
        yield _spaced(label, "del", mark)
        yield _spaced(label, "van", mark)
        yield _spaced(mark, label)
    for your, label in product(YOUR, TAX_ID):
        yield _spaced(your, label)


@lru_cache(maxsize=1)
def composed() -> dict[str, frozenset[str]]:
    """Label kind -> the phrases composed from the classes, plus the listed ones."""
    out: dict[str, set[str]] = {kind: set(phrases) for kind, phrases in LISTED.items()}
    out.setdefault("invoice_number", set()).update(_numbered(DOCUMENT))
    out["invoice_date"].update(_dated(DOCUMENT), _dated(ISSUE))
    out["due_date"].update(_dated(DUE))
    out["po_number"].update(_numbered(ORDER, ORDER_MARKS), _your(ORDER), ORDER_ALONE)
    out["other_id"].update(_numbered(CUSTOMER, CUSTOMER_MARKS), _numbered(DELIVERY), _numbered(REGISTER))
    out["other_date"].update(_dated(ORDER), _dated(DELIVERY), _dated(CUSTOMER))
    out.setdefault("vendor_tax_id", set()).update(TAX_ID)
    out["buyer_tax_id"].update(_buyer_ids())
    return {kind: frozenset(phrases) for kind, phrases in out.items()}
