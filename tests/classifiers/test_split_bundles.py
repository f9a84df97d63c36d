"""Bills whose later pages look unlike the first (terms, appendix, slip) stay whole in a stack;
two bills of one vendor back to back are still cut apart."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from classifiers.split_training import STACKS, build_stacks, evaluate, fit, load_stack_docs, stack_rows
from classifiers.splitter import (
    FEATURES,
    MEMORY_FEATURES,
    DocumentMemory,
    LearnedSplitter,
    page_pairs,
    page_signals,
)
from sandbox.corpus import freeform, generate_corpus
from sandbox.corpus.bundles import make_bundle, write_bundles
from sandbox.corpus.content import draw_invoice
from tests.classifiers.test_splitter import _page


def test_bundles_append_pages_of_other_kinds_and_siblings_share_the_vendor(tmp_path: Path) -> None:
    manifest = write_bundles(tmp_path, 10, seed=21, scans=False)
    truths = [json.loads((tmp_path / f"{stem}.json").read_text()) for stem in manifest["files"]]
    assert len(truths) == manifest["documents"] > 10  # some bundles came with a sibling
    kinds = {kind for t in truths for kind in t["pages"]}
    assert {"first"} < kinds and len(kinds) >= 4
    appended = [t for t in truths if t["pages"][-1] != "first"]
    assert len(appended) >= 10
    # Many bills run over pages of their own before the appended ones: the randomizer's continuations.
    assert sum(t["pages"].count("first") > 1 for t in truths) >= 3
    by_vendor: dict[str, list[dict[str, object]]] = {}
    for truth in truths:
        by_vendor.setdefault(str(truth["vendor_id"]), []).append(truth)
    pairs = [v for v in by_vendor.values() if len(v) == 2]
    assert pairs and all(a["layout"] == b["layout"] and a["number"] != b["number"] for a, b in pairs)
    # Same seed, same truth.
    again = write_bundles(tmp_path / "again", 10, seed=21, scans=False)
    assert again["pages_by_kind"] == manifest["pages_by_kind"]


def test_a_bundle_leaves_the_randomizer_style_it_was_given_untouched() -> None:
    rng = random.Random(3)
    invoice = draw_invoice(rng)
    style = freeform.draw_style(rng, invoice, heldout=False)
    before = style.summary()
    pdf, kinds = make_bundle(invoice, style, random.Random(4), heldout=False)
    assert style.summary() == before and pdf.startswith(b"%PDF")
    assert len(kinds) >= 2 and kinds[0] == "first"


def test_document_memory_tells_a_later_page_from_the_next_bill_of_the_same_vendor() -> None:
    first = page_signals(
        _page(
            1,
            [
                (30, "Acme Tools GmbH Hafenweg 3"),
                (120, "INVOICE"),
                (160, "Invoice No. 2026-4711"),
                (175, "Date 01.03.2026 Customer No. 88123"),
                (500, "Bolts 10 1.00 10.00"),
                (700, "Total 190.00"),
                (800, "IBAN DE89 3704 0044 0532 0130 00 VAT DE123456789"),
            ],
        )
    )
    terms = page_signals(
        _page(
            1,
            [
                (60, "General terms and conditions"),
                (100, "Goods remain the property of the seller until paid in full"),
                (800, "Acme Tools GmbH IBAN DE89 3704 0044 0532 0130 00"),
            ],
        )
    )
    slip = page_signals(
        _page(1, [(500, "Payment slip"), (520, "Invoice No. 2026-4711"), (540, "Acme Tools GmbH 190.00")])
    )
    next_bill = page_signals(
        _page(
            1,
            [
                (30, "Acme Tools GmbH Hafenweg 3"),
                (120, "INVOICE"),
                (160, "Invoice No. 2026-4712"),
                (175, "Date 02.03.2026 Customer No. 88123"),
                (700, "Total 55.00"),
                (800, "IBAN DE89 3704 0044 0532 0130 00 VAT DE123456789"),
            ],
        )
    )
    assert first.numbers == {"2026-4711"} and first.dated
    memory = DocumentMemory.starting(first)
    named = dict(zip(MEMORY_FEATURES, memory.features(terms), strict=True))
    assert named["doc_ids_shared"] and not named["header_block"] and not named["header_number_new"]
    assert named["doc_totals_seen"] and named["doc_vendor_words"] > 0.5
    memory.add(terms)
    assert dict(zip(MEMORY_FEATURES, memory.features(slip), strict=True))["doc_number_repeated"]
    memory.add(slip)
    named = dict(zip(MEMORY_FEATURES, memory.features(next_bill), strict=True))
    assert named["header_block"] and named["header_number_new"] and not named["doc_number_repeated"]
    # With the true starts given, the memory begins again at the second bill: its page after it
    # is compared with the second bill only.
    _, pairs, _ = page_pairs([first, terms, slip, next_bill, terms], starts={0, 3})
    assert [p.index for p in pairs] == [1, 2, 3, 4]
    assert pairs[3].features[FEATURES.index("doc_pages")] == pytest.approx(0.2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[LearnedSplitter, Path]:
    """A splitter learnt from drawn-layout documents and development bundles, and its cache."""
    cache = tmp_path_factory.mktemp("cache")
    drawn = tmp_path_factory.mktemp("drawn")
    generate_corpus(drawn, 30, seed=43, layouts="random", multipage=0.3, scans=False, einvoices=False)
    bundles = tmp_path_factory.mktemp("bundles")
    write_bundles(bundles, 24, seed=43, scans=False)
    docs = load_stack_docs([drawn, bundles], cache)
    return fit(*stack_rows(build_stacks(docs, 500, seed=1))), cache


def test_stacks_of_held_out_bundles_split_and_a_bundle_alone_stays_whole(
    trained: tuple[LearnedSplitter, Path], tmp_path: Path
) -> None:
    splitter, cache = trained
    drawn = tmp_path / "drawn"
    generate_corpus(drawn, 16, seed=9043, split="heldout", layouts="random", scans=False, einvoices=False)
    bundles = tmp_path / "bundles"
    write_bundles(bundles, 12, seed=9043, scans=False)
    singles = load_stack_docs([drawn], cache, split=None)
    bundled = load_stack_docs([bundles], cache, split=None)
    assert sum(len(d.signals) > 2 for d in bundled) >= 5
    settings = replace(STACKS, single_share=0.0, multipage=0.9, same_vendor=0.5)
    figures = evaluate(splitter, build_stacks([*singles, *bundled], 150, seed=5, settings=settings))
    assert figures["f1"] >= 0.95, figures
    whole = sum(len(splitter.split_signals(d.signals).parts) == 1 for d in bundled)
    assert whole >= len(bundled) - 1, (whole, len(bundled))
