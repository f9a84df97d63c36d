"""Field label phrases in EN/DE/FR/NL/ES/IT, found in page rows by exact token sequences.

``LABELS`` lists the phrases by kind; ``label_words`` composes more of them from classes of
words (a document noun and a number mark, a date word and what the date is of) in six languages.

Words are split into lower-case, accent-free alphanumeric tokens (plus ``#``, ``°`` and ``%``)
before matching, so "Rechnungs-Nr.:", "rechnungs nr" and "RECHNUNGS-NR" are one phrase and a
label never depends on the punctuation a layout happens to use. Overlapping matches keep the
longest phrase ("Total net" beats "Total").
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from extractors.generic import label_words
from extractors.values import parse_date

# label kind -> (weight, phrases). Weight says how sure a phrase alone names the field: "Date"
# might be any date, "Invoice date" is the invoice date. Kinds that are not output fields
# (buyer, table columns, ...) exist so that their phrases win over a shorter field phrase and so
# that the extractor can tell where the buyer's block and the line table are.
LABELS: dict[str, tuple[float, list[str]]] = {
    "invoice_number": (
        1.0,
        [
            "invoice ref", "invoice reference", "rechnungs nummer", "rechnung nummer", "rg nr", "inv #",
            "beleg nummer", "facture numero", "numero facture", "n° de la facture", "facture n", "avoir n",
            "rechnung #", "rechnung no", "beleg no", "invoice no #", "bill no", "bill number",
            "credit memo #", "credit memo number", "credit memo no", "gutschrift nr", "n° d avoir",
            "invoice number", "invoice no", "invoice nr", "invoice #", "invoice num", "invoice id",
            "inv no", "credit note number", "credit note no", "credit note #", "document number",
            "document no", "rechnungsnummer", "rechnungs nr", "rechnung nr", "rechnungsnr", "re nr",
            "re nummer", "re #",
            "gutschriftsnummer", "gutschrift nr", "belegnummer", "beleg nr", "numero de facture",
            "n° de facture", "no de facture", "facture n°", "facture no", "numero facture",
            "n° facture", "numero d avoir", "avoir n°", "n° d avoir", "numero de l avoir",
            "beitragsrechnung nr", "beitragsrechnungsnummer", "dokumentnummer", "dokument nr",
            "rechnungs id", "abrechnungsnummer", "abrechnung nr",
            "credit no", "credit number", "credit ref", "credit note ref", "credit note reference",
            "avoir no", "n° avoir", "gutschriftnummer", "gutschrifts nr",
            # A till receipt's number in German ("Bon" alone names other slips in French).
            "bon nr", "bonnr", "bonnummer", "bon nummer",
        ],
    ),
    "invoice_date": (
        1.0,
        [
            "tax point", "tax date", "invoice tax point", "date invoiced", "billing date",
            "invoice issue date", "rechnungs datum", "datum rechnung", "date de la facture",
            "issued on", "issued at", "invoice issued", "ausstellungsdatum", "datum der ausstellung",
            "fait le", "date de la facture", "date d emission", "tax point date",
            "beleg datum", "rechnungs datum", "bill date", "date facturation",
            "date of issue", "issue date", "emise le", "emis le", "date d emission", "invoice dated",
            "invoice date", "date of invoice", "credit note date", "document date", "rechnungsdatum",
            "datum der rechnung", "gutschriftsdatum", "belegdatum", "date de facture",
            "date de facturation", "date facture", "date de l avoir", "date d emission",
            "abrechnungsdatum", "erstellungsdatum", "erstellt am", "dokumentdatum",
        ],
    ),
    "date": (0.55, ["date", "datum", "issued", "issue date", "ausgestellt am", "le"]),
    # "Rechnung 4711 vom 22.05.2014": weaker than any date label, since a credit note's
    # "Gutschrift zu Rechnung 4711 vom ..." names the credited invoice's date the same way.
    "date_hint": (0.3, ["vom", "von", "du", "dated", "of", "from", "del", "van"]),
    # Weak due-date cues inside sentences ("Bitte überweisen Sie bis zum 12.06.2014").
    "due_hint": (
        0.6,
        ["bis zum", "bis spatestens", "no later than", "avant le", "netto bis", "rein netto bis",
         "ohne abzug bis", "net by", "net until"],
    ),
    "due_date": (
        1.0,
        [
            "remit until", "pay until", "payable until", "payment by", "due for payment", "to be paid by",
            "zahlbar bis spatestens", "zahlbar am", "fallig bis", "faellig bis", "zahlungsfrist",
            "zahlungstermin", "date d echeance", "echeance le", "a regler le", "a payer le",
            "date de paiement",
            "falligkeit", "falligkeitstermin", "zahlbar bis zum", "zahlungsziel bis", "payment due date",
            "a regler avant le", "regler avant le", "payable avant", "due by",
            "due date", "payment due", "due on", "due", "pay by", "payable by", "payment date",
            "faellig am", "fallig am", "faelligkeitsdatum", "falligkeitsdatum", "fallig",
            "zahlbar bis", "zahlungsziel", "date d echeance", "echeance", "a payer avant le",
            "payable avant le", "date limite de paiement", "falligkeitstag", "faelligkeitstag",
            "faellig zum", "fallig zum", "zahlung bis", "zahlung bis zum", "zahlen bis", "zu zahlen bis",
            "payable le", "a payer au plus tard le", "paiement avant le", "paiement le",
        ],
    ),
    "po_number": (
        1.0,
        [
            "buyer order", "buyer order no", "order #", "po ref", "po reference", "purchase order ref",
            "ihre bestellnr", "ihre bestell nr", "bestellnr", "best nr", "bestellzeichen",
            "ihr auftrag nr", "auftragsnr", "auftrags nr", "votre commande n°", "n° commande",
            "reference commande", "ref commande", "bon de commande n°", "commande client",
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
            "ust ident nr", "ust idnr", "ust id nr", "ustid nr", "ust nr", "mwst nr", "vat reg no",
            "vat registration no", "vat reg number", "vat id no", "n° tva intracommunautaire",
            "numero tva intracommunautaire", "identifiant tva", "tva intra", "n° identification tva",
            "st nr", "steuer nr", "steuernr", "stnr", "gb vat no",
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
            "n° tva client", "numero tva client", "tva client", "customer vat number", "customer vat no",
            "buyer vat", "buyer vat number", "vat id customer", "kunden ust idnr", "ust id kunde",
            "ust idnr kunde", "ihre ust idnr", "ihre ust id nr",
            "customer vat id", "your vat id", "customer vat", "buyer vat id", "ihre ust idnr",
            "ihre ust id", "kunden ust id", "tva client", "votre n° tva", "votre tva",
            "ihre ust identnr", "ihre ust ident nr", "ihre ustid", "ihre ustidnr", "ihre steuernummer",
            "kunden ust identnr", "your vat no", "your vat number", "your vat reg no",
            "customer vat reg no", "votre numero de tva", "votre n° de tva",
        ],
    ),
    "vendor_iban": (1.0, ["iban", "iban no", "iban nr", "iban n°"]),
    # The buyer's own account on a direct-debit notice ("von Ihrem Konto mit IBAN DE21 ...").
    "buyer_account": (
        1.0,
        [
            "ihrem konto", "ihr konto", "von ihrem konto", "ihre bankverbindung", "your account",
            "from your account", "your bank account", "votre compte", "de votre compte",
        ],
    ),
    "subtotal": (
        1.0,
        [
            "total before vat", "amount before vat", "net of vat", "total net of vat",
            "subtotal before vat", "subtotal excluding vat", "net amount excl vat", "total excluding tax",
            "net of tax", "total net of tax", "subtotal before tax", "total exclusive of tax",
            "total ex tax", "amount excl tax", "subtotal excl tax", "subtotal excluding tax",
            "net amount excl tax",
            "goods total", "goods value", "total goods", "net goods", "nett", "nett total", "total nett",
            "amount excl vat", "amount excluding vat", "total ex vat", "total exclusive of vat",
            "subtotal excl vat", "net invoice amount", "zwischensumme netto", "gesamtsumme netto",
            "gesamtbetrag netto", "rechnungsbetrag netto",
            "summe ohne mwst", "betrag netto", "montant net", "total hors tva",
            "total before tax", "total before taxes", "total excl tax", "total excl taxes",
            "total exc vat", "total net amount", "net total amount", "net value total", "nettosumme",
            "summe netto", "netto gesamt", "gesamt netto", "nettobetrag gesamt", "gesamtsumme netto",
            "summe positionen", "rechnungsbetrag netto", "warenwert netto", "total ht", "montant total ht",
            "total hors taxe", "total hors taxes", "sous total ht", "total net ht", "base ht",
            "lines total", "total lines", "line items total", "items total", "total items",
            "merchandise total", "total of items", "summe positionen netto", "positionen gesamt",
            "total des lignes",
            "summe netto", "total netto", "netto betrag", "nettowert gesamt", "summe ohne ust",
            "net value", "total net value", "netto summe",
            # A breakdown's columns: the amount without the tax and (under "total") with it.
            "without vat", "without tax", "ohne mwst", "ohne ust", "sans tva", "zonder btw",
            "exclusief btw", "sin iva", "senza iva", "iva esclusa",
            "subtotal", "sub total", "net amount", "net total", "total net", "total excl vat",
            "total excluding vat", "amount before tax", "total before tax", "net", "nettobetrag",
            "netto", "summe netto", "zwischensumme", "gesamt netto", "nettosumme", "warenwert",
            "total ht", "montant ht", "sous total", "total hors taxes", "montant hors taxes", "net ht",
            "goods", "rechnungssumme netto", "summe netto", "gesamtbeitrag", "nettobeitrag",
            "beitrag netto", "gesamtbeitrag netto", "net premium", "total premium", "prime nette",
            # Spanish, Italian, Dutch.
            "base imponible", "importe neto", "total neto", "subtotal neto", "neto",
            "imponibile", "totale imponibile", "imponibile totale", "totale netto", "subtotale",
            "subtotaal", "totaal excl btw", "totaal exclusief btw", "netto bedrag", "nettobedrag",
            "totaal netto", "bedrag excl btw",
        ],
    ),
    "tax_amount": (
        1.0,
        [
            "vat amount total", "total vat amount", "tax due", "vat due", "sales tax amount", "gst", "hst",
            "mwst summe", "ust summe", "montant de tva",
            "total taxes", "taxes", "total tax amount", "vat total", "tax total", "total vat amount",
            "vat amount total", "ust gesamt", "mwst gesamt", "steuer gesamt", "umsatzsteuer gesamt",
            "mehrwertsteuer gesamt", "summe umsatzsteuer", "summe mehrwertsteuer", "mehrwertsteuerbetrag",
            "umsatzsteuerbetrag", "steuerbetrag", "montant total tva", "total tva", "tva totale",
            "montant des taxes", "total des taxes",
            "zuzugl ust", "zuzugl mwst", "zzgl ust", "mwst betrag", "ust betrag", "summe ust", "summe mwst",
            "vat", "tax", "vat amount", "tax amount", "total vat", "total tax", "sales tax",
            "mwst", "mehrwertsteuer", "ust", "umsatzsteuer", "zzgl mwst", "zzgl ust", "zzgl",
            "zuzuglich", "mwst betrag", "steuer", "tva", "montant tva", "total tva", "montant de la tva",
            "versicherungsteuer", "versicherungssteuer", "verssteuer", "versst", "insurance premium tax",
            "ipt",
            # Spanish, Italian, Dutch.
            "iva", "cuota iva", "importe iva", "total iva", "imposta", "totale iva", "importo iva",
            "btw", "btw bedrag", "totaal btw", "btw totaal",
        ],
    ),
    "total": (
        1.0,
        [
            "gross", "gross total",
            "with vat", "with tax", "total with tax", "total with vat", "mit mwst", "avec tva", "met btw",
            "inclusief btw", "con iva", "iva inclusa",
            "amount incl vat", "total inclusive of vat", "amount including vat", "gross incl vat",
            "total inc tax", "amount incl tax", "total inclusive of tax", "amount including tax",
            "gross incl tax",
            "invoice total amount", "total inc vat", "total incl vat", "total including tax",
            "total incl tax", "gross amount", "amount payable", "total payable", "gesamt inkl ust",
            "gesamtbetrag inkl mwst", "brutto gesamt", "endbetrag brutto", "montant total a payer",
            "total general",
            "due payable", "total amount due", "amount to pay", "amount to be paid", "total to pay",
            "total invoice amount", "invoice amount", "gross total", "total gross", "rechnungsendbetrag",
            "endsumme", "bruttosumme", "gesamt brutto", "gesamtbetrag brutto", "rechnungsbetrag brutto",
            "zu zahlender betrag", "zahlbetrag", "total ttc", "montant total ttc",
            "total toutes taxes comprises", "net a payer ttc",
            "summe inkl ust", "summe inkl mwst", "gesamt inkl ust", "gesamt inkl mwst", "inkl ust",
            "inkl mwst", "total inkl", "gesamtbetrag brutto", "rechnungssumme", "total ttc a payer",
            "amount payable", "total payable", "net a payer", "montant a payer",
            "total", "total due", "amount due", "grand total", "invoice total", "total amount",
            "balance due", "total payable", "total incl vat", "total including vat", "amount payable",
            "total credit", "credit total", "gesamt", "gesamtbetrag", "rechnungsbetrag",
            "gesamtsumme", "endbetrag", "zu zahlen", "zahlbetrag", "summe brutto", "brutto",
            "bruttobetrag", "gutschriftsbetrag", "total ttc", "montant ttc", "net a payer",
            "montant total", "total a payer", "montant du", "total de l avoir", "reste a payer",
            "rechnungssumme brutto", "bruttobeitrag", "rechnungsbeitrag", "gesamtbeitrag brutto",
            "beitrag brutto", "zu zahlender beitrag",
            # Spanish, Italian, Dutch.
            "total factura", "importe total", "total a pagar", "totale", "totale fattura",
            "totale documento", "totale da pagare", "netto a pagare", "totaal", "totaal incl btw",
            "totaalbedrag", "te betalen", "totaal te betalen",
        ],
    ),
    # The document's title: "Facture FA-2017-0010", "Rechnung 4711" name the number right after it.
    "doc_title": (
        0.6,
        [
            "invoice", "tax invoice", "commercial invoice", "credit note", "credit memo", "rechnung",
            "gutschrift", "rechnungskorrektur", "facture", "avoir", "facture d avoir",
            "beitragsrechnung", *label_words.CREDIT_TITLES,
        ],
    ),
    # The buyer's own reference is very often the purchase order number, but not always.
    "order_ref": (
        0.55,
        [
            "your reference", "your ref", "buyer reference", "customer reference", "ihre referenz",
            "ihr zeichen", "ihre zeichen", "kundenreferenz", "votre reference", "votre ref",
            "reference client",
        ],
    ),
    # Dates that are not the invoice date: their phrases must win over the bare "date"/"datum".
    "other_date": (
        1.0,
        [
            "leistungsdatum", "lieferdatum", "liefertermin", "leistungszeitraum", "abrechnungszeitraum",
            "auftragsdatum", "bestelldatum", "versanddatum", "delivery date", "date of delivery",
            "date of supply", "supply date", "service date", "service period", "order date", "ship date",
            "shipping date", "date de livraison", "date de commande", "periode de facturation",
            "date d expedition", "date de prestation", "lieferscheindatum",
        ],
    ),
    "currency": (0.9, ["currency", "wahrung", "devise", "monnaie"]),
    "buyer": (
        1.0,
        [
            "invoice address", "billing address", "rechnungsanschrift", "lieferanschrift",
            "adresse de facturation", "client final",
            "bill to", "billed to", "invoice to", "sold to", "ship to", "deliver to", "customer",
            "client", "recipient", "rechnungsempfanger", "rechnungsadresse", "kunde", "lieferadresse",
            "empfanger", "an", "kaufer", "warenempfanger", "buyer", "acheteur",
            "facture a", "facturer a", "adresse de facturation", "destinataire",
            "livrer a", "adresse de livraison", "issued to",
            # Alone as a heading only (``HEADING_ONLY``): "From | To" over the two parties' blocks.
            "to", "aan",
        ],
    ),
    "vendor": (
        1.0,
        [
            "from", "supplier", "vendor", "seller", "lieferant", "verkaufer", "fournisseur", "vendeur",
            "rechnungsersteller", "rechnungssteller", "emetteur",
            # The issuing party's role in other words and languages: a heading over its block.
            "provider", "service provider", "issuer", "billed by", "invoiced by", "issued by", "sold by",
            "auftragnehmer", "leistungserbringer", "dienstleister", "anbieter", "absender",
            "rechnungsaussteller", "prestataire", "expediteur", "leverancier", "verkoper", "afzender",
            "dienstverlener", "proveedor",
            "vendedor", "emisor", "fornitore", "venditore", "cedente", "prestatore", "mittente",
            "remitente",
        ],
    ),
    "other_id": (
        1.0,
        [
            # Headings of the bank block: the bank and the account follow, not the vendor.
            "payment information", "payment details", "bank details", "banking details",
            "bankverbindung", "zahlungsinformationen", "coordonnees bancaires", "informations de paiement",
            "bankgegevens", "betalingsgegevens", "datos bancarios", "informacion de pago",
            "coordinate bancarie", "dati bancari",
            # Who made the document out: a person's name follows, never the vendor's.
            "creator", "created by", "prepared by", "erstellt von", "bearbeiter", "sachbearbeiter",
            "ansprechpartner", "contact person", "etabli par", "interlocuteur", "opgesteld door",
            "contactpersoon", "preparado por", "redatto da", "referente",
            "customer number", "customer no", "customer id", "account number", "account no",
            "kundennummer", "kunden nr", "kundennr", "numero client", "n° client", "code client",
            "compte client", "n° compte client", "customer account", "kundenkonto",
            "delivery note", "delivery note no", "lieferschein", "lieferscheinnummer", "bon de livraison",
            "bic", "swift", "bic swift", "blz", "tel", "phone", "telefon", "fax", "page", "seite",
            "reference", "referenz",
            # A post-office box of an address: "PO Box 1234" names no purchase order.
            "po box", "p o box", "post office box",
            "contract", "vertrag", "contrat", "siret", "siren", "hrb", "handelsregister", "rcs",
            "company no", "company number", "registered in", "amtsgericht",
            "net weight", "gross weight", "nettogewicht", "bruttogewicht", "poids net", "poids brut",
            "versicherungsschein nr", "versicherungsscheinnummer", "vertragsnummer", "vertrags nr",
            "policy number", "policy no", "numero de police", "mitgliedsnummer",
            # The invoice a credit note corrects: its number is not the credit note's own.
            "credit for invoice", "for invoice", "against invoice", "original invoice",
            "relating to invoice", "re invoice", "refers to invoice", "zu rechnung", "zur rechnung",
            "korrektur zu rechnung", "bezug rechnung", "ursprungsrechnung", "ursprungsbeleg nr",
            "ursprungsbeleg", "facture d origine", "sur facture", "avoir sur facture",
            "concernant la facture",
            # The till or register a receipt was rung up on ("Kasse 3", "Caisse 7", "Caja 5").
            "kasse", "caisse", "caja", "cassa", "kassa", "terminal", "cash register", "register no",
        ],
    ),
    "carry": (
        1.0,
        [
            "carried forward", "brought forward", "carry forward", "ubertrag", "vortrag", "a reporter",
            "report", "reporte", "subtotal carried forward",
        ],
    ),
    # What a receipt was paid with and the change given back: amounts beside these are
    # payments, not the subtotal, the tax or the total (cash tendered = total + change).
    # A discount on the whole invoice ("Gesamtrabatt", "Total discount"): its amount is none of
    # the three totals, and the lines less it make the net amount (consistency.py).
    "discount": (0.9, list(label_words.DISCOUNTS)),
    "payment": (
        0.9,
        [
            "cash", "change", "change due", "tendered", "cash tendered", "amount tendered", "cash received",
            "credit card", "debit card", "card payment", "paid by card", "visa", "mastercard", "amex",
            "bargeld", "bar erhalten", "gegeben", "ruckgeld", "wechselgeld", "zuruck", "ec karte",
            "kartenzahlung", "especes", "rendu", "monnaie rendue", "carte bancaire", "paiement cb",
            "contant", "wisselgeld", "terug", "pinbetaling", "efectivo", "cambio", "devolucion", "entregado",
            "tarjeta", "pago con tarjeta", "contanti", "resto", "carta di credito", "bancomat",
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
    | {"tax_amount", "total", "currency", "date", "date_hint", "due_hint", "doc_title", "order_ref"}
)
# Document titles: never a company name, whatever size they are printed in.
TITLES = frozenset(
    " ".join(_t)
    for _t in (
        ("invoice",), ("tax", "invoice"), ("commercial", "invoice"), ("credit", "note"), ("credit", "memo"),
        ("rechnung",), ("gutschrift",), ("facture",), ("avoir",), ("statement",), ("purchase", "order"),
        ("delivery", "note"), ("lieferschein",), ("bestellung",), ("bon", "de", "commande"),
        ("remittance", "advice"), ("kontoauszug",), ("releve",), ("quote",), ("angebot",), ("devis",),
        ("factura",), ("fattura",), ("factuur",),
    )
) | frozenset(label_words.CREDIT_TITLES)  # fmt: skip
# German titles are compounds ("Kostenrechnung", "Rechnungs-Korrektur", "Beitragsrechnung").
_TITLE_TAILS = ("rechnung", "gutschrift", "korrektur")
_JOINED_TITLES = frozenset(t.replace(" ", "") for t in TITLES)
COLUMN_KINDS = frozenset(k for k in LABELS if k.startswith("col_"))


def is_title(text: str) -> bool:
    """True when ``text`` is a document title: "Invoice", "RECHNUNGS-KORREKTUR", "R E C H N U N G".

    Letter-spaced capitals are read as one word; a German compound that ends in a title word
    ("Warenrechnung", "Stornogutschrift") is a title too.
    """
    toks = ocr_tokens(text)
    if not toks:
        return False
    if " ".join(toks) in TITLES:
        return True
    joined = "".join(toks)
    if not joined.isalpha() or len(joined) > 30:
        return False
    spaced = len(toks) >= 4 and all(len(t) == 1 for t in toks)
    if spaced and joined in _JOINED_TITLES:
        return True
    if len(toks) > 2 and not spaced:
        return False
    return joined.endswith(_TITLE_TAILS)


# German compounds ending in the document's name ("Ausgangsrechnung") are its title; the
# prefixes that make a verb's noun of "rechnen" ("Berechnung", "Abrechnung") are not.
_COMPOUND_TITLE_TAILS = ("rechnung", "gutschrift")
_COMPOUND_HEAD_MIN = 3
_VERB_PREFIXES = frozenset(
    {"ver", "ab", "an", "auf", "aus", "hoch", "nach", "gegen", "vor", "mit", "ein", "zu", "zusammen", "um",
     "durch", "unter", "uber", "ruck", "zuruck", "miss", "vorab"}
)  # fmt: skip

_TOKEN = re.compile(r"[^\W_]+|[#°%]")


def fold(text: str) -> str:
    """Lower case without accents: 'Fälligkeit' -> 'falligkeit', 'Échéance' -> 'echeance'."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return list(_tokens(text))


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: the same words ("Total", "EUR", "GmbH") recur on every page of a batch.
    return tuple(_TOKEN.findall(fold(text)))


