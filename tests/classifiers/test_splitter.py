"""The splitter on generated stacks: 2-8 documents, multi-page ones whole, blank separators, mixed types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from classifiers.split_training import STACKS, build_stacks, evaluate, fit, load_stack_docs, stack_rows
from classifiers.splitter import (
    FEATURES,
    LearnedSplitter,
    RuleSplitter,
    load_splitter,
    page_signals,
    pair_features,
)
from sandbox.corpus import generate_corpus
from sandbox.corpus.stacks import corpus_files, draw_stacks, write_stack
from textlayer.model import Line, Page, Word

CLI = [sys.executable, "-m", "ledgerbot"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split-corpus")
    generate_corpus(out, 36, seed=5, split="all", scans=False, einvoices=False)
    return out


@pytest.fixture(scope="module")
def home(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledgerbot home with a splitter trained through the CLI on the corpus's dev documents."""
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "LEDGERBOT_HOME": str(home)}
    done = subprocess.run(
        [*CLI, "train", "splitter", str(corpus), "--stacks", "300"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["splitter"].startswith("splitter@")
    return home


def _page(
    number: int, lines: list[tuple[float, str]] | list[tuple[float, str, float]], source: str = "digital"
) -> Page:
    """A page of lines (top, text[, font size]); words are 9 pt unless a size is given."""
    out = []
    for top, text, *size in lines:
        x, words = 40.0, []
        for token in text.split():
            words.append(Word(token, (x, top, x + 6 * len(token), top + 9), size=size[0] if size else 9.0))
            x += 6 * len(token) + 4
        out.append(Line(words))
    return Page(number=number, width=595, height=842, lines=out, source=source)  # type: ignore[arg-type]


def test_page_signals_read_numbering_titles_and_blank_pages() -> None:
    first = page_signals(
        _page(1, [(40, "INVOICE", 16.0), (90, "Invoice No. 4711 Date 2026-03-01"), (820, "Page 1 of 2")])
    )
    assert first.numbering == (1, 2)
    assert first.title_types == ("invoice",)
    assert first.references >= 2
    second = page_signals(_page(2, [(100, "Bolts 10 1.00"), (700, "Total 190.00"), (820, "Seite 2/2")]))
    assert second.numbering == (2, 2) and second.totals and not second.title_types
    assert page_signals(_page(3, [(400, ". ,")])).blank
    assert page_signals(_page(4, [])).blank


def test_a_type_named_as_a_reference_or_among_item_rows_is_no_title() -> None:
    # "Your order" / "Ihre Bestellung" names another paper; a delivery named among the rows too.
    first = page_signals(
        _page(1, [(40, "Ihre Bestellung: 4711", 9.0), (60, "Warenrechnung", 16.0), (90, "Datum 01.03.2026")])
    )
    assert first.title_types == ("invoice",)  # the compound, not the order
    later = page_signals(
        _page(2, [(60, "Bolts M8 10 1.00 10.00"), (80, "Lieferschein 413149 vom 26.12.2025"), (700, "x y z")])
    )
    assert later.title_types == ()
    help_page = page_signals(_page(3, [(40, "Comment lire votre facture", 16.0), (90, "x y z w")]))
    assert help_page.title_types == ()


def test_on_a_scan_a_title_is_little_more_than_the_type_name() -> None:
    heading = page_signals(_page(1, [(60, "DELIVERY NOTE"), (90, "x y z w")], source="ocr"))
    assert heading.title_types == ("delivery_note",)
    columns = page_signals(_page(1, [(60, "Date Delivery note Order Item Qty"), (90, "x y z")], source="ocr"))
    assert columns.title_types == ()


def test_a_credit_notes_one_word_name_is_no_compound_of_an_invoice() -> None:
    title = page_signals(_page(1, [(60, "KORREKTURRECHNUNG", 16.0), (90, "Nr. 2026-17 vom 01.03.2026")]))
    assert title.title_types == ("credit_note",)
    scanned = page_signals(_page(1, [(60, "ABONO"), (90, "Nº AB-2026-17 12.03.2026")], source="ocr"))
    assert scanned.title_types == ("credit_note",)


def test_a_first_page_is_addressed_a_list_dates_every_row_a_page_of_notes_is_prose() -> None:
    first = page_signals(
        _page(
            1,
            [
                (40, "Nordlicht Handels GmbH"),
                (55, "Hafenstraße 12 · 20457 Hamburg"),
                (90, "Rechnung Nr. RE-4711 Datum 01.03.2026"),
                (700, "Gesamtbetrag 190,00"),
            ],
            source="ocr",
        )
    )
    deliveries = page_signals(
        _page(
            2,
            [(40, "Deliveries covered")]
            + [(60 + 14 * k, f"0{k + 1}.02.2026 DN{40012 + k} 4711 Bolts M8 {k + 2}") for k in range(8)],
            source="ocr",
        )
    )
    notes = page_signals(
        _page(
            3,
            [(40, "How to read your bill")]
            + [
                (60 + 14 * k, "Your charges for the month are listed with the service they came with")
                for k in range(6)
            ],
            source="ocr",
        )
    )
    assert first.addressed and first.dated_rows == 1 and first.prose == 0.0
    assert not deliveries.addressed and deliveries.dated_rows == 8
    assert not notes.addressed and notes.dated_rows == 0 and notes.prose > 0.8
    rows = dict(
        zip(FEATURES, pair_features(first, deliveries, blank_before=False, last_title=()), strict=True)
    )
    assert rows["dated_rows"] == 1.0 and rows["addressed"] == 0.0


def test_a_later_page_repeating_the_documents_order_number_shares_its_values() -> None:
    from classifiers.splitter import MEMORY_FEATURES, DocumentMemory

    first = page_signals(_page(1, [(40, "INVOICE", 16.0), (90, "Order PO-55123 Date 01.03.2026")]))
    totals = page_signals(_page(2, [(500, "Total 190.00"), (700, "x y z")]))
    details = page_signals(_page(3, [(60, "Delivered PO-55123 Bolts 4"), (700, "x y z")]))
    memory = DocumentMemory.starting(first)
    memory.add(totals)
    named = dict(zip(MEMORY_FEATURES, memory.features(details), strict=True))
    assert named["doc_values_shared"] == 1.0
    assert not details.values & totals.values  # the page before has none of them


def test_reference_values_leave_out_figures_of_rows_postal_codes_and_years() -> None:
    page = page_signals(
        _page(
            1,
            [
                (30, "Industriezeile 35a | 4020 Linz"),
                (50, "80331 München"),
                (60, "75008 PARIS"),
                (70, "Invoice No. FV.83473 dated 22 September 2023"),
                (90, "Customer 9049088"),
                (110, "274 SKU7453 Bolts M8x40 500 ml 0,29 79,46"),
            ],
        )
    )
    assert page.values == {"fv.83473", "22 september 2023", "9049088"}
    assert page.numbers == {"fv.83473"}


def test_an_iban_is_no_vat_id_and_a_new_id_counts_against_its_own_kind() -> None:
    from classifiers.splitter import _new_ids

    first = page_signals(
        _page(1, [(40, "VAT DE730966870"), (60, "IBAN DE59 7516 0483 0227 1213 35"), (80, "IBAN")])
    )
    assert first.ids == {"tax:DE730966870", "iban:DE59751604830227121335"}
    slip = page_signals(_page(2, [(40, "IBAN ES94 3999 7655 5214 6792 8312"), (60, "x y z w")]))
    assert not _new_ids(frozenset({"tax:DE730966870"}), slip.ids)  # a bank account where none was
    assert _new_ids(first.ids, slip.ids)  # another bank account
    assert not _new_ids(first.ids, frozenset({"iban:DE59751604830227121335"}))


def test_learned_splitter_finds_the_documents_of_held_out_layouts(corpus: Path, tmp_path: Path) -> None:
    docs = load_stack_docs([corpus], tmp_path / "cache", split=None)
    layouts = sorted({d.layout for d in docs})
    held = set(layouts[-2:])
    train = [d for d in docs if d.layout not in held]
    test = [d for d in docs if d.layout in held]
    assert train and test
    x, y = stack_rows(build_stacks(train, 300, seed=1))
    model = fit(x, y)
    figures = evaluate(model, build_stacks(test, 120, seed=2))
    assert figures["f1"] >= 0.97, figures
    assert figures["false_split_rate"] == 0.0, figures
    # Without page numbers the model still finds the boundaries; the rules alone miss many.
    unnumbered = build_stacks(test, 120, seed=3, settings=replace(STACKS, unnumbered=1.0))
    assert evaluate(model, unnumbered)["f1"] >= 0.95
    assert evaluate(RuleSplitter(), unnumbered)["f1"] < evaluate(model, unnumbered)["f1"]


def test_the_learned_model_reads_without_scikit_learn(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((200, len(FEATURES)))
    y = (x[:, 2] + x[:, 5] > 1.0).astype(int)
    model = fit(x, y)
    from sklearn.neural_network import MLPClassifier

    reference = MLPClassifier(
        hidden_layer_sizes=(STACKS.hidden_units,), alpha=STACKS.weight_decay, max_iter=500, random_state=0
    )
    reference.fit((x - model.mean) / model.scale, y)
    assert np.allclose(model.probabilities(x), reference.predict_proba((x - model.mean) / model.scale)[:, 1])
    model.save(tmp_path)
    assert isinstance(load_splitter(tmp_path)[0], RuleSplitter)  # no artifact: the rules decide
    assert isinstance(model, LearnedSplitter)


def test_extract_split_gives_one_line_per_document(corpus: Path, home: Path, tmp_path: Path) -> None:
    files = corpus_files(corpus, split="heldout", variants=("digital",))
    invoice = next(f for f in files if f.doc_type == "invoice")
    (docs, blanks), *_ = draw_stacks(files, 1, seed=7, min_docs=3, max_docs=4, blank_between=0.0)
    docs = [invoice, *docs]
    blanks = [True, *blanks]
    stack = tmp_path / "stack.pdf"
    truth = write_stack(docs, blanks, stack)
    single = docs[1].path
    env = {**os.environ, "LEDGERBOT_HOME": str(home)}
    done = subprocess.run(
        [*CLI, "extract", "--split", str(stack), str(single)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    n = len(truth.parts)
    assert [(tuple(d["pages"]), tuple(d["part"])) for d in lines[:n]] == [
        (part, (k, n)) for k, part in enumerate(truth.parts, start=1)
    ]
    assert lines[n]["part"] == [1, 1] and lines[n]["source"] == str(single)
    assert all(d["lineage"]["splitter"].startswith("splitter@") for d in lines)
    assert len(lines) == n + 1
    plain = subprocess.run([*CLI, "extract", str(stack)], env=env, capture_output=True, text=True)
    (whole,) = [json.loads(line) for line in plain.stdout.splitlines()]
    assert "part" not in whole and "pages" not in whole


def test_without_a_model_the_rules_split_by_numbering_and_blank_pages(tmp_path: Path) -> None:
    splitter, note = load_splitter(tmp_path / "no-models")
    assert isinstance(splitter, RuleSplitter) and note
    pages = [
        _page(1, [(40, "INVOICE", 16.0), (90, "Invoice No. 1"), (820, "Page 1 of 2")]),
        _page(2, [(100, "Bolts"), (700, "Total 9.00"), (820, "Page 2 of 2")]),
        _page(3, []),
        _page(4, [(40, "DELIVERY NOTE", 16.0), (90, "Delivery date 2026-03-01"), (820, "Page 1 of 1")]),
    ]
    from textlayer.model import Document

    plan = splitter.split(Document(pages=pages))
    assert [(p.first, p.last, p.page_type) for p in plan.parts] == [
        (1, 2, "invoice"),
        (4, 4, "delivery_note"),
    ]
    assert plan.decided_by == "splitter-rules@2"


@pytest.mark.slow
def test_a_small_scanned_stack_splits(corpus: Path, home: Path, tmp_path: Path) -> None:
    out = tmp_path / "scans"
    generate_corpus(out, 16, seed=9, split="heldout", scans=True, einvoices=False)
    scans = [f for f in corpus_files(out, variants=("scan_pdf", "scan_png"))][:2]
    assert len(scans) == 2
    truth = write_stack(scans, [True, False], tmp_path / "scanned.pdf")
    env = {**os.environ, "LEDGERBOT_HOME": str(home)}
    done = subprocess.run(
        [*CLI, "extract", "--split", str(tmp_path / "scanned.pdf")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [tuple(d["pages"]) for d in lines] == truth.parts


def test_a_plan_names_the_pages_it_is_unsure_of() -> None:
    from classifiers.splitter import SETTINGS, PageSignals, plan_from_starts

    pages = [PageSignals(blank=False, scanned=False) for _ in range(4)]
    unsure = (SETTINGS.threshold + SETTINGS.review) / 2  # a start, but not a sure one
    plan = plan_from_starts(pages, {1: 0.99, 2: unsure, 3: 0.01}, decided_by="test")
    assert [(p.first, p.last) for p in plan.parts] == [(1, 1), (2, 2), (3, 4)]
    assert plan.low_confidence and plan.doubtful == (3,)
    assert plan.lineage()["split_doubts"] == "3"
    sure = plan_from_starts(pages, {1: 0.99, 2: 0.01, 3: 0.01}, decided_by="test")
    assert sure.doubtful == () and "split_doubts" not in sure.lineage()


def test_a_corrected_split_is_a_stack_whose_parts_skip_blank_ends() -> None:
    from classifiers.split_training import corrected_stack
    from classifiers.splitter import PageSignals

    content, blank = PageSignals(blank=False, scanned=False), PageSignals(blank=True, scanned=False)
    # Pages: 1 content, 2 blank separator, 3-4 one document, 5 blank at the end.
    signals = [content, blank, content, content, blank]
    stack = corrected_stack(signals, [(1, 2), (3, 5)], "sha256:ab")
    assert stack is not None
    assert stack.parts == ((0, 0), (2, 3)) and stack.starts == {0, 2}
    _, y = stack_rows([stack])
    assert y.tolist() == [1, 0]  # page 3 starts a document, page 4 does not
    assert corrected_stack([blank, blank], [(1, 2)], "sha256:cd") is None
