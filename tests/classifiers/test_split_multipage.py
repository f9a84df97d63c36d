"""Stacks of generated multi-page invoices (2-8 documents, blank separators, scans) split right."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from classifiers.split_training import (
    STACKS,
    StackDoc,
    build_stacks,
    evaluate,
    fit,
    load_stack_docs,
    stack_rows,
)
from classifiers.splitter import LearnedSplitter, page_signals
from sandbox.corpus import generate_corpus
from sandbox.corpus.stacks import CorpusFile, corpus_files, draw_stacks, write_stack


@pytest.fixture(scope="module")
def splitter(tmp_path_factory: pytest.TempPathFactory) -> LearnedSplitter:
    """A splitter learnt from stacks of drawn-layout documents of a development seed, half of them long."""
    corpus = tmp_path_factory.mktemp("multipage-train")
    generate_corpus(corpus, 40, seed=41, layouts="random", multipage=0.5, scans=False, einvoices=False)
    docs = load_stack_docs([corpus], tmp_path_factory.mktemp("cache"))
    assert sum(len(d.signals) > 1 for d in docs) >= 10
    return fit(*stack_rows(build_stacks(docs, 400, seed=1)))


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long invoices and credit notes of a held-out seed: each runs over two pages or more."""
    out = tmp_path_factory.mktemp("multipage-heldout")
    generate_corpus(out, 12, seed=9041, split="heldout", layouts="random", multipage=1.0, einvoices=False)
    return out


def test_multipage_corpora_hold_continuation_pages_of_every_kind(heldout: Path) -> None:
    files = corpus_files(heldout)
    assert sum(f.pages > 1 for f in files) >= 10
    draws = draw_stacks(files, 40, seed=3, multipage=1.0)
    assert all(any(f.pages > 1 for f in docs) for docs, _ in draws)
    assert all(2 <= len(docs) <= 8 for docs, _ in draws)


def test_stacks_of_long_held_out_documents_split_with_and_without_page_numbers(
    splitter: LearnedSplitter, heldout: Path, tmp_path: Path
) -> None:
    from textlayer import read_document

    docs = [
        StackDoc(tuple(page_signals(p) for p in read_document(f.path).pages), f.doc_type, False, f.path.stem)
        for f in corpus_files(heldout, variants=("digital",))
    ]
    assert sum(len(d.signals) > 1 for d in docs) >= 6
    settings = replace(STACKS, single_share=0.0, blank_between=0.3)
    for unnumbered in (0.0, 1.0):
        stacks = build_stacks(docs, 120, seed=5, settings=replace(settings, unnumbered=unnumbered))
        assert sum(last > first for s in stacks for first, last in s.parts) >= 100
        figures = evaluate(splitter, stacks)
        assert figures["f1"] >= 0.95, (unnumbered, figures)
    # One long document alone is never cut at its continuation pages.
    for doc in docs:
        assert len(splitter.split_signals(doc.signals).parts) == 1, doc.layout


def test_a_pdf_stack_of_long_invoices_with_a_scan_and_blank_pages_splits(
    splitter: LearnedSplitter, heldout: Path, tmp_path: Path
) -> None:
    from textlayer import read_document

    files = corpus_files(heldout)
    # The shortest ones: OCR of a scanned page takes seconds.
    digital = sorted((f for f in files if f.variant == "digital" and f.pages > 1), key=lambda f: f.pages)
    scans = sorted((f for f in files if f.variant == "scan_pdf" and f.pages > 1), key=lambda f: f.pages)
    assert len(digital) >= 3 and scans
    stack: list[CorpusFile] = [digital[0], scans[0], digital[1], digital[2]]
    truth = write_stack(stack, [True, False, True, False], tmp_path / "stack.pdf")
    assert truth.pages >= 9
    document = read_document(tmp_path / "stack.pdf")
    plan = splitter.split_signals([page_signals(page) for page in document.pages])
    assert [(p.first, p.last) for p in plan.parts] == truth.parts