# Characters OCR reads for letters inside words ("T0tal", "1nvoice", "Bel3g").
_OCR_LETTERS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "3": "e", "6": "g", "|": "l", "$": "s"})


def ocr_tokens(text: str) -> list[str]:
    """``tokens`` with OCR slips in label words repaired: "T0tal" -> "total", "lnvoice" -> "invoice"."""
    return list(_ocr_tokens(text))


@lru_cache(maxsize=65536)
def _ocr_tokens(text: str) -> tuple[str, ...]:
    return tuple(_repair(tok) for tok in _tokens(text))


# An abbreviation of single letters, each with its stop ("P.O.", "N.I.F."), that OCR read with
# a digit for one of its letters ("P.0."): no number is written that way.
_DOTTED_LETTERS = re.compile(r"(?:[^\W_]\.){2,}")


@lru_cache(maxsize=65536)
def _placed_tokens(word: str) -> tuple[tuple[str, int, int], ...]:
    """``ocr_tokens`` of one word, each with the characters of the word it was read from
    (start, end); (-1, -1) when folding changed the word's length and places are unknown.
    An abbreviation of stopped letters read with a digit for a letter ("P.0.") is read with
    the letter."""
    folded = fold(word)
    if _DOTTED_LETTERS.fullmatch(folded) and any(c.isalpha() for c in folded):
        folded = folded.translate(_OCR_LETTERS)
    known = len(folded) == len(word)
    return tuple(
        (_repair(m.group()), m.start() if known else -1, m.end() if known else -1)
        for m in _TOKEN.finditer(folded)
    )


