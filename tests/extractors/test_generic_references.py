"""Which label owns a value: order references, other documents' dates, a letter's date, a year."""

from __future__ import annotations

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.labels import label_finder
from extractors.generic.ranking import shipped_scorer
from extractors.generic.settings import DEFAULT
from ledgerbot.core.domain import DocType

_HEAD = [
    (40, 40, "Nordwind Handel GmbH"),
    (40, 55, "Hafenweg 3, 20457 Hamburg"),
    (350, 150, "Invoice No. 2026-0815"),
    (350, 165, "Date 12.03.2026"),
    (300, 400, "Subtotal 100,00"),
    (300, 415, "VAT 19% 19,00"),
    (300, 430, "Total 119,00"),
]


@pytest.fixture(scope="module")
def extractor() -> GenericExtractor:
    return GenericExtractor()


@pytest.fixture(scope="module")
def ranked() -> GenericExtractor:
    return GenericExtractor(shipped_scorer())


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.phrase) for m in label_finder().find(text.split())]


def _values(extractor: GenericExtractor, cells: list[tuple[float, float, str]], field: str) -> set[object]:
    return {c.value for c in extractor.read_unscored(_document(cells)).candidates[field]}


@pytest.mark.parametrize("box", ["PO Box 1234", "P.O. Box 77 London", "Post Office Box 9"])
def test_a_post_office_box_names_no_purchase_order(extractor: GenericExtractor, box: str) -> None:
    assert not _values(extractor, [*_HEAD, (40, 70, box)], "po_number")
    assert "po_number" not in {kind for kind, _ in _kinds(box)}


def test_an_order_number_after_the_buyers_reference_is_reported_as_doubtful(ranked: GenericExtractor) -> None:
    by_reference = ranked.extract(_document([*_HEAD, (350, 180, "Your reference AB-778")]), DocType.INVOICE)
    by_order = ranked.extract(_document([*_HEAD, (350, 180, "Order No. AB-778")]), DocType.INVOICE)
    assert by_reference.fields.po_number == by_order.fields.po_number == "AB-778"
    assert by_reference.field_confidence["po_number"] <= DEFAULT.buyer_reference_confidence
    assert by_order.field_confidence["po_number"] > DEFAULT.buyer_reference_confidence
