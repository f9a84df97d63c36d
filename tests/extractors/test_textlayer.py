"""Text layer: born-digital PDFs, line grouping, batches and every kind of bad input."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth
from textlayer_docs import (
    PAGE_H,
    Placed,
    bomb_png,
    deep_page_tree_pdf,
    encrypted_pdf,
    invoice_lines,
    many_pages_pdf,
    pdf_bytes,
    truncated_pdf,
)

from textlayer import (
    Document,
    TextLayerConfig,
    TextLayerError,
    TextLayerReader,
    Word,
    read_document,
)
from textlayer.errors import ALL_ERRORS, EncryptedPDF, ResourceLimit
from textlayer.layout import group_lines, is_bold_font
from textlayer.sniff import sniff

# --- sniffing and layout (pure) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\r\n\r\njunk%PDF-1.4", "pdf"),
        (b"\x89PNG\r\n\x1a\n....", "png"),
        (b"\xff\xd8\xff\xe0JFIF", "jpeg"),
        (b"II*\x00\x08\x00", "tiff"),
        (b"MM\x00*\x00\x00", "tiff"),
    ],
)
def test_sniff_reads_the_content_not_the_name(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


@pytest.mark.parametrize(("head", "code"), [(b"", "E201"), (b"  \n\t", "E201"), (b"<?xml version", "E202")])
def test_sniff_refuses_empty_and_foreign_content(head: bytes, code: str) -> None:
    with pytest.raises(TextLayerError) as caught:
        sniff(head, source="x.pdf")
    assert caught.value.code == code
    assert caught.value.evidence["source"] == "x.pdf"


def test_error_codes_are_unique_and_stable() -> None:
    codes = [cls.code for cls in ALL_ERRORS]
    assert codes == ["E201", "E202", "E203", "E204", "E205", "E206", "E207", "E208", "E210"]


def test_errors_survive_the_process_boundary() -> None:
    error = EncryptedPDF("needs a password", source="a.pdf", pages=3)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is EncryptedPDF
    assert (copy.code, copy.message, copy.source) == ("E203", "needs a password", "a.pdf")
    assert copy.evidence == {"source": "a.pdf", "pages": 3}
    assert str(copy) == "[E203] needs a password"


@pytest.mark.parametrize(
    ("font", "bold"),
    [
        ("Helvetica-Bold", True),
        ("ABCDEF+Arial-BoldMT", True),
        ("Arial,Bold", True),
        ("Roboto-Black", True),
        ("Helvetica", False),
        ("BOLDEF+Helvetica", False),  # the subset tag says nothing about the face
        (None, False),
    ],
)
def test_bold_comes_from_the_font_name(font: str | None, bold: bool) -> None:
    assert is_bold_font(font) is bold


def _w(text: str, x0: float, top: float, x1: float, bottom: float) -> Word:
    return Word(text=text, bbox=(x0, top, x1, bottom))


def test_words_group_into_lines_by_vertical_overlap_in_reading_order() -> None:
    words = [
        _w("Amount", 400, 100.5, 440, 110.5),
        _w("Total", 300, 100, 330, 110),
        _w("second", 10, 121, 50, 131),
        _w("first", 10, 99, 40, 109),
        # A tall heading word overlaps the row it sits on, not the one below.
        _w("BIG", 100, 95, 160, 116),
    ]
    lines = group_lines(words)
    assert [line.text for line in lines] == ["first BIG Total Amount", "second"]
    assert lines[0].bbox == (10, 95, 440, 116)


def test_grouping_keeps_touching_rows_apart() -> None:
    rows = [_w(f"row{i}", 10, 100 + 10 * i, 50, 110 + 10 * i) for i in range(5)]
    assert [line.text for line in group_lines(list(reversed(rows)))] == [f"row{i}" for i in range(5)]


# --- born-digital PDFs ------------------------------------------------------------------------


def _expected_words(items: list[Placed]) -> list[tuple[str, float, float, Placed]]:
    """Every word with its expected x0 and x1, from reportlab's own font metrics."""
    out = []
    for item in items:
        x = item.x
        for i, word in enumerate(item.text.split(" ")):
            if i:
                x += stringWidth(" ", item.font, item.size)
            width = stringWidth(word, item.font, item.size)
            out.append((word, x, x + width, item))
            x += width
    return out