@lru_cache(maxsize=65536)
def _repair(tok: str) -> str:
    """The label word one OCR slip away from ``tok``, when exactly one is; else ``tok`` itself.

    Only words of five letters or more are repaired: short words are too close to each other
    ("ust"/"est", "net"/"not") for one changed letter to say which was printed.
    """
    words = _label_words()
    if tok in words or len(tok) < 5 or tok.isdigit():
        return tok
    letters = tok.translate(_OCR_LETTERS)
    if letters in words:
        return letters
    if not letters.isalpha():
        return tok
    close = {w for w in _slip_candidates(letters) if ocr_slip(letters, w)}
    return close.pop() if len(close) == 1 else tok


def _slip_candidates(read: str) -> set[str]:
    """The label words that differ from ``read`` in at most one letter changed, lost or added:
    every word ``ocr_slip`` can accept, found by lookups instead of comparing with each word."""
    changed, shortened = _slip_index()
    words = _label_words()
    out = set(shortened.get(read, ()))  # a letter of the label lost in ``read``
    for i in range(len(read)):
        out.update(changed.get(f"{read[:i]}\0{read[i + 1 :]}", ()))
        if (fewer := read[:i] + read[i + 1 :]) in words:  # a letter added in ``read``
            out.add(fewer)
    return out


