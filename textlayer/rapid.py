"""OCR one page image with RapidOCR (PP-OCR detection and recognition on onnxruntime).

The models ship inside the ``rapidocr`` wheel (PP-OCRv6 small det/rec and the mobile angle
classifier), so nothing is fetched at run time. An engine is built per process on first use
and kept, one for pages and one for photos (their detection sizes differ): a text-layer worker
pays each model load once. PP-OCR finds text *regions* (a label, an amount) rather than
page-wide lines, so regions sharing a row are joined into one ``Line`` the way tesseract's
``--psm 6`` keeps a table row whole.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from textlayer.config import OCREngineSettings
from textlayer.errors import OCRFailed
from textlayer.model import BBox, Line, Word

_engines: dict[tuple[str, int, int, str, int, int, int], Any] = {}
_lock = threading.Lock()


# The wheel's PP-OCR models, named for RapidOCR whatever runtime runs them (RapidOCR would
# otherwise look for OpenVINO's models on its download site).
_DET_MODEL = "PP-OCRv6_det_small.onnx"
_REC_MODEL = "PP-OCRv6_rec_small.onnx"


def runtime(settings: OCREngineSettings) -> str:
    """The runtime that runs the models: the one the settings name, where it is installed."""
    if settings.rapidocr_runtime == "openvino":
        try:
            metadata.version("openvino")
        except metadata.PackageNotFoundError:
            return "onnxruntime"
    return settings.rapidocr_runtime


@cache
def _runtime_label(name: str) -> str:
    """The runtime's name and version; OpenVINO's with the precision it computes in on this CPU
    (bfloat16 where the CPU has it, which changes a reading a little)."""
    label = f"{name} {metadata.version(name)}"
    if name == "openvino":
        import openvino

        label += f" {openvino.Core().get_property('CPU', 'INFERENCE_PRECISION_HINT').get_type_name()}"
    return label


def rapidocr_version(settings: OCREngineSettings | None = None) -> str:
    """The engine's name, version and runtime as a page's lineage records it."""
    try:
        version = f"rapidocr {metadata.version('rapidocr')}"
    except metadata.PackageNotFoundError:
        return "rapidocr (not installed)"
    try:
        return f"{version} ({_runtime_label(runtime(settings or OCREngineSettings()))})"
    except metadata.PackageNotFoundError:
        return version


def _bound_openvino_cache(capacity: int) -> None:
    """Cap the compiled kernels OpenVINO's CPU plugin keeps per input shape.

    RapidOCR hands the plugin only the properties it knows, and every photo and text region
    brings a new input shape: with the plugin's own capacity a worker's resident memory grew
    from 0.55 to 0.96 GB over 30 receipts and its address space past the worker's limit. Its
    sessions read their CPU properties through ``CPUConfig``, so a subclass adds the capacity.
    """
    from rapidocr.inference_engine.openvino import main as openvino_session
    from rapidocr.inference_engine.openvino.device_config import CPUConfig

    class BoundedCPUConfig(CPUConfig):  # type: ignore[misc]
        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "CPU_RUNTIME_CACHE_CAPACITY": str(capacity)}

    openvino_session.CPUConfig = BoundedCPUConfig  # type: ignore[misc]


def _engine(settings: OCREngineSettings, photo: bool) -> Any:
    """The process's engine for pages (detection at full size or larger) or for photos."""
    if photo:
        limit, limit_type = settings.rapidocr_photo_max_side, "max"
    else:
        limit, limit_type = settings.rapidocr_min_side, "min"
    name = runtime(settings)
    key = (
        name,
        settings.rapidocr_threads,
        limit,
        limit_type,
        settings.rapidocr_rec_width,
        settings.rapidocr_rec_batch,
        settings.rapidocr_openvino_cache,
    )
    with _lock:
        if key not in _engines:
            try:
                import rapidocr
                from rapidocr import EngineType, RapidOCR
            except ImportError as error:
                raise OCRFailed("rapidocr is not installed") from error
            models = Path(rapidocr.__file__).parent / "models"
            if name == "openvino":
                _bound_openvino_cache(settings.rapidocr_openvino_cache)
            _engines[key] = RapidOCR(
                params={
                    "Det.engine_type": EngineType(name),
                    "Rec.engine_type": EngineType(name),
                    "Det.model_path": str(models / _DET_MODEL),
                    "Rec.model_path": str(models / _REC_MODEL),
                    "Global.log_level": "error",
                    "Global.return_word_box": True,
                    # Pages reach RapidOCR upright already (EXIF orientation, deskew, and OSD
                    # where tesseract read the page first): the 0/180 degree line classifier
                    # would only cost time.
                    "Global.use_cls": False,
                    "Det.limit_side_len": limit,
                    "Det.limit_type": limit_type,
                    "Rec.rec_img_shape": [3, 48, settings.rapidocr_rec_width],
                    "Rec.rec_batch_num": settings.rapidocr_rec_batch,
                    # Two worker processes share the cores: each session gets one thread.
                    "EngineConfig.onnxruntime.intra_op_num_threads": settings.rapidocr_threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    "EngineConfig.openvino.inference_num_threads": settings.rapidocr_threads,
                    # onnxruntime keeps the buffers of one run for the next instead of asking
                    # the system for each (RapidOCR turns this off): 5-8% less CPU on the
                    # development receipts for the same words; it keeps the largest run's buffers.
                    "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
                }
            )
        return _engines[key]