def test_digital_pdf_words_boxes_fonts_and_lines(textlayer_reader: TextLayerReader) -> None:
    items = invoice_lines(seed=7, rows=6)
    doc = textlayer_reader.read(pdf_bytes([items]), name="invoice.pdf")
    assert doc.source == "invoice.pdf"
    assert doc.errors == []
    assert not doc.is_scanned
    [page] = doc.pages
    assert (page.number, page.unit, page.source) == (1, "pt", "digital")
    assert (page.width, page.height) == pytest.approx((595.2756, 841.8898), abs=0.01)

    expected = _expected_words(items)
    by_order = sorted(expected, key=lambda e: (-e[3].baseline, e[1]))
    assert [w.text for w in page.words] == [e[0] for e in by_order]
    for word, (text, x0, x1, item) in zip(page.words, by_order, strict=True):
        assert word.text == text
        assert word.x0 == pytest.approx(x0, abs=0.05)
        assert word.x1 == pytest.approx(x1, abs=0.05)
        baseline = PAGE_H - item.baseline  # top-left origin
        assert word.top < baseline <= word.bottom
        assert word.size == pytest.approx(item.size)
        assert word.bold is item.font.endswith("Bold")
        assert word.confidence == 1.0

    # One line per baseline, top to bottom; table rows stay whole.
    baselines = sorted({item.baseline for item in items}, reverse=True)
    assert len(page.lines) == len(baselines)
    first_row = [i for i in items if i.baseline == baselines[5]]
    assert page.lines[5].text == " ".join(i.text for i in sorted(first_row, key=lambda i: i.x))
    assert page.lines[0].text == "Acme Tools GmbH"
    assert page.lines[-1].text.startswith("IBAN DE89")


def test_read_document_takes_a_path_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "acme.pdf"
    path.write_bytes(pdf_bytes([invoice_lines(seed=1), invoice_lines(seed=2)]))
    doc = read_document(path)
    assert doc.source == str(path)
    assert [p.number for p in doc.pages] == [1, 2]
    assert "RE-2026-1001" in doc.pages[0].text and "RE-2026-1002" in doc.pages[1].text
    assert "\f" in doc.text


def test_blank_pdf_page_without_ocr_is_an_empty_page(textlayer_reader: TextLayerReader) -> None:
    doc = textlayer_reader.read(pdf_bytes([[]]), ocr="never")
    [page] = doc.pages
    assert page.lines == [] and page.unit == "pt" and page.width > 500


# --- batches and bad input --------------------------------------------------------------------