@lru_cache(maxsize=1)
def _slip_index() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The label words by each of their letters masked, and by each of their letters left out."""
    changed: dict[str, list[str]] = {}
    shortened: dict[str, list[str]] = {}
    for word in _label_words():
        for i in range(len(word)):
            changed.setdefault(f"{word[:i]}\0{word[i + 1 :]}", []).append(word)
            shortened.setdefault(word[:i] + word[i + 1 :], []).append(word)
    return changed, shortened


# Letters OCR mistakes for each other; a slip between any other two letters is a different word
# ("supplies" is not a misread "supplier").
_CONFUSABLE = frozenset(
    frozenset(pair)
    for pair in (
        "il",
        "it",
        "lt",
        "if",
        "rn",
        "oa",
        "oe",
        "ce",
        "ec",
        "ao",
        "uv",
        "nu",
        "nh",
        "bh",
        "gq",
        "cg",
    )
)
# Thin letters OCR drops or adds ("nvoice" for "Invoice").
_THIN = frozenset("iltfjr")


def ocr_slip(read: str, label: str) -> bool:
    """True when ``read`` is ``label`` but for one OCR slip: a confusable letter, a thin one lost or added."""
    if read == label:
        return False
    i = 0
    short, long_ = (read, label) if len(read) <= len(label) else (label, read)
    while i < len(short) and short[i] == long_[i]:
        i += 1
    if len(read) == len(label):
        return read[i + 1 :] == label[i + 1 :] and frozenset((read[i], label[i])) in _CONFUSABLE
    return short[i:] == long_[i + 1 :] and long_[i] in _THIN


@lru_cache(maxsize=1)
def _label_words() -> frozenset[str]:
    """Every word of every listed label phrase and title, and the words the composed phrases
    are made of: the vocabulary OCR slips are repaired to. (Compounds glued from two words,
    "factuurnummer", are not in it: the repair compares a read word with each one.)"""
    phrases = [p for _, (_, ps) in LABELS.items() for p in ps] + list(TITLES) + list(label_words.WORDS)
    return frozenset(t for p in phrases for t in _tokens(p) if len(t) >= 4 and t.isalpha())


def _kind_phrases() -> Iterator[tuple[str, float, Collection[str], bool]]:
    """(kind, weight, phrases, already folded to tokens) of the listed labels, then of the six
    languages' composed ones (composed from words written as tokens: no folding needed)."""
    for kind, (weight, phrases) in LABELS.items():
        yield kind, weight, phrases, False
    for kind, made in label_words.composed().items():
        yield kind, LABELS[kind][0], made, True


