"""Document readers a worker can be configured with: the extraction pipeline, or corpus truth.

``LEDGERBOT_READER`` names a ``module:callable`` that returns a ``DocumentReader``. The default
adapts the extraction pipeline. ``truth_reader`` is a stand-in for load and fault tests: it
answers with the sample corpus's ground truth for a file, so a test of workers, kills and
exactly-once effects runs in CI time without paying for OCR and models on every document.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ledgerbot.core.domain import DocType, ErrorEntry, ExtractionResult
from ledgerbot.core.errors import ConfigError
from ledgerbot.processing import DocumentReader
from ledgerbot.worker.config import WorkerSettings, get_worker_settings, load_object

TRUTH_VERSION = "1"


def pipeline_reader() -> DocumentReader:
    """The production reader: the extraction pipeline behind processing's reader protocol."""
    from ledgerbot.processing import PipelineReader

    return PipelineReader()


class TruthReader:
    """Answers with the ground truth stored beside each corpus file (``<stem>.json``).

    A test double of the extraction stage, documented as such wherever it is used: confidence
    is 1.0, the lineage says ``truth``, and ``delay`` seconds of sleep per document can stand in
    for extraction time in a benchmark. A file with no truth gets a coded error, as the real
    pipeline gives an unreadable file.
    """

    def __init__(self, corpus_dir: Path, delay: float = 0.0) -> None:
        if not corpus_dir.is_dir():
            raise ConfigError(f"truth corpus {corpus_dir} is not a folder", code="E802")
        self.corpus_dir = corpus_dir
        self.delay = delay

    def extract(self, data: bytes, *, filename: str, source: str) -> ExtractionResult:
        if self.delay:
            time.sleep(self.delay)
        truth_path = self.corpus_dir / f"{Path(filename).stem}.json"
        lineage = {"text": f"truth@{TRUTH_VERSION}", "classifier": f"truth@{TRUTH_VERSION}"}
        if not truth_path.is_file():
            error = ErrorEntry(code="E803", message=f"no truth file for {filename}")
            return ExtractionResult(source=source, errors=[error], lineage=lineage)
        truth: dict[str, Any] = json.loads(truth_path.read_text())
        doc_type = DocType(truth["doc_type"])
        fields = truth.get("fields") or {}
        return ExtractionResult.model_validate(
            {
                "source": source,
                "doc_type": doc_type,
                "doc_type_confidence": 1.0,
                "method": "truth" if doc_type.is_payable else None,
                "fields": fields,
                "field_confidence": {name: 1.0 for name, value in fields.items() if value is not None},
                "lines": truth.get("lines") or [],
                "lineage": {**lineage, "extractor": f"truth@{TRUTH_VERSION}"},
            }
        )

    def extract_many(self, requests: Iterable[Any]) -> Iterator[ExtractionResult]:
        """The batch form of the reader protocol (requests carry data, filename, source)."""
        for request in requests:
            yield self.extract(request.data, filename=request.filename, source=request.source)


def truth_reader() -> DocumentReader:
    """The truth reader for ``LEDGERBOT_TRUTH_DIR`` (and ``LEDGERBOT_TRUTH_DELAY`` seconds)."""
    folder = os.environ.get("LEDGERBOT_TRUTH_DIR")
    if not folder:
        raise ConfigError("LEDGERBOT_TRUTH_DIR must name the corpus folder for the truth reader", code="E802")
    return TruthReader(Path(folder), float(os.environ.get("LEDGERBOT_TRUTH_DELAY", "0") or 0))


def configured_reader(settings: WorkerSettings | None = None) -> DocumentReader:
    """The reader ``settings.reader`` (else ``LEDGERBOT_READER``) names, built afresh: a worker's
    runtime keeps the one it built, so models load once per process."""
    factory = load_object((settings or get_worker_settings()).reader)
    reader: DocumentReader = factory()
    return reader
