"""Randomized layouts: exact truth on the page, sums that add up, layouts that really vary."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from sandbox.corpus import generate_corpus
from sandbox.corpus.formats import fmt_date, fmt_number
from sandbox.corpus.generator import CorpusError
from sandbox.corpus.randomized import HELDOUT_SEEDS
from sandbox.corpus.vocabulary import WORDS, choices


def _truths(folder: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        Path(name).stem: {**json.loads((folder / f"{Path(name).stem}.json").read_text()), "_file": name}
        for name in manifest["files"]
    }


@pytest.fixture(scope="module")
def random_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("random")
    generate_corpus(out, 60, seed=5, layouts="random", scans=False)
    return out


@pytest.fixture(scope="module")
def truths(random_corpus: Path) -> dict[str, dict[str, Any]]:
    return _truths(random_corpus)


def test_every_document_is_a_payable_with_sums_that_add_up(truths: dict[str, dict[str, Any]]) -> None:
    assert len(truths) == 60
    kinds = Counter(t["doc_type"] for t in truths.values())
    assert set(kinds) == {"invoice", "credit_note"}
    for stem, truth in truths.items():
        fields, lines = truth["fields"], truth["lines"]
        assert truth["layout"] == "random" and truth["split"] == "dev" and truth["mismatches"] == []
        line_sum = sum(Decimal(line["amount"]) for line in lines)
        assert line_sum == Decimal(fields["subtotal"]), stem
        assert Decimal(fields["subtotal"]) + Decimal(fields["tax_amount"]) == Decimal(fields["total"]), stem
        credit = truth["doc_type"] == "credit_note"
        assert (Decimal(fields["total"]) < 0) == credit, stem
        for line in lines:
            assert Decimal(line["quantity"]) > 0 and Decimal(line["unit_price"]) > 0
        if credit:
            assert fields["due_date"] is None


def _page_chars(path: Path) -> tuple[list[Any], str]:
    with pdfplumber.open(path) as pdf:
        chars = [page.chars for page in pdf.pages]
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        return chars, text


def test_the_text_layer_shows_every_truth_value_where_the_annotation_says(
    random_corpus: Path, truths: dict[str, dict[str, Any]]
) -> None:
    """Each annotated span reads back from pdfplumber's words inside its box, and every header
    field with a value is annotated somewhere, so the truth is exactly what the page shows."""
    for stem, truth in truths.items():
        pages, text = _page_chars(random_corpus / truth["_file"])
        flat = "".join(text.split())
        for note in truth["annotations"]:
            x0, top, x1, bottom = note["bbox"]
            # A glyph belongs to the span when its centre is inside the annotated box.
            inside = [
                ch["text"]
                for ch in pages[note["page"] - 1]
                if x0 - 0.5 <= (ch["x0"] + ch["x1"]) / 2 <= x1 + 0.5
                and top - 1 <= (ch["top"] + ch["bottom"]) / 2 <= bottom + 1
            ]
            assert "".join("".join(inside).split()) == "".join(note["text"].split()), (stem, note)
        printed = {note["key"] for note in truth["annotations"]}
        style = truth["style"]
        for name, value in truth["fields"].items():
            if value is None or name == "currency":
                continue
            assert name in printed, (stem, name)
        fields = truth["fields"]
        assert fields["invoice_number"] is not None and fields["invoice_date"] is not None
        assert "".join(fields["invoice_number"].split()) in flat
        from datetime import date

        assert (
            "".join(fmt_date(date.fromisoformat(fields["invoice_date"]), style["date_style"]).split()) in flat
        )
        total = abs(Decimal(fields["total"]))
        assert "".join(fmt_number(total, style["number_style"]).split()) in flat
        for index in range(len(truth["lines"])):
            keys = {f"lines[{index}].{k}" for k in ("quantity", "unit_price", "amount")}
            assert keys <= printed, (stem, index)


def test_layouts_really_vary(truths: dict[str, dict[str, Any]]) -> None:
    styles = [t["style"] for t in truths.values()]
    # Label wording: many distinct words for the same field across 60 documents.
    total_labels = {s["labels"]["total"] for s in styles}
    number_labels = {s["labels"].get("invoice_number") or s["labels"].get("credit_number") for s in styles}
    assert len(total_labels) >= 15 and len(number_labels) >= 15
    assert len({s["language"] for s in styles}) >= 5
    assert len({s["font"] for s in styles}) >= 6
    assert len({tuple(s["columns"]) for s in styles}) >= 20
    assert len({s["letterhead"] for s in styles}) >= 6
    assert len({s["meta_style"] for s in styles}) >= 5
    # Where the invoice number is printed differs from document to document.
    positions = set()
    for truth in truths.values():
        boxes = [n["bbox"] for n in truth["annotations"] if n["key"] == "invoice_number"]
        positions.add((round(boxes[0][0] / 40), round(boxes[0][1] / 40)))
    assert len(positions) >= 20


def test_same_seed_same_documents_other_seed_other_layouts(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 8), (b, 8), (c, 9)):
        generate_corpus(folder, 6, seed=seed, layouts="random", scans=False)
    for name in json.loads((a / "manifest.json").read_text())["files"]:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    styles_a = [json.loads(p.read_text())["style"] for p in sorted(a.glob("doc-*.json"))]
    styles_c = [json.loads(p.read_text())["style"] for p in sorted(c.glob("doc-*.json"))]
    assert styles_a != styles_c


def test_heldout_seeds_and_heldout_words(tmp_path: Path) -> None:
    seed = HELDOUT_SEEDS.start + 7
    generate_corpus(tmp_path / "h", 3, seed=seed, layouts="random", scans=False, split="heldout")
    truth = json.loads((tmp_path / "h" / "doc-00001.json").read_text())
    assert truth["split"] == "heldout"
    with pytest.raises(CorpusError, match="held-out"):
        generate_corpus(tmp_path / "x", 3, seed=1, layouts="random", split="heldout")
    # Training never sees the held-out wordings, but each key keeps its common first wording.
    for language, table in WORDS.items():
        for key, words in table.items():
            dev = choices(language, key, heldout=False)
            assert dev[0] == words[0] and set(dev) <= set(words)
    held = sum(
        len(words) - len(choices(lang, key, heldout=False))
        for lang, t in WORDS.items()
        for key, words in t.items()
    )
    assert held > 100


def test_both_keeps_the_fixed_layouts_as_a_regression_set(tmp_path: Path) -> None:
    stats = generate_corpus(tmp_path, 20, seed=2, layouts="both", scans=False, einvoices=False)
    truths = _truths(tmp_path)
    assert stats.by_layout.get("random") == 10
    fixed = [t for t in truths.values() if t["layout"] != "random"]
    assert len(fixed) == 10 and all(t["layout"][0] in "LB" for t in fixed)