# Labels of the amount still to pay ("Amount due", "Zu zahlen"): on most documents the total,
# but where the page also prints the invoice's gross amount, arrears or a prepayment make
# them differ, and the gross amount is the invoice total.
PHRASE_WEIGHTS = {
    " ".join(tokens(p)): 0.92
    for p in (
        "amount due", "total due", "balance due", "amount payable", "total payable", "due payable",
        "amount to pay", "amount to be paid", "total to pay", "zu zahlen", "zu zahlender betrag",
        "zu zahlender beitrag", "zahlbetrag", "net a payer", "montant a payer", "total a payer",
        "montant du", "reste a payer",
    )
}  # fmt: skip
# A tax label after these words names an amount that includes the tax: a gross total.
_INCLUDING = frozenset({"inkl", "inklusive", "einschl", "einschliesslich", "incl", "including", "inclusive"})
INCLUDED_TAX_WEIGHT = 0.95


# Shortest token read as two label words glued together ("nolater"): shorter ones are too
# often a word of their own.
_GLUED_MIN = 7


# What may stand between a label glued to its value and the value ("Nr.12345", "No:4711",
# "Nº.4711"): a mark that ends an abbreviation or introduces a value. A hyphen or a slash is no
# such mark: "PO-45125" and "RE/2024" are values that begin with a label's letters.
_TAIL_MARKS = frozenset(".:°º#")
# Label tokens that are marks themselves ("N°4711", "Invoice #4711"): the value may follow at once.
_MARK_TOKENS = frozenset("#°")
# A token of letters then digits ("no4711"): read as the two when the letters end a label.
_LETTERS_DIGITS = re.compile(r"([^\W\d_]+)(\d\w*)")
# Two label words joined as alternatives, the first cut where both share their ending
# ("Leistungs-/Rechnungsdatum", "Rechnungs-/Lieferdatum").
_ALTERNATIVES = re.compile(r"([^\W\d_]+)-/([^\W\d_]+)[.:]?")


@dataclass(frozen=True, slots=True)
class LabelMatch:
    kind: str
    phrase: str
    weight: float
    start: int  # index of the first word of the label in the row
    end: int  # index after the last word
    # True when the label's last word has its value after the phrase ("Nr.12345", "No:4711"):
    # the value is glued to the label, from character ``tail_at`` of that word on.
    partial_tail: bool = False
    tail_at: int = 0


