from __future__ import annotations

import pytest

from classifiers.lexicon import fold, type_names_in
from ledgerbot.domain import DocType as T


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
        ("Acme Tools GmbH", []),
        ("Invoicing Department", []),  # whole words only
    ],
)
def test_type_names_in_three_languages(title: str, expected: list[T]) -> None:
    assert type_names_in(title) == expected


def test_fold_drops_case_accents_and_punctuation() -> None:
    assert fold("Relevé  de-compte!") == " releve de compte "


def test_several_names_come_in_order_of_mention() -> None:
    assert type_names_in("Credit note for invoice 12") == [T.CREDIT_NOTE, T.INVOICE]
