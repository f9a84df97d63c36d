"""Randomized layouts: exact truth on the page, sums that add up, layouts that really vary."""

from __future__ import annotations

import io
import json
import random
import shutil
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from extractors.einvoice.truth import result_for
from sandbox.corpus import generate_corpus
from sandbox.corpus.formats import fmt_date, fmt_number
from sandbox.corpus.generator import CorpusError
from sandbox.corpus.letterhead_marks import mark_for
from sandbox.corpus.marks import pen_marks, stamp
from sandbox.corpus.randomized import HELDOUT_SEEDS, RandomDoc, make
from sandbox.corpus.receipts import make_receipt
from sandbox.corpus.vocabulary import WORDS, choices
from tests.conftest import SHARED


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
        assert (
            "".join(fmt_date(date.fromisoformat(fields["invoice_date"]), style["date_style"]).split()) in flat
        )
        total = abs(Decimal(fields["total"]))
        assert "".join(fmt_number(total, style["number_style"]).split()) in flat
        for index in range(len(truth["lines"])):
            keys = {f"lines[{index}].{k}" for k in ("quantity", "unit_price", "amount")}
            assert keys <= printed, (stem, index)


def _overlapping_words(path: Path) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (a layout that collides with itself)."""
    found = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = page.extract_words()
            for i, a in enumerate(words):
                for b in words[i + 1 :]:
                    wide = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                    high = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                    if wide > 1.0 and high > 2.0:
                        found.append((a["text"], b["text"]))
    return found


def test_no_block_is_printed_over_another(random_corpus: Path, truths: dict[str, dict[str, Any]]) -> None:
    for stem, truth in truths.items():
        assert _overlapping_words(random_corpus / truth["_file"]) == [], stem


def test_letterhead_marks_print_taglines_as_text_and_badges_as_pictures(
    random_corpus: Path, truths: dict[str, dict[str, Any]]
) -> None:
    """A tagline is in the text layer, a badge only in the picture; neither is the vendor."""
    seen: Counter[str] = Counter()
    for truth in truths.values():
        if truth["style"]["letterhead"] not in ("logo_left", "minimal") or truth["style"]["vendor_block"]:
            continue
        mark = mark_for(truth["fields"]["invoice_number"], truth["style"]["language"])
        if mark is None:
            continue
        text = _printed_text((random_corpus / truth["_file"]).read_bytes())
        printed = "".join(mark.text.split()) in text  # the text as printed, without spaces
        assert printed == (mark.kind == "tagline"), (truth["_file"], mark)
        assert mark.text != truth["fields"]["vendor_name"]
        seen[mark.kind] += 1
    assert seen["tagline"] and seen["badge"], seen
    assert mark_for("RE-1", "de") == mark_for("RE-1", "de")


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


def test_the_vendor_is_printed_once_or_twice_in_letterhead_or_party_block(
    random_corpus: Path, truths: dict[str, dict[str, Any]]
) -> None:
    """Real invoices often print the vendor once, in body type under its role ("Supplier"):
    the corpus must not teach that a vendor's name is always large and repeated in the footer."""
    seen: Counter[tuple[bool, bool]] = Counter()
    for stem, truth in truths.items():
        style = truth["style"]
        if style["letterhead"] == "sidebar":
            continue
        names = [n for n in truth["annotations"] if n["key"] == "vendor_name" and n["page"] == 1]
        assert len(names) == 1 + style["footer_name"], stem
        if style["vendor_block"]:
            roles = {w.casefold() for w in choices(style["language"], "vendor_role", heldout=True)}
            with pdfplumber.open(random_corpus / truth["_file"]) as pdf:
                words = pdf.pages[0].extract_words()
            top = names[0]["bbox"][1]
            above = [w["text"].rstrip(":").casefold() for w in words if top - 30 < w["top"] < top - 2]
            assert any(r.split()[0] in above for r in roles), (stem, above)
        seen[(style["vendor_block"], style["footer_name"])] += 1
    assert len(seen) == 4, seen  # each combination occurs


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


def _printed_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "".join("".join((page.extract_text() or "").split()) for page in doc.pages)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_receipts_print_their_truth_and_add_up(index: int) -> None:
    data, truth = make_receipt(3, RandomDoc("doc-00001", index, "receipt", "digital"))
    fields, lines = truth["fields"], truth["lines"]
    assert truth["doc_type"] == "invoice" and truth["layout"] == "random_receipt"
    # Receipts print gross line amounts: they add up to the total; net + VAT = total.
    assert sum(Decimal(line["amount"]) for line in lines) == Decimal(fields["total"])
    assert Decimal(fields["subtotal"]) + Decimal(fields["tax_amount"]) == Decimal(fields["total"])
    text = _printed_text(data)
    style = truth["style"]
    for name in ("total", "subtotal", "tax_amount"):
        assert fmt_number(Decimal(fields[name]), style["number_style"]).replace(" ", "") in text
    assert fmt_date(date.fromisoformat(fields["invoice_date"]), style["date_style"]) in text
    assert "".join(fields["vendor_name"].split()) in text
    with pdfplumber.open(io.BytesIO(data)) as doc:
        assert doc.pages[0].width < 80 * 72 / 25.4 + 1  # till paper, at most 80 mm wide