class LabelFinder:
    """Finds label phrases among a row's words. Built once; matching is per row."""

    def __init__(self, table_mode: bool = False) -> None:
        # One key per distinct phrase (its tokens joined by spaces); a phrase may name several
        # kinds ("tva": the tax id label and the tax amount label), which the value type later
        # tells apart. Matching a row looks up each run of up to ``_longest`` tokens (exact
        # token sequences, as a phrase matcher does), however many phrases the composed
        # vocabulary holds.
        self._kinds: dict[str, tuple[tuple[str, float], ...]] = {}
        # The phrases' first tokens and longer beginnings: a run is extended only while some
        # phrase still starts with it.
        self._starts: set[str] = set()
        # Tokens already looked at for two glued label words (``_unglued``).
        self._glued: dict[str, tuple[str, ...]] = {}
        self._table_mode = table_mode
        cached = None if table_mode else _load_built()
        if cached is not None:
            self._kinds, self._starts = cached
            return
        self._build()
        if not table_mode:
            _save_built(self._kinds, self._starts)

    def _build(self) -> None:
        """The phrase index from the vocabularies. Built in bulk: tens of thousands of composed
        phrases. Every phrase of a kind shares that kind's one entry; the few phrases that name
        several kinds get their own."""
        table_mode = self._table_mode
        kinds = self._kinds
        for kind, weight, phrases, folded in _kind_phrases():
            if table_mode != kind.startswith("col_"):
                continue
            keys = phrases if folded else [" ".join(tokens(phrase)) for phrase in phrases]
            entry = (kind, weight)
            shared = (entry,)
            named = {key: kinds[key] for key in kinds.keys() & keys}
            kinds.update(dict.fromkeys(keys, shared))
            for key, before in named.items():
                kinds[key] = before if any(k == kind for k, _ in before) else (*before, entry)
        kinds.pop("", None)
        for key in PHRASE_WEIGHTS.keys() & kinds.keys():
            kinds[key] = tuple((kind, PHRASE_WEIGHTS[key]) for kind, _ in kinds[key])
        beginnings = {key.rpartition(" ")[0] for key in kinds if " " in key}
        while beginnings:
            beginnings -= self._starts
            self._starts |= beginnings
            beginnings = {key.rpartition(" ")[0] for key in beginnings if " " in key}
        self._starts.discard("")

    def _unglued(self, tok: str) -> tuple[str, ...]:
        """``tok`` as the two words of a label it is glued from, when exactly one cut makes them
        a known phrase or a phrase's beginning; else ``tok`` alone. OCR and tightly set text
        drop the space between words ("Scadenzapagamento:", "nolater than"); a compound that is
        itself a label ("rechnungsnummer") is kept whole."""
        known = self._glued.get(tok)
        if known is not None:
            return known
        out: tuple[str, ...] = (tok,)
        if len(tok) >= _GLUED_MIN and tok.isalpha() and tok not in self._kinds and tok not in self._starts:
            cuts = [
                (tok[:i], tok[i:])
                for i in range(2, len(tok) - 1)
                if f"{tok[:i]} {tok[i:]}" in self._kinds or f"{tok[:i]} {tok[i:]}" in self._starts
            ]
            if len(cuts) == 1:
                out = cuts[0]
            elif not cuts:
                # Three words, a short one between ("Resteapayer": "reste a payer"), only as a
                # whole phrase.
                thirds = [
                    (tok[:i], tok[i:j], tok[j:])
                    for i in range(2, len(tok) - 2)
                    for j in range(i + 1, min(i + 4, len(tok) - 1))
                    if f"{tok[:i]} {tok[i:j]} {tok[j:]}" in self._kinds
                ]
                if len(thirds) == 1:
                    out = thirds[0]
        self._glued[tok] = out
        return out

    def _compound_title(self, tok: str) -> str:
        """A German compound that ends in the document's name ("Warenrechnung", "Schlussrechnung",
        "Stornogutschrift") and is no phrase of its own reads as that name, the title; a verb's
        prefix ("Berechnung", "Verrechnung": a calculation, a set-off) makes no title."""
        if self._table_mode or tok in self._kinds or not tok.isalpha():
            return tok
        for tail in _COMPOUND_TITLE_TAILS:
            head = tok[: -len(tail)]
            if tok.endswith(tail) and len(head) >= _COMPOUND_HEAD_MIN and head not in _VERB_PREFIXES:
                return tail
        return tok

    def _alternatives(self, word: str) -> tuple[tuple[str, int, int], ...] | None:
        """A word joining two labels as alternatives ("Leistungs-/Rechnungsdatum"), read as one
        label token: the second, or the first completed with the ending it shares with the
        second when that one names the document's own number or date ("Rechnungs-/Lieferdatum"
        dates the invoice, which was delivered that day). None for any other word."""
        m = _ALTERNATIVES.fullmatch(word)
        if m is None or self._table_mode:
            return None
        first, second = (_repair(fold(part)) for part in m.groups())
        if second not in self._kinds:
            return None
        completed = next(
            (first + second[i:] for i in range(1, len(second)) if first + second[i:] in self._kinds), None
        )
        if completed is not None and any(kind in _OWN_KINDS for kind, _ in self._kinds[completed]):
            return ((completed, 0, m.end(2)),)
        return ((second, 0, m.end(2)),)

    def _parts(self, tok: str, at: int, stop: int) -> Iterator[tuple[str, int, int]]:
        """The token as the words it is read as, each with its characters in the word: two label
        words glued together ("nolater"), label letters glued to digits ("no4711"), or both
        ("ticketn007025")."""
        split = _LETTERS_DIGITS.fullmatch(tok)
        if split is not None and at >= 0 and stop - at == len(tok):
            # The letters may be two label words themselves, the second a one-letter number
            # mark ("Ticketn007025": "ticket n").
            letters, cut = split.group(1), at + split.end(1)
            if len(letters) > 2 and f"{letters[:-1]} {letters[-1]}" in self._kinds:
                yield letters[:-1], at, cut - 1
                yield letters[-1], cut - 1, cut
            else:
                yield from self._parts(letters, at, cut)
            yield split.group(2), cut, stop
            return
        parts = self._unglued(tok)
        if len(parts) == 1:
            yield self._compound_title(tok), at, stop
            return
        known = at >= 0 and stop - at == len(tok)
        for part in parts:
            yield part, at if known else -1, at + len(part) if known else -1
            at += len(part)

    @staticmethod
    def _tail_at(
        words: list[str],
        toks: list[str],
        owner: list[int],
        place: list[tuple[int, int]],
        start: int,
        end: int,
    ) -> int | None:
        """Where in the label's last word the value glued to it begins, when the phrase
        ``start:end`` ends inside that word and the rest of the word is a value: it holds a
        digit and follows a mark ("Nr.12345", "No:4711", "N°4711"), or, without one, is all
        digits after a label of two words or one long word ("Invoice No4711", "Belegnummer2387";
        "PO4711" is a value), or a whole date ("de12-08-2026")."""
        last = end - 1
        if end >= len(toks) or owner[end] != owner[last] or place[last][1] < 0 or place[end][0] < 0:
            return None
        word = words[owner[last]]
        between, rest = word[place[last][1] : place[end][0]], word[place[end][0] :]
        if not any(c.isdigit() for c in rest) or any(
            not c.isalnum() and c not in _TAIL_MARKS for c in between
        ):
            return None
        if _ORDINAL_READ.fullmatch(rest):
            return None  # no value: the label's own ordinal mark ("n.2:")
        if between or toks[last] in _MARK_TOKENS:
            return place[end][0]
        # Digits straight after the letters: a label of two words, or one long word
        # ("Belegnummer2387"); short letters before digits are a value's prefix ("PO4711").
        long_enough = end - start > 1 or len(toks[last]) >= _GLUED_MIN
        if rest.isdigit() and long_enough:
            return place[end][0]
        # A whole date glued to any label word ("de12-08-2026", "vom14.03.2026") is one.
        return place[end][0] if parse_date(rest) is not None else None

    def _phrase_spans(self, toks: list[str]) -> Iterator[tuple[int, int, str]]:
        """Every (start, end, phrase) where a known phrase's tokens occur, overlapping ones included."""
        for start, first in enumerate(toks):
            key = first
            end = start + 1
            while True:
                if key in self._kinds:
                    yield start, end, key
                if end == len(toks) or key not in self._starts:
                    break
                key = f"{key} {toks[end]}"
                end += 1

    def find(self, words: list[str], breaks: Collection[int] = ()) -> list[LabelMatch]:
        """Non-overlapping label matches, longest first, in reading order.

        ``breaks`` are indexes of words that start a new segment of the row (after a wide gap):
        a label never spans one, so "Montant | Total HT" in two table cells is "Total HT", not
        "Montant total".
        """
        toks: list[str] = []
        owner: list[int] = []
        # Each token's characters in its word (start, end), for a value glued to a label.
        place: list[tuple[int, int]] = []
        aside = parenthesised(words)
        for index, word in enumerate(words):
            for tok, at, stop in self._alternatives(word) or _placed_tokens(word):
                for part, a, b in self._parts(tok, at, stop):
                    toks.append(part)
                    owner.append(index)
                    place.append((a, b))
        if not toks:
            return []
        spans: dict[tuple[int, int], str] = {}
        asides: list[tuple[int, int, str]] = []
        for start, end, key in self._phrase_spans(toks):
            # A label in parentheses qualifies the one before it ("Summe Netto (excl. USt.)") or
            # is prose ("(Bei Zahlung bitte angeben)"): it neither names a value nor ends one,
            # unless it is the whole group after words that are no label ("Konto (IBAN)").
            if aside[owner[start]]:
                asides.append((start, end, key))
                continue
            # A label starts at the start of a word; "Kunden-Nr" must not yield "Nr".
            if start > 0 and owner[start - 1] == owner[start]:
                continue
            # ... and ends at the end of a word: the value "PO-45125" is not the label "PO",
            # unless the rest of the word is a value glued to it ("Nr.12345").
            glued = end < len(toks) and owner[end] == owner[end - 1]
            if (
                glued
                and self._tail_at(words, toks, owner, place, start, end) is None
                and not _ordinal_after(words, owner, place, end)
            ):
                continue
            if any(owner[i] in breaks for i in range(start + 1, end) if owner[i] != owner[i - 1]):
                continue
            if key in HEADING_ONLY and not _alone_in_segment(owner, start, end, breaks, len(words)):
                continue  # "Please pay to the account below": a preposition in a sentence
            spans[(start, end)] = key
        for start, end, key in asides:
            if _whole_group(aside, owner, start, end) and not any(
                owner[e - 1] == owner[start] - 1 for _s, e in spans
            ):
                spans[(start, end)] = key
        taken: set[int] = set()
        out: list[LabelMatch] = []
        for start, end in sorted(spans, key=lambda se: (se[0] - se[1], se[0])):
            if any(i in taken for i in range(start, end)):
                continue
            taken.update(range(start, end))
            phrase = " ".join(toks[start:end])
            kinds = self._kinds[spans[(start, end)]]
            # "N° de facture associée", "Previous invoice no.": the label names another document.
            own = any(k in _OWN_KINDS for k, _ in kinds)
            related = _related(toks, start, end, taken) if own else None
            if related is not None:
                start, end = related
                taken.update(range(start, end))
                phrase = " ".join(toks[start:end])
                kinds = tuple((_OWN_KINDS.get(k, k), 1.0 if k in _OWN_KINDS else w) for k, w in kinds)
            first, last = owner[start], owner[end - 1]
            tail_at = self._tail_at(words, toks, owner, place, start, end) if end < len(toks) else None
            # Two kinds can share one phrase ("tva": tax id or tax amount); keep both.
            for kind, weight in kinds:
                if kind == "tax_amount" and _tax_included(toks[max(0, start - 4) : start], start):
                    # "Beitrag inklusive 19 % Versicherungsteuer 220,00": the gross amount.
                    kind, weight = "total", INCLUDED_TAX_WEIGHT
                out.append(
                    LabelMatch(kind, phrase, weight, first, last + 1, tail_at is not None, tail_at or 0)
                )
        out.sort(key=lambda m: (m.start, m.kind))
        # "Net after discount", "Zwischensumme nach Rabatt": after an amount's own label the
        # discount's word says what that amount is net of; it is no discount's label.
        if any(m.kind == "discount" for m in out):
            first_amount = min((m.start for m in out if m.kind in _AMOUNT_KINDS), default=len(words))
            out = [m for m in out if not (m.kind == "discount" and m.start > first_amount)]
        return out


