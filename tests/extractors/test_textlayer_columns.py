"""Rows of two columns tesseract read as one, read again column by column (textlayer.columns)."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sandbox.corpus.scans import degrade
from textlayer.columns import _least_ink, _pieces, interleaved_rows, reread_columns
from textlayer.config import ColumnSettings, TextLayerConfig
from textlayer.model import Line, Word
from textlayer.ocr import ocr_image

SETTINGS = ColumnSettings()


def _word(text: str, x0: float, top: float, x1: float, bottom: float, confidence: float = 0.9) -> Word:
    return Word(text=text, bbox=(x0, top, x1, bottom), confidence=confidence, size=bottom - top)


def test_two_lines_sharing_their_height_over_common_columns_are_a_cut_row() -> None:
    upper = Line(words=[_word("Baker", 100, 240, 180, 257), _word("te:", 900, 240, 940, 252)])
    lower = Line(words=[_word("Mill", 100, 262, 160, 279), _word("date:", 880, 244, 950, 266)])
    assert interleaved_rows([upper, lower], SETTINGS) == [(240, 279)]


def test_cells_of_one_row_and_rows_one_under_another_are_not() -> None:
    left = Line(words=[_word("Widget", 100, 300, 200, 320)])
    right = Line(words=[_word("12.00", 900, 301, 980, 321)])  # tesseract's line per cell
    below = Line(words=[_word("Bolt", 100, 330, 160, 350), _word("3.00", 900, 330, 960, 350)])
    assert interleaved_rows([left, right, below], SETTINGS) == []


def test_a_band_is_cut_down_its_column_gap_and_a_piece_across_its_row_gaps() -> None:
    ink = np.zeros((100, 400), dtype=bool)
    ink[10:20, 10:100] = ink[40:50, 10:60] = True  # two rows of a left column
    ink[5:30, 250:390] = True  # one tall row of a right column
    pieces = [(10, 10, 100, 20), (10, 40, 60, 50), (250, 5, 390, 30)]
    assert _pieces(ink, column_gap=20, row_gap=5, depth=6) == pieces
    # Without a deep enough cut the band is read as one piece.
    assert _pieces(ink, column_gap=20, row_gap=5, depth=0) == [(10, 5, 390, 50)]


def test_a_band_with_no_paper_near_it_ends_at_the_rows_of_least_ink_within_reach() -> None:
    ink_rows = np.full(100, 50)
    ink_rows[[30, 44, 70, 90]] = [3, 1, 2, 0]  # the row at 90 is out of reach
    assert _least_ink(ink_rows, 50, 60, reach=15) == (44, 70)


def _two_column_page() -> tuple[Image.Image, list[Line]]:
    """A drawn page of two ink blocks side by side, and tesseract's reading of it with one of
    its rows cut in two (the lines at 40 and 42 share most of their height)."""
    image = Image.new("L", (600, 600), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 40, 200, 80), fill=0)
    draw.rectangle((350, 40, 560, 70), fill=0)
    draw.rectangle((20, 150, 300, 170), fill=0)
    lines = [
        Line(words=[_word("Acme", 20, 40, 90, 57, 0.6), _word("D", 350, 40, 370, 52, 0.3)]),
        Line(words=[_word("Street", 20, 62, 110, 80, 0.6), _word("ue", 372, 44, 400, 66, 0.4)]),
        Line(words=[_word("Total", 20, 150, 120, 170), _word("9.00", 200, 150, 300, 170)]),
    ]
    return image, lines


def test_a_cut_row_is_read_again_piece_by_piece_and_the_rest_of_the_page_is_kept() -> None:
    image, lines = _two_column_page()
    pieces: list[tuple[int, int]] = []

    def read(piece: Image.Image) -> list[Line]:
        pieces.append(piece.size)
        return [Line(words=[_word(f"piece{len(pieces)}", 10, 10, piece.width - 10, piece.height - 10, 0.95)])]

    out, bands = reread_columns(lines, image, read, SETTINGS)
    assert bands == 1
    assert len(pieces) == 2  # the left column and the right one, each alone
    assert [line.text for line in out] == ["piece1", "piece2", "Total 9.00"]
    # The second reading's words stand where their pieces are on the page.
    assert out[1].words[0].x0 > 300


def test_a_second_reading_no_surer_than_the_first_is_dropped() -> None:
    image, lines = _two_column_page()
    unsure = [Line(words=[_word("x", 1, 1, 5, 5, 0.1)])]
    out, bands = reread_columns(lines, image, lambda piece: unsure, SETTINGS)
    assert bands == 0
    assert out is lines


def test_switched_off_nothing_is_read_again() -> None:
    image, lines = _two_column_page()

    def read(piece: Image.Image) -> list[Line]:
        raise AssertionError("read again although switched off")

    assert reread_columns(lines, image, read, dataclasses.replace(SETTINGS, enabled=False)) == (lines, 0)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def test_tesseract_reads_both_columns_of_a_scanned_sender_block_whole() -> None:
    """Small print of a sender's address beside larger dates, scanned askew (a page of the
    sandbox's foreign corpus, drawn again): read as one block, tesseract cut the rows and lost
    words of both columns."""
    image = Image.new("L", (1700, 700), 255)
    draw = ImageDraw.Draw(image)
    sender = ["Quinix Nettoyage SA", "rue Royale 100a", "4000 Liege", "Vat in: BE0583184685"]
    for i, text in enumerate(sender):
        draw.text((175, 240 + i * 25), text, fill=0, font=_font(15))
    draw.text((500, 265), "+46 454 2650441", fill=0, font=_font(15))
    draw.text((500, 290), "office@quinix.example", fill=0, font=_font(15))
    dates = ["Date of issue: Nov 8, 2025", "Due date: Dec 8, 2025", "Delivery date: Nov 8, 2025"]
    dates.append("Paytype: Bank transfer")
    for i, text in enumerate(dates):
        draw.text((876, 212 + i * 40), text, fill=0, font=_font(28))
    scan = degrade(image, random.Random(2), angle=1.2)

    page = ocr_image(scan, TextLayerConfig(), dpi=200)

    assert "read again column by column" in page.choice
    words = {w.text for line in page.lines for w in line.words}
    expected = f"{' '.join(sender)} Due date: Dec 8, 2025"
    assert set(expected.split()) <= words