def test_photographed_and_scanned_receipts_are_images_with_the_same_truth() -> None:
    _, flat = make_receipt(3, RandomDoc("doc-00001", 4, "receipt", "digital"))
    photo, photo_truth = make_receipt(3, RandomDoc("doc-00001", 4, "receipt", "photo"))
    scan, scan_truth = make_receipt(3, RandomDoc("doc-00001", 4, "receipt", "scan_png"))
    assert photo_truth["fields"] == flat["fields"] == scan_truth["fields"]
    image = Image.open(io.BytesIO(photo))
    assert image.format == "JPEG" and image.mode == "RGB"
    pixels = np.asarray(image, dtype=np.float32)
    # A photo: the table around the paper differs in colour from the paper, and light is uneven.
    assert pixels.std() > 20
    assert abs(pixels[:, :20].mean() - pixels[pixels.shape[0] // 2, pixels.shape[1] // 2 - 40 :].mean()) > 20
    assert Image.open(io.BytesIO(scan)).format == "PNG"


def test_stamps_and_pen_marks_darken_the_page() -> None:
    page = Image.new("L", (1654, 2339), 255)
    rng = random.Random(1)
    stamped = np.asarray(stamp(page, rng, "de", date(2026, 3, 4)))
    marked = np.asarray(pen_marks(page, rng))
    assert (stamped < 200).sum() > 500 and (marked < 200).sum() > 200
    assert stamped.max() == 255 and marked.max() == 255  # marks only darken; the paper stays white


def test_a_scan_has_no_text_layer_and_the_digital_truth() -> None:
    _, digital = make(9, RandomDoc("doc-00001", 2, "invoice", "digital"))
    scan, scanned = make(9, RandomDoc("doc-00001", 2, "invoice", "scan_pdf"))
    assert scanned["fields"] == digital["fields"] and scanned["lines"] == digital["lines"]
    assert scanned["variant"] == "scan_pdf" and len(scanned["scan"]["angles"]) >= 1
    assert _printed_text(scan) == ""


EINVOICES = SHARED / "data" / "einvoice"


@pytest.mark.skipif(not EINVOICES.is_dir(), reason="no shared e-invoice samples beside this checkout")
def test_einvoices_rendered_in_random_layouts_reproduce_the_xml(tmp_path: Path) -> None:
    source = tmp_path / "src"
    picks = [
        "XML-Rechnung/CII/EN16931_Rabatte.cii.xml",
        "XML-Rechnung/UBL/EN16931_Gutschrift.ubl.xml",
        "XML-Rechnung/UBL/EN16931_Einfach.ubl.xml",
        "ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_COMFORT_Rabatte.pdf",
    ]
    for pick in picks:
        (source / pick).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EINVOICES / pick, source / pick)
    out = tmp_path / "out"
    stats = generate_corpus(out, 0, seed=6, from_einvoice=source, einvoice_styles=3, scans=False)
    assert stats.documents == 12 and stats.by_layout == {"einvoice_random": 12}
    truths = _truths(out)
    styles = set()
    for stem, truth in truths.items():
        xml = result_for(source / truth["source_file"]).model_dump(mode="json")
        for name in ("subtotal", "tax_amount", "total", "currency", "vendor_name"):
            assert truth["fields"][name] == xml["fields"][name], (stem, name)
        for name, value in truth["fields"].items():
            assert value is None or value == xml["fields"][name], (stem, name)
        assert [(x["quantity"], x["unit_price"], x["amount"]) for x in truth["lines"]] == [
            (x["quantity"], x["unit_price"], x["amount"]) for x in xml["lines"]
        ]
        text = _printed_text((out / truth["_file"]).read_bytes())
        total = Decimal(xml["fields"]["total"]) * (-1 if truth["doc_type"] == "credit_note" else 1)
        printed = fmt_number(abs(total), truth["style"]["number_style"]).replace(" ", "")
        assert printed in text, (stem, printed)
        styles.add((truth["style"]["letterhead"], truth["style"]["meta_style"], truth["style"]["font"]))
        assert _overlapping_words(out / truth["_file"]) == [], stem
    assert len(styles) >= 8  # the same business content in many looks