BAD_INPUTS = {
    "empty.pdf": (b"", "E201"),
    "notes.pdf": (b"This is a text file that someone named .pdf\n", "E202"),
    "locked.pdf": (encrypted_pdf(), "E203"),
    "cut.pdf": (truncated_pdf(), "E204"),
    "long.pdf": (many_pages_pdf(301), "E205"),
    "bomb.png": (bomb_png(), "E206"),
    "deep.pdf": (deep_page_tree_pdf(), "E204"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gives_its_code(textlayer_reader: TextLayerReader, name: str) -> None:
    data, code = BAD_INPUTS[name]
    started = time.monotonic()
    with pytest.raises(TextLayerError) as caught:
        textlayer_reader.read(data, name=name)
    assert caught.value.code == code
    assert caught.value.source == name
    assert time.monotonic() - started < 60  # a bound, not a speed claim


def test_a_batch_goes_on_past_bad_files_in_input_order(
    textlayer_reader: TextLayerReader, tmp_path: Path
) -> None:
    good = [pdf_bytes([invoice_lines(seed=s)]) for s in range(3)]
    missing = tmp_path / "gone.pdf"
    sources: list[object] = [
        ("good-0.pdf", good[0]),
        *[(name, data) for name, (data, _) in BAD_INPUTS.items()],
        ("good-1.pdf", good[1]),
        missing,
        ("good-2.pdf", good[2]),
    ]
    results = list(textlayer_reader.read_many(sources))  # type: ignore[arg-type]
    assert len(results) == len(sources)
    codes = [r.code if isinstance(r, TextLayerError) else "ok" for r in results]
    assert codes == ["ok", *[code for _, code in BAD_INPUTS.values()], "ok", "E202", "ok"]
    docs = [r for r in results if isinstance(r, Document)]
    assert [d.source for d in docs] == ["good-0.pdf", "good-1.pdf", "good-2.pdf"]
    for seed, doc in enumerate(docs):
        assert f"RE-2026-{1000 + seed}" in doc.text


def test_page_limit_is_configurable() -> None:
    with TextLayerReader(TextLayerConfig(max_pages=3, workers=1)) as reader:
        assert len(reader.read(many_pages_pdf(3)).pages) == 3
        with pytest.raises(TextLayerError) as caught:
            reader.read(many_pages_pdf(4), name="four.pdf")
    assert caught.value.code == "E205"
    assert caught.value.evidence["pages"] == 4


def test_a_hung_parse_is_killed_and_the_worker_replaced() -> None:
    # A 10 ms budget, which no parse of a 300-page PDF meets, stands in for a file that hangs pdfminer.
    config = TextLayerConfig(parse_timeout=0.01, workers=1)
    with TextLayerReader(config) as reader:
        reader._ensure_workers()
        first_pid = reader._workers[0].proc.pid
        started = time.monotonic()
        batch = [many_pages_pdf(300), pdf_bytes([[Placed("still here", 50, 800)]])]
        slow, small = list(reader.read_many(batch))
        assert isinstance(slow, ResourceLimit) and slow.code == "E207"
        assert "gave up after" in slow.message
        # The replacement worker (a new process) read the next file of the batch.
        assert isinstance(small, Document) and small.text == "still here"
        assert reader._workers[0].proc.pid != first_pid
        assert time.monotonic() - started < 60


def test_a_worker_over_its_memory_limit_gives_e207_and_the_batch_goes_on() -> None:
    # A worker starts at ~150 MiB of address space; a 64-megapixel RGB page decodes to 192 MiB.
    from PIL import Image
    from textlayer_docs import image_bytes

    big = image_bytes(Image.new("RGB", (8000, 8000), (255, 255, 255)))
    config = TextLayerConfig(memory_limit_mb=300, workers=1)
    with TextLayerReader(config) as reader:
        results = list(reader.read_many([big, pdf_bytes([invoice_lines()])]))
    assert isinstance(results[0], TextLayerError) and results[0].code == "E207"
    assert isinstance(results[1], Document) and "Acme" in results[1].text


def test_abandoning_a_batch_leaves_the_reader_usable(textlayer_reader: TextLayerReader) -> None:
    sources = [pdf_bytes([invoice_lines(seed=s)]) for s in range(6)]
    batch = textlayer_reader.read_many(sources)
    first = next(batch)
    assert isinstance(first, Document) and "RE-2026-1000" in first.text
    batch.close()  # the caller stops early; tasks still in flight must not leak into the next batch
    again = list(textlayer_reader.read_many(sources[3:5]))
    assert ["RE-2026-1003" in again[0].text, "RE-2026-1004" in again[1].text] == [True, True]  # type: ignore[union-attr]


# --- the pdfium backend, measured against pdfplumber -------------------------------------------


def test_pdfium_backend_gives_pdfplumbers_words_boxes_and_lines(textlayer_reader: TextLayerReader) -> None:
    data = pdf_bytes([invoice_lines(seed=s, rows=10) for s in range(3)])
    reference = textlayer_reader.read(data)
    with TextLayerReader(TextLayerConfig(digital_backend="pdfium", workers=1)) as reader:
        fast = reader.read(data)
    assert len(fast.pages) == 3
    for ref_page, page in zip(reference.pages, fast.pages, strict=True):
        assert (page.source, page.unit) == ("digital", "pt")
        assert (page.width, page.height) == pytest.approx((ref_page.width, ref_page.height), abs=0.01)
        assert [line.text for line in page.lines] == [line.text for line in ref_page.lines]
        for ref, word in zip(ref_page.words, page.words, strict=True):
            assert word.bbox == pytest.approx(ref.bbox, abs=0.05), word.text
            assert (word.size, word.bold, word.confidence) == (ref.size, ref.bold, 1.0)


def _matrix_spaced_and_sideways_pdf() -> bytes:
    """Print many generators use: a font set at size 1 and scaled by the text matrix, letters set
    wide apart with character spacing, and a note printed sideways in the margin."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    scaled = c.beginText()
    scaled.setTextTransform(12, 0, 0, 12, 60, 780)
    scaled.setFont("Helvetica", 1)
    scaled.textOut("Invoice 2026-0412 of 4 May")
    c.drawText(scaled)
    spaced = c.beginText(60, 740)
    spaced.setFont("Helvetica", 8)
    spaced.setCharSpace(2.3)
    spaced.textOut("Supplier-No.: 4711")
    c.drawText(spaced)
    c.setFont("Helvetica", 10)
    c.drawString(60, 700, "Total EUR 1,250.00")
    c.saveState()
    c.translate(30, 300)
    c.rotate(90)
    c.drawString(0, 0, "Printed sideways 2026")
    c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


def test_pdfium_backend_sizes_by_the_text_matrix_joins_spaced_letters_and_reads_sideways_forwards() -> None:
    from textlayer.tasks import parse

    data = _matrix_spaced_and_sideways_pdf()
    ours = parse(data, "m.pdf", "never", TextLayerConfig(digital_backend="pdfium")).pages[1]
    theirs = parse(data, "m.pdf", "never", TextLayerConfig(digital_backend="pdfplumber")).pages[1]
    assert ours.backend == "pdfium" and theirs.backend == "pdfplumber"
    upright = [w for w in ours.words if w.bbox[2] - w.bbox[0] >= w.bbox[3] - w.bbox[1] or len(w.text) == 1]
    reference = {w.text: w for w in theirs.words}
    for word in upright:
        assert word.text in reference, word.text
        assert word.bbox == pytest.approx(reference[word.text].bbox, abs=0.05), word.text
        assert word.size == reference[word.text].size, word.text
    texts = [w.text for w in ours.words]
    assert texts[:5] == ["Invoice", "2026-0412", "of", "4", "May"]
    assert {w.size for w in ours.words[:5]} == {12.0}
    assert "Supplier-No.:" in texts and "4711" in texts
    # Sideways words read forwards, each one word along its own direction.
    assert {"Printed", "sideways", "2026"} <= set(texts)


def test_pdfium_backend_sends_blank_pages_to_ocr_or_leaves_them_empty() -> None:
    from textlayer.tasks import parse

    config = TextLayerConfig(digital_backend="pdfium")
    data = pdf_bytes([invoice_lines(), [Placed("x", 50, 800)]])
    auto = parse(data, "two.pdf", "auto", config)
    assert sorted(auto.pages) == [1] and auto.ocr_pages == [2]
    never = parse(data, "two.pdf", "never", config)
    assert never.ocr_pages == [] and never.pages[2].lines == []


def test_a_page_with_nothing_drawn_on_it_is_not_ocr_d() -> None:
    from textlayer.tasks import parse

    config = TextLayerConfig(digital_backend="pdfium")
    data = pdf_bytes([invoice_lines(), [], [Placed("x", 50, 800)]])
    auto = parse(data, "three.pdf", "auto", config)
    assert sorted(auto.pages) == [1, 2] and auto.pages[2].lines == [] and auto.ocr_pages == [3]
    always = parse(data, "three.pdf", "always", config)
    assert always.ocr_pages == [1, 2, 3]


def test_a_worker_that_died_while_idle_is_replaced() -> None:
    import os
    import signal

    with TextLayerReader(TextLayerConfig(workers=1)) as reader:
        assert "RE-2026-1000" in reader.read(pdf_bytes([invoice_lines()])).text
        dead = reader._workers[0].proc
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait()
        assert "RE-2026-1001" in reader.read(pdf_bytes([invoice_lines(seed=1)])).text
        assert reader._workers[0].proc.pid != dead.pid


def test_workers_start_as_files_arrive() -> None:
    one = pdf_bytes([[Placed("one file", 50, 800)]])
    with TextLayerReader(TextLayerConfig(workers=2)) as reader:
        reader.start(tasks=1)
        assert len(reader._workers) == 1  # a single file boots a single worker
        assert [d.text for d in reader.read_many([one])] == ["one file"]  # type: ignore[union-attr]
        assert len(reader._workers) == 1
        assert len(list(reader.read_many([one, one, one]))) == 3
        assert len(reader._workers) == 2  # a batch brings up the others