# Prepositions that name a party only as a heading standing alone in its cell ("To", "Aan"
# over the buyer's block, beside "From"); in running text they name nothing.
HEADING_ONLY = frozenset({"to", "aan"})


def _alone_in_segment(owner: list[int], start: int, end: int, breaks: Collection[int], n_words: int) -> bool:
    """True when the tokens ``start:end`` are all the words of their segment of the row."""
    first, last = owner[start], owner[end - 1]
    opens = first == 0 or first in breaks
    closes = last + 1 == n_words or last + 1 in breaks
    return opens and closes and all(owner[i] in (first, last) for i in range(start, end))


# The document's amounts, whose labels a discount's word may qualify.
_AMOUNT_KINDS = frozenset({"subtotal", "tax_amount", "total"})


# "n.2:", "N9:": the ordinal mark of "n.º" / "Nº" OCR read as a digit, a colon after it. A colon
# ends a label, never its value, so the digit is the label's.
_ORDINAL_READ = re.compile(r"[0-9]:")


def _ordinal_after(words: list[str], owner: list[int], place: list[tuple[int, int]], end: int) -> bool:
    """The rest of the word the phrase ends in is an ordinal mark read as a digit ("n.2:")."""
    at = place[end][0]
    return at >= 0 and _ORDINAL_READ.fullmatch(words[owner[end]][at:]) is not None


