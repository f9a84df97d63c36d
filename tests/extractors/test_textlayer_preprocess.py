"""Page clean-up before OCR: light-on-dark bands and table rules, on drawn images and with tesseract."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from textlayer.config import TextLayerConfig
from textlayer.model import Line, Word
from textlayer.ocr import invert_dark_regions, join_underscores, ocr_image, remove_rules

CONFIG = TextLayerConfig()
W, H = 1654, 1100  # an A4 width at 200 dpi


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def banded_table() -> Image.Image:
    """A white-on-grey column header over a ruled grid of numbers, as on many invoices."""
    image = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(image)
    font = _font(30)
    draw.rectangle((100, 200, 1580, 250), fill=70)
    for text, x in (("Description", 110), ("Quantity", 900), ("Price", 1150), ("Amount", 1400)):
        draw.text((x, 208), text, fill=250, font=font)
    rows = [("Hex bolt M8", "12", "84.15", "1009.80"), ("Washer M12", "10", "10.15", "101.50")]
    for i, cells in enumerate(rows):
        top = 260 + i * 60
        draw.rectangle((100, top, 1580, top + 60), outline=0, width=2)
        for x in (880, 1130, 1380):
            draw.line((x, top, x, top + 60), fill=0, width=2)
        for text, x in zip(cells, (110, 1040, 1230, 1410), strict=True):
            draw.text((x, top + 12), text, fill=0, font=font)
    draw.text((100, 600), "Invoice 4711", fill=0, font=_font(60))
    return image


def test_a_dark_band_becomes_dark_text_on_white() -> None:
    image = banded_table()
    out = np.asarray(invert_dark_regions(image, CONFIG))
    band = out[205:245, 105:1545]
    # The band's grey is paper now, and its light letters are ink.
    assert np.median(band) == 255
    assert 0.02 < np.mean(band < 128) < 0.4
    # Outside the band nothing changed, not even the big bold title.
    assert np.array_equal(out[300:1100], np.asarray(image)[300:1100])


def test_a_bands_blurred_rim_becomes_paper_not_a_frame() -> None:
    image = banded_table().filter(ImageFilter.GaussianBlur(1.2))  # a scan blurs the band's edges
    out = np.asarray(invert_dark_regions(image, CONFIG))
    # Just outside the band's top and bottom edges no grey line is left to touch the letters.
    for row in (198, 199, 251, 252):
        assert np.min(out[row, 120:1560]) > 200, row


def test_a_mid_grey_band_becomes_dark_text_on_white_too() -> None:
    # A letterhead band in a mid-tone accent colour scans to a grey lighter than dark print.
    image = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, W, 160), fill=125)
    draw.text((120, 40), "Northwind Traders Ltd", fill=250, font=_font(50))
    draw.text((120, 400), "Invoice 4711", fill=0, font=_font(40))
    out = np.asarray(invert_dark_regions(image, CONFIG))
    band = out[20:140, 100:1000]
    assert np.median(band) == 255
    assert 0.05 < np.mean(band < 128) < 0.4
    assert np.array_equal(out[300:], np.asarray(image)[300:])


def _line_over_a_band(gap: int) -> Image.Image:
    """A totals line printed ``gap`` pixels over a dark band, blurred as a scan blurs it."""
    image = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(image)
    draw.text((900, 300 - gap - 36), "Sales tax 349.88", fill=0, font=_font(36))
    draw.rectangle((880, 300, 1580, 360), fill=60)
    draw.text((900, 310), "Total 1940.23", fill=250, font=_font(36))
    return image.filter(ImageFilter.GaussianBlur(1.2))


@pytest.mark.parametrize("gap", [3, 6])
def test_print_just_over_a_band_keeps_its_letters(gap: int) -> None:
    image = _line_over_a_band(gap)
    out = np.asarray(invert_dark_regions(image, CONFIG))
    line = (slice(300 - gap - 40, 300 - gap), slice(890, 1560))
    before = np.asarray(image)[line] < 128
    # The band's rim is paper, the line's letters (their feet nearest the band too) stay ink.
    assert np.count_nonzero(out[line] < 128) >= 0.95 * np.count_nonzero(before)
    feet = (slice(300 - gap - 6, 300 - gap), slice(890, 1560))
    assert np.count_nonzero(out[feet] < 128) >= 0.9 * np.count_nonzero(np.asarray(image)[feet] < 128)


def test_the_edge_of_a_band_printed_askew_is_no_stroke() -> None:
    # Its top edge three pixels lower at the right than at the left, as a scan tilts it (drawn
    # four times as large and scaled down, so its edge is anti-aliased).
    image = Image.new("L", (4 * W, 4 * H), 255)
    ImageDraw.Draw(image).polygon([(400, 800), (6320, 812), (6320, 1040), (400, 1040)], fill=60)
    image = image.resize((W, H), Image.Resampling.BILINEAR)
    ImageDraw.Draw(image).text((120, 214), "Total amount 1940.23", fill=250, font=_font(30))
    out = np.asarray(invert_dark_regions(image.filter(ImageFilter.GaussianBlur(1.0)), CONFIG))
    # No row along the band's edges keeps a run of ink longer than a letter is wide.
    for row in [*range(194, 212), *range(252, 266)]:
        ink = np.concatenate([[0], (out[row, 100:1580] < 128).astype(int), [0]])
        edges = np.flatnonzero(np.diff(ink))
        runs = edges[1::2] - edges[::2]
        assert runs.size == 0 or runs.max() < 40, (row, runs.max())


def _words_as_read(text: str, *, underline: bool = False) -> tuple[Image.Image, list[Line]]:
    """``text`` printed on a line, and its words with boxes as an OCR reads them: an underscore
    dropped, the words either side of it split."""
    image = Image.new("L", (W, 300), 255)
    draw = ImageDraw.Draw(image)
    font = _font(32)
    draw.text((100, 100), text, fill=0, font=font)
    if underline:
        box = draw.textbbox((100, 100), text, font=font)
        draw.line((box[0], box[3] + 4, box[2], box[3] + 4), fill=0, width=2)
    words = []
    for part in re.finditer(r"[^ _]+", text):
        x = 100 + draw.textlength(text[: part.start()], font=font)
        words.append(
            Word(text=part.group(), bbox=draw.textbbox((x, 100), part.group(), font=font), confidence=0.9)
        )
    return image, [Line(words=words)]


def test_an_underscore_ocr_read_as_a_space_is_put_back() -> None:
    image, lines = _words_as_read("Invoice No. R_26233930")
    assert [w.text for w in join_underscores(lines, image)[0].words] == ["Invoice", "No.", "R_26233930"]


@pytest.mark.parametrize("underline", [False, True])
def test_words_apart_or_underlined_are_not_joined(underline: bool) -> None:
    # A plain space has nothing at the words' foot; an underline runs on under their letters.
    image, lines = _words_as_read("Invoice No. R 26233930", underline=underline)
    assert [w.text for w in join_underscores(lines, image)[0].words] == ["Invoice", "No.", "R", "26233930"]


def test_a_page_without_bands_or_rules_keeps_its_print() -> None:
    image = Image.new("L", (W, H), 255)
    ImageDraw.Draw(image).text((100, 100), "Invoice 4711 Total 119.00", fill=0, font=_font(60))
    assert invert_dark_regions(image, CONFIG) is image
    # Big bold print is no rule: at most a few anti-aliased pixels between letters change.
    before = np.asarray(image)
    changed = np.count_nonzero(np.asarray(remove_rules(image, CONFIG)) != before)
    assert changed < 0.02 * np.count_nonzero(before < 128)


def test_rules_are_erased_and_glyphs_kept() -> None:
    image = banded_table()
    out = np.asarray(remove_rules(image, CONFIG))
    # The grid's horizontal and vertical rules are paper now ...
    assert np.all(out[318:322, 120:860] > 200)  # a horizontal rule between the rows
    assert np.all(out[270:310, 879:882] > 200)  # a vertical rule between description and quantity
    # ... the digits and the title are still ink.
    before = np.asarray(image)
    title = (slice(600, 680), slice(100, 600))
    assert np.mean(out[title] < 128) == pytest.approx(np.mean(before[title] < 128), abs=0.01)
    digits = (slice(272, 308), slice(1040, 1080))
    assert np.mean(out[digits] < 128) > 0.8 * np.mean(before[digits] < 128)


@pytest.mark.slow
def test_tesseract_reads_the_banded_header_and_the_ruled_numbers() -> None:
    page = ocr_image(banded_table(), CONFIG)
    words = [w.text for line in page.lines for w in line.words]
    assert {"Description", "Quantity", "Price", "Amount"} <= set(words)
    assert {"12", "84.15", "1009.80", "10", "10.15", "101.50"} <= set(words)
    plain = ocr_image(banded_table(), TextLayerConfig(invert_dark_regions=False, remove_rules=False))
    plain_words = {w.text for line in plain.lines for w in line.words}
    # Without the clean-up the same page loses part of it: that is what the clean-up is for.
    assert not ({"Description", "Quantity", "Price", "Amount", "84.15", "101.50"} <= plain_words)


def courier_lines() -> Image.Image:
    """Lines of 8 pt Courier at 200 dpi, as invoice layouts with a typewriter face print them."""
    import io

    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 400))  # 1653 x 1111 pixels
    pdf.setFont("Courier", 8)
    labels = ("Rechnung Nr.: R26/4603", "Zahlungsziel: 3. August 2026", "Kundennummer: 45254")
    for i, text in enumerate(labels):
        pdf.drawString(60, 370 - 12 * i, text)
    pdf.drawString(60, 320, "Deutschland   Nitrile gloves size L, box of 100")
    pdf.line(60, 280, 540, 280)
    pdf.save()
    document = pdfium.PdfDocument(buffer.getvalue())
    try:
        return document[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


def test_monospaced_print_is_no_rule() -> None:
    """Courier's serifs and curves join into runs as long as a short rule along the baseline and
    the x-height; a rule is solid ink with paper on both sides, and those runs are neither."""
    image = courier_lines()
    before = np.asarray(image)
    out = np.asarray(remove_rules(image, CONFIG))
    rule_row = round((400 - 280) * 200 / 72)
    text = (slice(0, rule_row - 10), slice(None))
    assert np.count_nonzero(out[text] != before[text]) < 0.01 * np.count_nonzero(before[text] < 128)
    # The drawn rule below them is still found and erased.
    assert np.all(out[rule_row - 1 : rule_row + 2, 200:1450] > 200)


def test_lone_specks_are_erased_and_print_is_kept() -> None:
    from textlayer.ocr import erase_specks

    image = courier_lines()
    before = np.asarray(image)
    # Specks on a lattice over the whole page, between and beside the letters, where no print
    # is within three pixels: one pixel each, every third one two pixels wide.
    grid_y, grid_x = np.mgrid[5 : image.height - 5 : 7, 5 : image.width - 5 : 7]
    ys, xs = grid_y.ravel(), grid_x.ravel()
    paper = np.array(
        [np.all(before[y - 3 : y + 4, x - 3 : x + 5] == 255) for y, x in zip(ys, xs, strict=True)]
    )
    ys, xs = ys[paper], xs[paper]
    specked = before.copy()
    specked[ys, xs] = 0
    specked[ys[::3], xs[::3] + 1] = 30
    out = np.asarray(erase_specks(Image.fromarray(specked), CONFIG))
    assert ys.size > 10_000
    assert np.array_equal(out, before)
    # A full stop, an i-dot and the strokes of a word are more than two pixels: all kept.
    assert erase_specks(image, CONFIG) is image


def test_resolution_from_the_file_or_the_page_size() -> None:
    from textlayer.ocr import estimate_dpi

    stored = Image.new("L", (1654, 2339))
    stored.info["dpi"] = (200.0, 200.0)
    assert estimate_dpi(stored) == 200.0
    # 72 dpi (a phone's default) is no scan resolution: an A4 page 1240 pixels wide is ~150 dpi.
    phone = Image.new("L", (1240, 1754))
    phone.info["dpi"] = (72, 72)
    assert 140 < estimate_dpi(phone) < 150 < CONFIG.speck_min_dpi
    assert estimate_dpi(Image.new("L", (2480, 3508))) > CONFIG.speck_min_dpi