def _box(points: Any) -> BBox:
    quad = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (
        round(float(quad[:, 0].min()), 2),
        round(float(quad[:, 1].min()), 2),
        round(float(quad[:, 0].max()), 2),
        round(float(quad[:, 1].max()), 2),
    )


def _split_region(text: str, score: float, bbox: BBox) -> list[Word]:
    """Words of a region without word boxes: its width shared out by character count."""
    parts = text.split()
    total = sum(len(p) for p in parts) + max(0, len(parts) - 1)
    x0, top, x1, bottom = bbox
    per_char = (x1 - x0) / max(1, total)
    words, at = [], 0
    for part in parts:
        left = x0 + at * per_char
        right = left + len(part) * per_char
        words.append(Word(text=part, bbox=(round(left, 2), top, round(right, 2), bottom), confidence=score))
        at += len(part) + 1
    return words


def _region_words(output: Any) -> list[list[Word]]:
    """One list of words per detected text region, each word with its own box when given."""
    regions: list[list[Word]] = []
    word_results = output.word_results if len(output.word_results) == len(output.txts) else None
    for index, (text, score, points) in enumerate(zip(output.txts, output.scores, output.boxes, strict=True)):
        words: list[Word] = []
        if word_results is not None:
            for item in word_results[index]:
                token, token_score, token_points = item
                token = str(token).strip()
                if token and token_points is not None:
                    words.append(
                        Word(text=token, bbox=_box(token_points), confidence=round(float(token_score), 4))
                    )
        # Word boxes must account for the whole region's text; otherwise share the region out.
        if " ".join(w.text for w in words).split() != str(text).split():
            words = _split_region(str(text), round(float(score), 4), _box(points))
        for word in words:
            word.size = round(word.height, 2)
        if words:
            regions.append(sorted(words, key=lambda w: w.x0))
    return regions


def join_rows(regions: list[list[Word]]) -> list[Line]:
    """Regions whose vertical extents overlap by half the smaller height form one line.

    Regions are taken top to bottom; a region joins the row whose vertical span it shares most,
    so "TOTAL" and its amount far to the right are one line, as a born-digital row would be.
    """
    rows: list[tuple[float, float, list[Word]]] = []
    for words in sorted(regions, key=lambda ws: (min(w.top for w in ws), min(w.x0 for w in ws))):
        top = min(w.top for w in words)
        bottom = max(w.bottom for w in words)
        best, best_overlap = -1, 0.0
        for i, (row_top, row_bottom, _) in enumerate(rows):
            overlap = min(bottom, row_bottom) - max(top, row_top)
            smaller = min(bottom - top, row_bottom - row_top)
            if smaller > 0 and overlap >= 0.5 * smaller and overlap > best_overlap:
                best, best_overlap = i, overlap
        if best < 0:
            rows.append((top, bottom, list(words)))
        else:
            row_top, row_bottom, row_words = rows[best]
            rows[best] = (min(row_top, top), max(row_bottom, bottom), row_words + words)
    rows.sort(key=lambda row: row[0])
    return [Line(words=sorted(row_words, key=lambda w: w.x0)) for _, _, row_words in rows]


def rapidocr_words(gray: Image.Image, settings: OCREngineSettings, photo: bool = False) -> list[Line]:
    """Run RapidOCR once on an upright page image; lines top to bottom, boxes in its pixels."""
    engine = _engine(settings, photo)
    pixels = np.asarray(gray.convert("L"), dtype=np.uint8)
    try:
        output = engine(pixels)
    except Exception as error:  # the engine raises its own error types from onnxruntime and cv2
        raise OCRFailed(f"rapidocr failed: {type(error).__name__}: {str(error)[:200]}") from error
    if output is None or not getattr(output, "txts", None):
        return []
    return join_rows(_region_words(output))
