"""The vendor's web and mail domains as a cue for its name (``extractors.generic.domains``)."""

from __future__ import annotations

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.domains import (
    domain_label,
    domain_match,
    names_domain,
    printed_domains,
    spelled_spans,
)
from extractors.generic.extractor import Reading
from textlayer.model import Document


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("www.nordwind-logistik.de", "nordwindlogistik"),
        ("shop.acme.co.uk", "acme"),
        ("mail.gmail.com", None),  # a mail provider names no company
        ("ab.de", None),  # too short to stand for a name
        ("localhost", None),
    ],
)
def test_the_label_that_names_the_owner(host: str, label: str | None) -> None:
    assert domain_label(host) == label


def test_domains_are_read_from_mail_and_web_addresses() -> None:
    words = [
        "E-Mail:",
        "billing@brightwater-paints.com,",
        "www.kestrel.fr",
        "orion.de.",
        "Nr.12",
        "S.A.",
        "x@gmx.de",
    ]
    assert printed_domains(words) == {"brightwaterpaints", "kestrel", "orion"}


@pytest.mark.parametrize(
    ("name", "score"),
    [
        ("Brightwater Paints", 1.0),
        ("Kestrel Gerätebau", 1.0),  # begins with the domain
        ("Bright", 0.5),  # cut short: the domain begins with it
        ("Harbour Supplies", 0.0),
    ],
)
def test_a_name_is_matched_with_the_domains(name: str, score: float) -> None:
    assert domain_match(name.split(), frozenset({"brightwaterpaints", "kestrel"})) == score


def test_a_name_printed_only_in_a_sentence_is_found_by_its_domain() -> None:
    words = ["Ihre", "Leistungen", "von", "Brightwater", "Paints", "im", "Mai"]
    assert spelled_spans(words, frozenset({"brightwaterpaints"})) == [(3, 5)]
    assert (
        spelled_spans(words, frozenset({"brightwater"})) == []
    )  # one word: most often a longer name's first


def test_the_candidate_that_spells_the_domain_carries_the_cue() -> None:
    doc = _document(
        [
            (50, 60, "Ihre Leistungen von Brightwater Paints im Mai"),
            (50, 120, "Rechnung Nr. 4711"),
            (50, 780, "Kontakt: service@brightwater-paints.com"),
        ]
    )
    reading = GenericExtractor().read_unscored(doc)
    cues = {c.value: c.features["domain_name"] for c in reading.candidates["vendor_name"]}
    assert cues.get("Brightwater Paints") == 1.0
    assert not any(score for name, score in cues.items() if "Brightwater" not in name)


def test_a_name_or_address_that_is_the_domain_names_it_whole() -> None:
    domains = frozenset({"brightwaterpaints", "kestrel"})
    assert names_domain(["Brightwater", "Paints"], domains)
    assert names_domain(["kestrel.com"], domains)
    assert not names_domain(["Kestrel", "Gerätebau"], domains)  # begins with it: a cue, not the name whole
    assert not names_domain(["service@kestrel.com"], domains)


def _unsure_reading(extractor: GenericExtractor, document: Document, score: float) -> Reading:
    reading = extractor.read(document)
    for c in reading.candidates["vendor_name"]:
        c.score = score if c.features.get("domain_exact") else 2 * score
    return reading


def test_when_the_ranker_is_sure_of_no_name_the_one_spelling_the_domain_is_taken() -> None:
    extractor = GenericExtractor()
    doc = _document(
        [
            (50, 60, "Guten Tag, hier Ihre Rechnung"),
            (50, 120, "Ihre Leistungen von Brightwater Paints im Mai"),
            (50, 780, "Kontakt: service@brightwater-paints.com"),
        ]
    )
    unsure = extractor.decide(_unsure_reading(extractor, doc, 0.01), doc)
    assert unsure.fields.vendor_name == "Brightwater Paints"
    assert "domain" in unsure.lineage["vendor_name"]  # the rule says it chose, for the clerk
    sure = extractor.decide(_unsure_reading(extractor, doc, 0.4), doc)  # the ranker's own choice stands
    assert sure.fields.vendor_name != "Brightwater Paints"
    assert "vendor_name" not in sure.lineage


def test_the_name_spelling_the_domain_takes_its_legal_form_of_several_words() -> None:
    # The name's line runs on into the next column's (as OCR reads it): its legal form ends it.
    doc = _document(
        [
            (50, 60, "Brightwater Paints UG (haftungsbeschränkt) 197 Due date: 12.03.2026"),
            (50, 120, "Rechnung Nr. 4711"),
            (50, 780, "Kontakt: service@brightwater-paints.com"),
        ]
    )
    names = {c.value for c in GenericExtractor().read_unscored(doc).candidates["vendor_name"]}
    assert "Brightwater Paints UG (haftungsbeschränkt)" in names
