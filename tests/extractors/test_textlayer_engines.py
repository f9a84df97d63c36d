"""Two OCR engines behind one text model: which page goes where, and RapidOCR's tree and boxes.

The pages are made here: a clean receipt rendered at 300 dpi, and the same kind of receipt as a
phone would photograph it (low resolution, faded print on grey paper, light falling off across
the page, sensor noise, blur, heavy JPEG compression).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter
from textlayer_docs import PAGE_H, Placed, image_bytes, pdf_bytes, render

from textlayer import Document, OCREngineSettings, TextLayerReader, rapid
from textlayer.model import Line, Word
from textlayer.ocr import choose_engine, mend_amounts
from textlayer.rapid import join_rows

RECEIPT_W, RECEIPT_TOP = 220.0, 600.0  # points: a narrow till roll, the top 600 pt of the page
PHOTO_DPI = 110


def receipt_items() -> list[Placed]:
    items = [
        Placed("CORNER MART", 20, 800, "Courier-Bold", 14),
        Placed("12 Harbour Road", 20, 782, "Courier", 10),
    ]
    y = 750.0
    for name, amount in [
        ("Bread loaf", "2.40"),
        ("Milk 1L", "1.15"),
        ("Apples 1kg", "3.20"),
        ("Coffee beans", "8.90"),
        ("Eggs x12", "2.75"),
    ]:
        items += [Placed(name, 20, y, "Courier", 10), Placed(amount, 160, y, "Courier", 10)]
        y -= 16
    items += [
        Placed("TOTAL", 20, y - 10, "Courier-Bold", 11),
        Placed("18.40", 160, y - 10, "Courier-Bold", 11),
        Placed("Date 23/04/2025 14:22", 20, y - 40, "Courier", 9),
    ]
    return items


def receipt_image(items: list[Placed], dpi: int) -> Image.Image:
    page = render(pdf_bytes([items]), dpi=dpi)
    return page.crop((0, 0, round(RECEIPT_W * dpi / 72), round(RECEIPT_TOP * dpi / 72)))


def photographed(items: list[Placed], seed: int = 0, fmt: str = "JPEG") -> bytes:
    pixels = np.asarray(receipt_image(items, PHOTO_DPI), dtype=np.float32)
    height, width = pixels.shape
    rng = np.random.default_rng(seed)
    pixels = 255 - (255 - pixels) * 0.55  # faded thermal print
    ys, xs = np.mgrid[0:height, 0:width]
    pixels = pixels * (0.65 + 0.35 * (xs / width) * (1 - 0.5 * ys / height))  # light falls off
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.9))
    if fmt == "JPEG":
        return image_bytes(image, "JPEG", quality=35)
    return image_bytes(image, fmt)


def _to_px(x_pt: float, baseline_pt: float, dpi: int) -> tuple[float, float]:
    """A placed string's left edge and baseline in the receipt image's pixels (top-left origin)."""
    return x_pt * dpi / 72, (PAGE_H - baseline_pt) * dpi / 72


@pytest.fixture(scope="module")
def pages(textlayer_reader: TextLayerReader) -> dict[str, Document]:
    items = receipt_items()
    files = [
        ("clean.png", image_bytes(receipt_image(items, 300))),
        ("photo.jpg", photographed(items)),
        # The same photo kept as a PNG is taken for a scan: tesseract reads it first.
        ("photo.png", photographed(items, fmt="PNG")),
    ]
    out: dict[str, Document] = {}
    for (name, _), result in zip(files, textlayer_reader.read_many(files), strict=True):
        assert isinstance(result, Document), result
        out[name] = result
    return out


@pytest.mark.slow
def test_a_clean_page_stays_with_tesseract(pages: dict[str, Document]) -> None:
    [page] = pages["clean.png"].pages
    assert page.ocr_engine.startswith("tesseract ")
    assert "tesseract mean confidence" in page.ocr_choice
    assert {"CORNER", "MART", "TOTAL", "18.40"} <= {w.text for w in page.words}


@pytest.mark.slow
def test_a_poorly_read_scan_goes_to_rapidocr(pages: dict[str, Document]) -> None:
    [page] = pages["photo.png"].pages
    assert page.ocr_engine.startswith("rapidocr ")
    assert "tesseract mean confidence" in page.ocr_choice
    assert "below" in page.ocr_choice or "above" in page.ocr_choice
    assert {"TOTAL", "18.40"} <= {w.text for w in page.words}


@pytest.mark.slow
def test_a_photographed_page_goes_to_rapidocr(pages: dict[str, Document]) -> None:
    [page] = pages["photo.jpg"].pages
    assert page.ocr_engine.startswith("rapidocr ")
    # Told a photo by its file, before any OCR: tesseract never read it.
    assert page.ocr_choice.startswith("a photo")
    assert "tesseract" not in page.ocr_choice
    texts = [w.text for w in page.words]
    assert {"TOTAL", "18.40", "Harbour", "Road"} <= set(texts)
    # The same Document -> Page -> Line -> Word tree: a row is one line, left to right.
    total_line = next(line for line in page.lines if "TOTAL" in line.text)
    assert [w.text for w in total_line.words] == ["TOTAL", "18.40"]
    assert all(0.0 <= w.confidence <= 1.0 for w in page.words)


@pytest.mark.slow
def test_a_page_names_the_runtime_that_read_it(pages: dict[str, Document]) -> None:
    [page] = pages["photo.jpg"].pages
    expected = rapid.runtime(OCREngineSettings())
    assert f"({expected} " in page.ocr_engine
    if expected == "openvino":  # its precision on this CPU, which changes a reading a little
        assert page.ocr_engine.split("(")[1].rstrip(")").split()[-1] in ("f32", "bf16", "f16")


@pytest.mark.slow
def test_both_runtimes_read_the_photo_alike() -> None:
    gray = Image.open(io.BytesIO(photographed(receipt_items()))).convert("L")
    readings = {
        name: {
            w.text
            for line in rapid.rapidocr_words(gray, OCREngineSettings(rapidocr_runtime=name), True)
            for w in line.words
        }
        for name in ("onnxruntime", "openvino")
    }
    assert {"TOTAL", "18.40", "Harbour"} <= readings["onnxruntime"]
    assert {"TOTAL", "18.40", "Harbour"} <= readings["openvino"]
    shared = readings["onnxruntime"] & readings["openvino"]
    assert len(shared) >= 0.8 * len(readings["onnxruntime"] | readings["openvino"])


@pytest.mark.slow
def test_openvino_keeps_few_compiled_shapes() -> None:
    """Every photo brings new input shapes: the kernels kept for them are capped, or a worker's
    memory grows with every page it reads."""
    pytest.importorskip("openvino")
    from rapidocr.inference_engine.openvino import main as openvino_session

    settings = OCREngineSettings(rapidocr_runtime="openvino", rapidocr_openvino_cache=7)
    rapid.rapidocr_words(Image.new("L", (200, 80), 255), settings, True)
    config = openvino_session.CPUConfig({}).get_config()
    assert config["CPU_RUNTIME_CACHE_CAPACITY"] == "7"


@pytest.mark.slow
def test_rapidocr_boxes_are_in_page_pixels(pages: dict[str, Document]) -> None:
    [page] = pages["photo.jpg"].pages
    assert page.unit == "px" and page.source == "ocr"
    assert (page.width, page.height) == (
        round(RECEIPT_W * PHOTO_DPI / 72),
        round(RECEIPT_TOP * PHOTO_DPI / 72),
    )
    items = {item.text: item for item in receipt_items()}
    words = {w.text: w for w in page.words}
    for text in ("TOTAL", "18.40", "Harbour"):
        placed = next(item for key, item in items.items() if text in key.split())
        x, baseline = _to_px(placed.x, placed.baseline, PHOTO_DPI)
        if text == "Harbour":
            x += len("12 ") * 0.6 * placed.size * PHOTO_DPI / 72  # Courier: 0.6 em per letter
        word = words[text]
        assert abs(word.x0 - x) < 8, (text, word.bbox, x)
        assert word.top < baseline < word.bottom + 4, (text, word.bbox, baseline)
        width = len(text) * 0.6 * placed.size * PHOTO_DPI / 72
        assert abs((word.x1 - word.x0) - width) < 0.35 * width, (text, word.bbox, width)


def _line(*confidences: float) -> list[Line]:
    return [Line(words=[Word(f"w{i}", (0, 0, 1, 1), c) for i, c in enumerate(confidences)])]


def test_engine_choice_follows_tesseract_confidence() -> None:
    rule = OCREngineSettings()
    sure = _line(*([0.95] * 20))
    assert choose_engine(sure, rule).engine == "tesseract"
    weak_mean = _line(*([rule.min_mean_confidence - 0.05] * 20))
    assert choose_engine(weak_mean, rule).engine == "rapidocr"
    # A high mean can hide many doubtful words.
    few = int(rule.max_doubtful_share * 40) + 1  # just over the share, of 40 words
    many = _line(*([1.0] * (40 - few) + [rule.doubtful_confidence - 0.01] * few))
    assert sum(w.confidence for w in many[0].words) / 40 >= rule.min_mean_confidence
    assert choose_engine(many, rule).engine == "rapidocr"
    assert choose_engine([], rule).engine == "rapidocr"
    assert choose_engine(weak_mean, OCREngineSettings(engine="tesseract")).engine == "tesseract"
    assert choose_engine(sure, OCREngineSettings(engine="rapidocr")).engine == "rapidocr"


def test_regions_on_one_row_join_into_one_line() -> None:
    label = [Word("TOTAL", (10, 100, 60, 120), 0.9)]
    amount = [Word("18.40", (300, 102, 350, 121), 0.9)]
    above = [Word("Eggs", (10, 70, 50, 88), 0.9), Word("x12", (55, 70, 80, 88), 0.9)]
    below = [Word("Thank", (10, 140, 60, 158), 0.9)]
    lines = join_rows([amount, below, label, above])
    assert [line.text for line in lines] == ["Eggs x12", "TOTAL 18.40", "Thank"]


def test_an_amount_cut_at_its_decimal_separator_is_one_word() -> None:
    cut = Line(
        words=[
            Word("TOTAL", (10, 100, 60, 128), 0.99),
            Word("18.", (70, 100, 126, 128), 1.0, size=28),
            Word("40", (136, 100, 164, 128), 0.97, size=28),
        ]
    )
    (line,) = mend_amounts([cut])
    assert [w.text for w in line.words] == ["TOTAL", "18.40"]
    assert line.words[1].bbox == (70, 100, 164, 128)
    assert line.words[1].confidence == 0.97
    # Two digits far to the right are a column of their own; a date's "12. 05." stays apart,
    # and so do digits after a word that does not end in a separator.
    apart = Line(words=[Word("18.", (70, 100, 126, 128)), Word("40", (300, 100, 328, 128))])
    dated = Line(words=[Word("12.", (10, 100, 40, 128)), Word("05.", (50, 100, 80, 128))])
    plain = Line(words=[Word("Qty", (10, 100, 40, 128)), Word("12", (50, 100, 75, 128))])
    assert [[w.text for w in line.words] for line in mend_amounts([apart, dated, plain])] == [
        ["18.", "40"],
        ["12.", "05."],
        ["Qty", "12"],
    ]


def test_round_letters_in_an_amounts_cents_are_zeros() -> None:
    read = Line(
        words=[
            Word(t, (10 * i, 0, 10 * i + 8, 10))
            for i, t in enumerate(["Bread", "2.4c", "$1.0O", "2pc", "v1.0c"])
        ]
    )
    (line,) = mend_amounts([read])
    # Only the places after a decimal separator that follows digits are digits by necessity.
    assert [w.text for w in line.words] == ["Bread", "2.40", "$1.00", "2pc", "v1.0c"]


def test_a_failed_second_reading_keeps_tesseracts_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from textlayer import TextLayerConfig, rapid
    from textlayer.errors import OCRFailed
    from textlayer.ocr import ocr_image

    def broken(*_: object) -> list[Line]:
        raise OCRFailed("rapidocr failed: no model")

    monkeypatch.setattr(rapid, "rapidocr_words", broken)
    # Every page counts as poorly read, so the second engine is asked and fails.
    config = TextLayerConfig(engines=OCREngineSettings(min_mean_confidence=1.01))
    page = ocr_image(receipt_image(receipt_items()[:4], 200), config)
    assert page.engine.startswith("tesseract ")
    assert page.choice.endswith("kept tesseract: rapidocr failed: no model")
    assert "CORNER" in [w.text for line in page.lines for w in line.words]


def test_photos_are_told_from_scans_by_their_file() -> None:
    from textlayer.ocr import image_kind

    page = receipt_image(receipt_items()[:4], 100)

    def opened(data: bytes) -> Image.Image:
        return Image.open(io.BytesIO(data))

    assert image_kind(opened(image_bytes(page, "JPEG"))) == "photo"
    assert image_kind(opened(image_bytes(page, "JPEG", dpi=(72, 72)))) == "photo"
    assert image_kind(opened(image_bytes(page, "JPEG", dpi=(300, 300)))) == "scan"
    assert image_kind(opened(image_bytes(page, "PNG"))) == "scan"
    assert image_kind(opened(image_bytes(page, "TIFF"))) == "scan"
    assert image_kind(page) == "scan"  # made in memory: no file format at all


def test_a_photo_rapidocr_cannot_read_is_read_by_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    from textlayer import TextLayerConfig, rapid
    from textlayer.ocr import ocr_image

    calls: list[bool] = []

    def reads_nothing(_gray: Image.Image, _settings: OCREngineSettings, photo: bool = False) -> list[Line]:
        calls.append(photo)
        return []

    monkeypatch.setattr(rapid, "rapidocr_words", reads_nothing)
    page = ocr_image(receipt_image(receipt_items()[:4], 200), TextLayerConfig(), kind="photo")
    assert calls == [True]  # asked once, as a photo, and not again after tesseract
    assert page.engine.startswith("tesseract ")
    assert "tesseract mean confidence" in page.choice
    assert "CORNER" in [w.text for line in page.lines for w in line.words]