def after_cuts(match: LabelMatch, cuts: Collection[int]) -> LabelMatch:
    """The match over its row's words once the words at ``cuts`` were each cut in two (a label
    and the value glued to it): a glued label ends with the first piece of its last word."""
    last = match.end - 1
    moved = lambda index: index + sum(1 for k in cuts if k < index)  # noqa: E731
    if match.partial_tail and last in cuts:
        return dataclasses.replace(match, start=moved(match.start), end=moved(last) + 1, partial_tail=False)
    return dataclasses.replace(match, start=moved(match.start), end=moved(last) + 1 + (last in cuts))


# Labels of this document's own number and date, and what they name when a word says the
# document is another one ("associée", "previous").
_OWN_KINDS = {"invoice_number": "other_id", "doc_title": "other_id", "invoice_date": "other_date"}
_RELATED_AFTER = tuple(tuple(w.split()) for w in label_words.RELATED_AFTER)
_RELATED_BEFORE = tuple(tuple(w.split()) for w in label_words.RELATED_BEFORE)


def _related(toks: list[str], start: int, end: int, taken: set[int]) -> tuple[int, int] | None:
    """The label's token span grown over a "related document" word right after or before it."""
    for words in _RELATED_AFTER:
        stop = end + len(words)
        if tuple(toks[end:stop]) == words and not taken.intersection(range(end, stop)):
            return start, stop
    for words in _RELATED_BEFORE:
        begin = start - len(words)
        if begin >= 0 and tuple(toks[begin:start]) == words and not taken.intersection(range(begin, start)):
            return begin, end
    return None


def _tax_included(before: list[str], start: int) -> bool:
    """True when the words before a tax label say the amount includes the tax ("Beitrag inkl.
    19 % MwSt."). A row that starts with "inkl." names nothing that includes the tax: its amount
    is the tax included in the total above ("inkl. 19 % MwSt. 12,61", "Including VAT 13.17")."""
    for at, tok in zip(range(start - 1, -1, -1), reversed(before), strict=False):
        if tok in _INCLUDING:
            return at > 0
        if not (tok.isdigit() or tok in ("%", "zzgl", "der", "die", "des", "of", "the", "de", "la")):
            return False
    return False


def _whole_group(aside: list[bool], owner: list[int], start: int, end: int) -> bool:
    """The tokens ``start:end`` are all the tokens of one parenthesised group of words."""
    first, last = owner[start], owner[end - 1]
    return (
        (start == 0 or owner[start - 1] != first)
        and (end == len(owner) or owner[end] != last)
        and (first == 0 or not aside[first - 1])
        and (last + 1 == len(aside) or not aside[last + 1])
        and all(aside[first : last + 1])
    )


def parenthesised(words: list[str]) -> list[bool]:
    """For each word, whether it stands inside a closed pair of parentheses of the row.

    An opening parenthesis that never closes (OCR noise, a group wrapped onto the next row)
    marks nothing, so a stray "(" cannot hide the labels after it.
    """
    out = [False] * len(words)
    index = 0
    while index < len(words):
        if words[index].startswith("("):
            depth = 0
            for end in range(index, len(words)):
                depth += words[end].count("(") - words[end].count(")")
                if depth <= 0:
                    for i in range(index, end + 1):
                        out[i] = True
                    index = end
                    break
        index += 1
    return out


@lru_cache(maxsize=2)
def label_finder(table_mode: bool = False) -> LabelFinder:
    return LabelFinder(table_mode)


def build_indexes() -> None:
    """Build now what reading the first page would (the label index, the index of OCR slips):
    before a process forks, so that its copies share them rather than each build its own."""
    label_finder()
    _slip_index()


# The built phrase index of the header labels, kept beside this module's bytecode: building it
# composes tens of thousands of phrases, which every process that reads a page would otherwise
# repeat (a few times the cost of loading it). It is keyed by the vocabularies' source and the
# interpreter, so an edited vocabulary or another Python never loads a stale or foreign index.
# marshal, not pickle: the index is strings, tuples and floats, and loading it runs no code.
_BUILT_DIR = Path(__file__).parent / "__pycache__"


def _built_path() -> Path:
    digest = hashlib.sha256(f"{sys.version}/{marshal.version}".encode())
    for module in (__file__, label_words.__file__):
        digest.update(Path(module).read_bytes())
    return _BUILT_DIR / f"label-index.{digest.hexdigest()[:20]}.marshal"


def _load_built() -> tuple[dict[str, tuple[tuple[str, float], ...]], set[str]] | None:
    """The header label index saved by an earlier process, or None (none yet, or unreadable)."""
    try:
        groups, starts = marshal.loads(_built_path().read_bytes())
        kinds: dict[str, tuple[tuple[str, float], ...]] = {}
        for entry, keys in groups:
            kinds.update(dict.fromkeys(keys.split("\n"), entry))
        return kinds, set(starts.split("\n"))
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _save_built(kinds: dict[str, tuple[tuple[str, float], ...]], starts: set[str]) -> None:
    """Save the index for the next process; a folder that cannot be written to only costs speed.
    Keys sharing an entry are stored as one string, which loads several times faster than a dict."""
    groups: dict[tuple[tuple[str, float], ...], list[str]] = {}
    for key, entry in kinds.items():
        groups.setdefault(entry, []).append(key)
    data = marshal.dumps(([(e, "\n".join(keys)) for e, keys in groups.items()], "\n".join(starts)))
    aside: str | None = None
    try:
        _BUILT_DIR.mkdir(exist_ok=True)
        path = _built_path()
        # Written aside and renamed: a process reading at the same time sees all of it or nothing.
        with tempfile.NamedTemporaryFile(dir=_BUILT_DIR, prefix=path.name, delete=False) as out:
            aside = out.name
            out.write(data)
        os.replace(aside, path)
    except OSError:
        if aside is not None:
            Path(aside).unlink(missing_ok=True)


def describe(match: LabelMatch) -> dict[str, Any]:
    return {"kind": match.kind, "phrase": match.phrase, "weight": match.weight}
