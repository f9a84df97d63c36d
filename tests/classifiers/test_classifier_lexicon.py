from __future__ import annotations

import pytest

from classifiers.lexicon import (
    credit_wording_in,
    find_type_names_ocr,
    fold,
    refers_to_invoice,
    type_names_in,
    type_names_ocr,
)
from ledgerbot.core.domain import DocType as T


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("COMMERCIAL INVOICE", [T.INVOICE]),
        ("Rechnung", [T.INVOICE]),
        ("FACTURE D'AVOIR", [T.CREDIT_NOTE]),  # the longer name wins over "facture"
        ("Gutschrift", [T.CREDIT_NOTE]),
        ("BON DE COMMANDE", [T.PURCHASE_ORDER]),
        ("Bestellung", [T.PURCHASE_ORDER]),
        ("Lieferschein", [T.DELIVERY_NOTE]),
        ("Relevé de compte", [T.STATEMENT]),
        ("KONTOAUSZUG", [T.STATEMENT]),
        ("Avis de paiement", [T.REMITTANCE_ADVICE]),
        ("Zahlungsavis", [T.REMITTANCE_ADVICE]),
        ("LETTRE D'INFORMATION", [T.OTHER]),
        ("Factuur", [T.INVOICE]),
        ("Factura simplificada", [T.INVOICE]),
        ("Fattura", [T.INVOICE]),
        ("Creditnota", [T.CREDIT_NOTE]),
        ("Nota di credito", [T.CREDIT_NOTE]),
        ("Factura rectificativa", [T.CREDIT_NOTE]),  # the longer name wins over "factura"
        ("Orden de compra", [T.PURCHASE_ORDER]),
        ("Pakbon", [T.DELIVERY_NOTE]),
        ("Albarán", [T.DELIVERY_NOTE]),
        ("Estratto conto", [T.STATEMENT]),
        ("Betalingsadvies", [T.REMITTANCE_ADVICE]),
        ("Acme Tools GmbH", []),
        ("Invoicing Department", []),  # whole words only
    ],
)
def test_type_names_in_six_languages(title: str, expected: list[T]) -> None:
    assert type_names_in(title) == expected


def test_fold_drops_case_accents_and_punctuation() -> None:
    assert fold("Relevé  de-compte!") == " releve de compte "


def test_several_names_come_in_order_of_mention() -> None:
    assert type_names_in("Credit note for invoice 12") == [T.CREDIT_NOTE, T.INVOICE]


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("lnvoice No 1", [T.INVOICE]),
        ("Staternent of Account", [T.STATEMENT]),
        ("Gutschrlft Nr. 4711", [T.CREDIT_NOTE]),
        ("GUT SCHRIFT", [T.CREDIT_NOTE]),
        ("CREDITNOTE", [T.CREDIT_NOTE]),
        ("Sterling Hygiene LimitedCreditMemo", [T.CREDIT_NOTE]),
        ("B0N DE C0MMANDE", [T.PURCHASE_ORDER]),
        ("Schlussrechnung", [T.INVOICE]),
        ("Stornorechnung", [T.CREDIT_NOTE]),
        ("A V O I R", [T.CREDIT_NOTE]),  # a title in spaced capitals
        ("A V OIR", [T.CREDIT_NOTE]),  # ... as OCR groups its letters
        ("Acme Fournitures SAS A V OIR", [T.CREDIT_NOTE]),  # beside the letterhead
        ("F A C i U RE", [T.INVOICE]),
    ],
)
def test_type_names_survive_ocr_misreadings(read: str, expected: list[T]) -> None:
    assert type_names_ocr(read) == expected


@pytest.mark.parametrize(
    "read", ["Rechnungsnummer 4711", "avoid", "Invoicing address", "Statue", "N° d a voi", "S A S"]
)
def test_ocr_matching_stays_strict_on_short_names_and_other_words(read: str) -> None:
    assert type_names_ocr(read) == []


def test_ocr_match_reports_the_letters_it_covers() -> None:
    (match,) = find_type_names_ocr("2026-05-08 2026-00960 Invoice 4.446,71")
    assert (match.doc_type, match.letters) == (T.INVOICE, 7)


@pytest.mark.parametrize(
    "title", ["SALES RECEIPT", "Kassenbon", "Quittung", "Ticket de caisse", "Kassabon", "Scontrino", "Recibo"]
)
def test_a_receipt_is_named_a_bill_to_book(title: str) -> None:
    assert type_names_in(title) == [T.INVOICE]


def test_a_receipt_name_survives_ocr() -> None:
    assert type_names_ocr("RECElPT") == [T.INVOICE]


@pytest.mark.parametrize(
    "title",
    [
        "CREDIT ADVICE",
        "Credit Invoice",  # the longer name wins over "invoice"
        "Credit memorandum",
        "Gutschriftsanzeige",
        "KORREKTURRECHNUNG",
        "Rechnungsberichtigung",
        "Facture rectificative",  # the longer name wins over "facture"
        "Note d'avoir",
        "Credit nota",
        "ABONO",
        "Nota de abono",
        "Factura de abono",
        "Nota credito",
        "Nota di accredito",
    ],
)
def test_what_credit_notes_are_called_names_a_credit_note(title: str) -> None:
    assert type_names_in(title) == [T.CREDIT_NOTE]
    assert type_names_ocr(title.upper()) == [T.CREDIT_NOTE]


@pytest.mark.parametrize(
    ("text", "refers"),
    [
        ("Credit for invoice INV-2026-17 dated 2026-03-12", True),
        ("This refers to the invoice 4711 of 02.01.2026", True),
        ("Gutschrift zu Rechnung RE-12 vom 01.02.2026", True),
        ("Avoir sur facture F-9 du 03/04/2026", True),
        ("Rectifica la factura 88 de 12/03/2026", True),
        ("Betreft factuur nr. 2026-3", True),
        ("Rif. fattura 2026/12 del 3 marzo", True),
        # An invoice's own number and date labels name no other invoice.
        ("Invoice No. 4711", False),
        ("Date of invoice 12.03.2026", False),
        ("Numéro de facture 123", False),
        ("Número de factura FA-77", False),
        ("Credit for order 4711", False),
    ],
)
def test_a_reference_to_the_corrected_invoice(text: str, refers: bool) -> None:
    assert refers_to_invoice(text) is refers


def test_refund_wording_in_running_text() -> None:
    assert credit_wording_in("The amount credited will be refunded to your account")
    assert credit_wording_in("Der Betrag wird Ihrem Konto gutgeschrieben.")
    assert credit_wording_in("Importe a devolver 12,00")
    assert not credit_wording_in("Please pay the amount due by 12.03.2026")
    assert not credit_wording_in("Zahlbar innerhalb von 14 Tagen ohne Abzug")
