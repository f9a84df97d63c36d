"""The pipeline behind ``ledgerbot extract``: e-invoice, text layer, classifier, template, generic.

Stages are small protocols kept in a registry (``STAGES``); ``Extractor`` assembles the named
stages once (models and templates load once per batch, with the first file read from its pages)
and turns any number of files into one ``ExtractionResult`` each, in input order. A file that
cannot be read still gets its result, with ``doc_type`` null and an ``errors`` entry, and the
batch goes on.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ledgerbot.core.domain import DocType, ErrorEntry, ExtractionResult
from ledgerbot.core.errors import BusinessError, LedgerbotError, SplitUncertain, UnreadableFile
from ledgerbot.cost import CpuMeter, add, share
from ledgerbot.parallel import available_cores, fork_map
from textlayer.model import Document

if TYPE_CHECKING:
    from ledgerbot.parallel import ForkedCall, ForkedTask
    from textlayer import TextLayerReader
    from textlayer.cache import DocumentCache

PIPELINE_VERSION = "1.0"
_frozen = False  # whether a load froze the loaded objects out of garbage collection (``_load``)
CHUNK = 16  # files handed to the text layer and the classifier at a time


class NoClassifier(BusinessError):
    code = "E501"


class DocumentExtractor(Protocol):
    """A stage that reads fields and lines from a text-layer document.

    ``extract`` returns ``None`` when the stage does not apply (no template matches).
    """

    name: str

    def is_available(self) -> bool: ...

    def prepare(self) -> None:
        """Build now what extraction would build on first use (before the process forks)."""
        ...

    def extract(self, document: Document, doc_type: DocType | None) -> ExtractionResult | None: ...


def _template_stage(
    models_dir: Path | None, templates_dir: Path | None, extra: Sequence[Path] = ()
) -> DocumentExtractor:
    from extractors.templates.engine import TemplateExtractor, default_templates_dir
    from ledgerbot.core.settings import learned_templates_dir

    # Templates learned from clerks' corrections (home/templates) are read besides the shipped ones.
    learned = learned_templates_dir()
    folder = templates_dir or default_templates_dir()
    if learned.is_dir() and learned.resolve() != folder.resolve() and learned not in extra:
        extra = (*extra, learned)
    return TemplateExtractor.load(templates_dir, extra, models_dir)


def _generic_stage(
    models_dir: Path | None, templates_dir: Path | None, extra: Sequence[Path] = ()
) -> DocumentExtractor:
    from extractors.generic import GenericExtractor

    return GenericExtractor.load(models_dir)


# name -> factory(models_dir, templates_dir, extra template folders); the order of a pipeline is
# the order it is given.
STAGES: dict[str, Callable[[Path | None, Path | None, Sequence[Path]], DocumentExtractor]] = {
    "template": _template_stage,
    "generic": _generic_stage,
}
DEFAULT_STAGES = ("template", "generic")


@dataclass
class Source:
    """One input: a display name and, once read, its bytes (or why it could not be read)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    error: LedgerbotError | None = None
    # Only these pages of the file (1-based, inclusive): one document of a file that held several.
    pages: tuple[int, int] | None = None


@dataclass
class _Work:
    source: Source
    result: ExtractionResult | None = None
    document: Document | None = None
    notes: list[ErrorEntry] = field(default_factory=list)
    # Under ``split``: this document's pages in the file, its place among the file's documents,
    # and the plan that cut it out (its lineage and confidence go on the line).
    pages: tuple[int, int] | None = None
    part: tuple[int, int] = (1, 1)
    plan: Any = None
    # CPU seconds spent on this unit per stage (``ledgerbot.cost``).
    cpu: dict[str, float] = field(default_factory=dict)


class _Reading:
    """One batch of files being read by the text layer: in a thread of this process, which
    waits on the workers' pipes (not holding the interpreter) nearly all the time, so the files
    are read while the caller's thread parses e-invoices and loads models; or (``background``
    false: everything in this process) right away."""

    def __init__(
        self,
        reader: TextLayerReader,
        sources: list[tuple[str, bytes]],
        *,
        background: bool,
        then: Callable[[list[Document]], Any] | None = None,
    ) -> None:
        self._then = then  # given the documents read, in order, as soon as the last one is
        self._outcomes: list[Document | LedgerbotError] = []
        self._error: BaseException | None = None
        self._cpu = 0.0
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._run, args=(reader, sources), name="ledgerbot-text-layer", daemon=True
            )
            self._thread.start()
        else:
            self._run(reader, sources)

    def _run(self, reader: TextLayerReader, sources: list[tuple[str, bytes]]) -> None:
        meter = CpuMeter(thread=True)
        try:
            self._outcomes = list(reader.read_many(sources))
            if self._then is not None:
                self._then([o for o in self._outcomes if isinstance(o, Document)])
        except BaseException as error:  # handed to the caller's thread by ``wait``
            self._error = error
        finally:
            self._cpu = meter.lap()

    def wait(self) -> tuple[list[Document | LedgerbotError], float]:
        """The outcomes in input order and the CPU seconds this process spent reading them."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._outcomes, self._cpu

    def abandon(self) -> None:
        """Let the thread end (its reader was closed) without waiting long or raising its error."""
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def _parse_einvoice(job: tuple[bytes | None, str, str]) -> tuple[ExtractionResult | None, ErrorEntry | None]:
    """An e-invoice's result, or the error that kept it from one: ``job`` is the file's bytes,
    its kind (``Extractor._einvoice_kind``) and its name. Only plain data in and out, so that a
    forked child can parse it (``ForkedCall``)."""
    from extractors.einvoice import EInvoiceError, read_einvoice, read_einvoice_pdf

    data, kind, name = job
    assert data is not None
    try:
        if kind == "pdf_embedded":
            return read_einvoice_pdf(data, source=name), None
        return read_einvoice(data, source=name), None  # "xml": a clear E30x
    except EInvoiceError as error:
        if kind == "pdf_embedded":
            # A broken attachment: the visible page is read instead, and a note says why.
            return None, _entry(error)
        return ExtractionResult(source=name, doc_type=None, errors=[_entry(error)]), None


def _import_numpy_first() -> None:
    """numpy, before the forks: the extraction stages need it here and the cascade in its child,
    so it is imported once, not in both. Its BLAS runs on one thread: the pipeline spreads a
    batch over processes, whose cores a BLAS pool would only compete for, and a process with a
    second thread does not fork its text-layer workers (``textlayer.reader``). A count the user
    set is kept."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy  # noqa: F401


def _open_cascade(models_dir: Path) -> tuple[Any, tuple[str, str] | None]:
    """The active document-type cascade, or none and the warning (code, message) that says why."""
    try:
        from classifiers.cascade import Cascade

        return Cascade.load(models_dir), None
    except LedgerbotError as error:
        return None, (
            NoClassifier.code,
            f"no document-type classifier available ({error.message}); doc_type is left null — "
            "train one with `ledgerbot train classifier CORPUS_DIR`",
        )
    except ImportError as error:  # the classifier package is not installed in this build
        return None, ("E501", f"classifier unavailable: {error}")


def _type_documents(opened: tuple[Any, tuple[str, str] | None], documents: list[Document]) -> tuple[Any, ...]:
    """What ``Extractor`` learns from typing ``documents`` with an opened cascade (``_open_cascade``),
    as plain data, so that a forked child can answer it (``ForkedTask``): ``("typed",
    classifications)``, ``("unavailable", code, message)`` or ``("failed", code, message)``."""
    cascade, missing = opened
    if cascade is None:
        assert missing is not None
        return ("unavailable", *missing)
    try:
        return ("typed", list(cascade.classify(documents)))
    except Exception as error:  # a broken model must cost the doc type, never the batch
        code = error.code if isinstance(error, LedgerbotError) else "E505"
        message = error.message if isinstance(error, LedgerbotError) else repr(error)
        return ("failed", code, message)


def _entry(error: LedgerbotError) -> ErrorEntry:
    evidence = {k: str(v) for k, v in error.evidence.items()} if error.evidence else None
    return ErrorEntry(code=error.code, message=error.message, evidence=evidence)


def text_backend(document: Document) -> str:
    """What read the text: the backend of born-digital pages, the OCR engine of each OCR page."""
    names = {
        page.backend or "pdfplumber"
        if page.source == "digital"
        else page.ocr_engine.split(" ")[0] or "tesseract"
        for page in document.pages
    }
    return "+".join(sorted(names)) or "none"


def _text_reader(in_process: bool, cache: DocumentCache | None = None) -> TextLayerReader:
    """A text-layer reader with the per-document time budget of the settings; with ``cache``, a
    file read before under the same settings is not read again."""
    from ledgerbot.core.settings import get_settings
    from textlayer import TextLayerReader
    from textlayer.config import TextLayerConfig

    processing = get_settings().processing
    config = TextLayerConfig(
        document_timeout=processing.document_seconds, digital_backend=processing.text_backend
    )
    return TextLayerReader(config, in_process=in_process, cache=cache)


class Extractor:
    """Assembles the stages once and extracts many files with them."""

    def __init__(
        self,
        *,
        embedded: bool = True,
        stages: Sequence[str] = DEFAULT_STAGES,
        models_dir: Path | None = None,
        templates_dir: Path | None = None,
        extra_templates: Sequence[Path] = (),
        classify: bool = True,
        in_process: bool = False,
        split: bool = False,
        warn: Callable[[str], None] | None = None,
        text_cache: DocumentCache | None = None,
    ) -> None:
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise LedgerbotError(
                f"unknown extraction stage(s) {unknown}; known: {sorted(STAGES)}", code="E402"
            )
        if "generic" in stages and list(stages)[-1] != "generic":
            # The generic stage always answers, so anything after it would never run.
            raise LedgerbotError("the generic stage must be the last one", code="E402")
        if models_dir is None:
            from ledgerbot.core.settings import get_settings

            models_dir = get_settings().models_dir
        self.embedded = embedded
        self.models_dir = models_dir
        self.in_process = in_process
        self.split = split
        self.text_cache = text_cache
        self.warn = warn or (lambda message: print(message, file=sys.stderr))
        self.classifier: Any = None
        self.classifier_error: LedgerbotError | None = None
        self.trial: Any = None  # a candidate classifier in shadow or canary (``ledgerbot.trials``)
        self.ranker_trial: Any = None
        self.budget: Any = None  # what the trials in shadow may cost (``ledgerbot.trials.ShadowBudget``)
        self.splitter: Any = None
        self._stage_names = tuple(stages)
        self._stage_sources = (templates_dir, tuple(extra_templates))
        self._stages: list[DocumentExtractor] | None = None
        self._classifies = classify
        self._loaded = False
        self._warm_reader: TextLayerReader | None = None
        self._reader: TextLayerReader | None = None
        self._reading: _Reading | None = None
        # The text-layer workers' CPU, read once per batch read (``ledgerbot.cost``); idle between.
        self._worker_meter: CpuMeter | None = None
        # The first batch's documents are typed in a forked child that loads the cascade while
        # this process loads the extraction stages (``_chunk``); later ones here.
        self._typing: ForkedTask | None = None
        self._parsing: ForkedCall | None = None  # the batch's e-invoices, parsed in a forked child
        self._typed_by_child = False  # whether that child opened the active cascade
        self._cascade_missing = False  # whether there is no active cascade to open (warned once)

    def prepare(self) -> Extractor:
        """Load the models and templates and start the text-layer workers now, not on first need
        (so a measurement of the reading alone does not include them)."""
        self._warm_reader = self._warm_reader or _text_reader(self.in_process, self.text_cache).start()
        self._load()
        return self

    @property
    def stages(self) -> list[DocumentExtractor]:
        """The text stages, loaded on first use: a batch of e-invoices never needs them."""
        if self._stages is None:
            templates_dir, extra = self._stage_sources
            stages = [STAGES[name](self.models_dir, templates_dir, extra) for name in self._stage_names]
            self._stages = [s for s in stages if s.is_available()]
        return self._stages

    def _load(self) -> None:
        """Everything a document read from its pages needs: stages, classifier, trials, splitter.

        The garbage collector waits while they load: the imports and models are hundreds of
        thousands of objects that live as long as the process, which each collection on the way
        and after it walked again to find no garbage. The first load in a process freezes them
        instead: collections then walk only what the documents create (the main process's
        collections on the 11-file batch: 32-41 ms of CPU before, 25-33 ms), and forked copies
        (``fork_map``) leave the loaded objects' pages shared. Only the first: freezing again
        would also keep whatever garbage a long-lived process holds then (an earlier
        extractor's) for good."""
        global _frozen
        if self._loaded:
            return
        self._loaded = True
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._load_all()
        finally:
            if not _frozen:
                _frozen = True
                gc.freeze()
            if collecting:
                gc.enable()

    def _load_all(self) -> None:
        self.stages  # noqa: B018  (loads them)
        from ledgerbot.trials import ShadowBudget

        self.budget = ShadowBudget.from_settings()
        if "generic" in self._stage_names:
            from ledgerbot.trials import RankerTrial

            self.ranker_trial = RankerTrial.load(self.models_dir)
        if self._classifies and self._typing is None:
            self._load_classifier()
        elif self._classifies:  # the active cascade loads in a forked child (``_chunk``)
            self._load_trial()
        for loaded in (self.trial, self.ranker_trial):
            if loaded is not None and loaded.trial.state == "shadow":
                from ledgerbot.trials import recorded_costs

                self.budget.seed(loaded.trial, recorded_costs(loaded.trial))
                if getattr(loaded, "probe_seconds", None) is not None:
                    self.budget.probe(loaded.trial, loaded.probe_seconds)
        if self.split:
            from classifiers.splitter import load_splitter

            self.splitter, note = load_splitter(self.models_dir)
            if note:
                self.warn(f"warning: {note}")

    def _load_classifier(self) -> None:
        self.classifier, missing = _open_cascade(self.models_dir)
        if missing is not None:
            self._no_classifier(*missing)
            return
        if self.trial is None:
            self._load_trial()

    def _load_trial(self) -> None:
        """A candidate cascade in shadow or canary, if the registry has one (``ledgerbot.trials``)."""
        try:
            from ledgerbot.trials import ClassifierTrial

            self.trial = ClassifierTrial.load(self.models_dir)
        except LedgerbotError as error:
            self.warn(f"warning [{error.code}] the candidate classifier is not tried: {error.message}")

    def _no_classifier(self, code: str, message: str) -> None:
        self._cascade_missing = True
        self.classifier_error = NoClassifier(message)
        self.warn(f"warning [{code}] {message}")

    # -- public ------------------------------------------------------------------------------

    def extract_paths(self, paths: Iterable[Path]) -> Iterator[ExtractionResult]:
        from ledgerbot.core.safe_files import display_name

        # Names are shown escaped: a U+202E in a file name must not reorder a clerk's screen.
        return self.extract_sources(Source(name=display_name(str(p)), path=p) for p in paths)

    def extract_sources(self, sources: Iterable[Source]) -> Iterator[ExtractionResult]:
        """One result per source, in input order.

        The text-layer workers and the models start with the first file that is read from its
        pages (a batch of e-invoices needs neither); the workers read while the models load. The
        first batch's e-invoices are parsed, and its documents typed, in forked children
        meanwhile (``ledgerbot.parallel``): only the extraction stages load in this process
        before its documents are extracted.
        """
        self._reader, self._warm_reader = self._warm_reader, None
        self._reading = None
        try:
            chunk: list[Source] = []
            for source in sources:
                chunk.append(source)
                if len(chunk) == CHUNK:
                    yield from self._chunk(chunk)
                    chunk = []
            if chunk:
                yield from self._chunk(chunk)
        finally:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            for child in (self._parsing, self._typing):
                if child is not None:  # left mid-batch: no child outlives it
                    child.close()
            self._parsing = self._typing = None
            if self._reading is not None:
                # Left mid-batch: the workers are gone, so the reading thread ends at once.
                self._reading.abandon()
                self._reading = None

    def extract_document(self, document: Document, doc_type: DocType | None = None) -> ExtractionResult:
        """Run the text stages (template, generic) on an already-read document."""
        for stage in self.stages:
            result = stage.extract(document, doc_type)
            if result is not None:
                result.source = document.source
                result.doc_type = doc_type
                result.lineage = {"text_layer": text_backend(document), **result.lineage}
                return result
        return ExtractionResult(source=document.source, doc_type=doc_type)

    # -- internals ---------------------------------------------------------------------------

    def _chunk(self, chunk: list[Source]) -> Iterator[ExtractionResult]:
        work = [_Work(source) for source in chunk]
        kinds: list[str | None] = []
        opened: list[float] = []  # CPU seconds reading each file's bytes and telling its kind
        for item in work:
            meter = CpuMeter(thread=True)
            self._read_bytes(item)
            data = item.source.data
            kinds.append(self._einvoice_kind(data) if item.result is None and data is not None else None)
            opened.append(meter.lap())
        # The files read from their pages go to the text layer's workers first, and are read
        # while this thread loads the models. The e-invoices are parsed meanwhile too: in a
        # forked child when there are models to load here (started before the workers, while
        # this process has one thread), else here.
        early = [w for w, k in zip(work, kinds, strict=True) if k is None and w.result is None]
        einvoices = [k for k, kind in enumerate(kinds) if kind is not None]
        jobs = [(w.source.data, kind, w.source.name) for w, kind in zip(work, kinds, strict=True) if kind]
        parsing = self._parsing = None
        if early and not self.in_process:
            # Forked before the text layer's workers start, while this process has one thread.
            from ledgerbot.parallel import ForkedCall, ForkedTask

            if jobs:
                parsing = self._parsing = ForkedCall(_parse_einvoice, jobs)
            if self._classifies and not self._loaded and not self.split:
                _import_numpy_first()
                typing = ForkedTask(functools.partial(_open_cascade, self.models_dir), _type_documents)
                self._typing = typing if typing.forked else None
        then = self._typing.send if self._typing is not None else None
        reading = self._start_reading(early, then=then)
        if parsing is None or not parsing.forked:
            for k, job in zip(einvoices, jobs, strict=True):
                meter = CpuMeter(thread=True)
                self._set_einvoice(work[k], _parse_einvoice(job))
                opened[k] += meter.lap()
        if early or any(work[k].result is None for k in einvoices):
            self._load()
        if reading is not None:
            self._take_reading(early, reading)
        if parsing is not None and parsing.forked:
            for k, (parsed, seconds) in zip(einvoices, parsing.results(), strict=True):
                self._set_einvoice(work[k], parsed)
                opened[k] += seconds
        self._parsing = None
        typed = self._typed(early)
        if ((parsing is not None and parsing.forked) or typed) and self._worker_meter is not None:
            self._worker_meter.lap()  # the children's CPU is counted where it was spent, not the workers'
        for item, seconds in zip(work, opened, strict=True):
            # An e-invoice is read and its fields taken in one step: extraction's cost.
            self._spend(item, "extract" if item.result is not None else "text_layer", seconds)
        # An e-invoice whose attachment is broken is read from its page after all.
        late = [w for w, k in zip(work, kinds, strict=True) if k is not None and w.result is None]
        if late:
            self._take_reading(late, self._start_reading(late))
        work = [part for item in work for part in self._split(item)]
        documents = [w for w in work if w.document is not None]
        if self.budget is not None:
            self.budget.count(len(documents))
        classifications = self._classify_work(documents, typed)
        notes: list[dict[str, str]] = [{} for _ in documents]
        if self.trial is not None and (self.classifier is not None or self._typed_by_child):
            # a candidate in shadow or canary beside the active cascade
            classifications, notes = self._classifier_trial(documents, classifications)
        extracted = self._extract_all(documents, classifications)
        for item, (result, spent), note in zip(documents, extracted, notes, strict=True):
            item.result = result
            item.result.lineage.update(note)
            self._spend(item, "extract", spent)
            meter = CpuMeter()
            ranker = self.ranker_trial  # a candidate extraction ranker in shadow or canary
            # It reads only what the generic stage read: a template's read costs it nothing.
            # Never measured, it is expected to cost about what the active ranker's read just did.
            if (
                ranker is not None
                and item.result.method == "generic"
                and self.budget.allows(ranker.trial, like=item.cpu.get("extract", 0.0))
            ):
                item.result = ranker.decide(item.source.data, item.document, item.result)
                seconds = meter.lap()
                self._spend(item, "shadow", seconds)
                self.budget.observe(ranker.trial, seconds)
        for item in work:
            assert item.result is not None
            item.result.cpu_seconds = dict(item.cpu)
            if self.split or item.pages is not None:
                self._mark_part(item, item.result)
            item.source.data = None  # free memory as soon as the line is out
            yield item.result

    def _classifier_trial(
        self, documents: list[_Work], classifications: list[Any]
    ) -> tuple[list[Any], list[dict[str, str]]]:
        """The candidate classifier beside the active one: a canary on the whole chunk (it decides
        documents), a shadow one document at a time while its CPU budget allows."""
        trial = self.trial
        if trial.trial.state != "shadow":
            data, docs = [w.source.data for w in documents], [w.document for w in documents]
            meter = CpuMeter()
            chosen, notes = trial.decide(data, docs, classifications)
            for item, seconds in zip(documents, share(meter.lap(), [1.0] * len(documents)), strict=True):
                self._spend(item, "shadow", seconds)
            return chosen, notes
        chosen, notes = list(classifications), [{} for _ in documents]
        for k, item in enumerate(documents):
            if not self.budget.allows(trial.trial, like=item.cpu.get("classify", 0.0)):
                continue
            meter = CpuMeter()
            [chosen[k]], [notes[k]] = trial.decide([item.source.data], [item.document], [classifications[k]])
            seconds = meter.lap()
            self._spend(item, "shadow", seconds)
            self.budget.observe(trial.trial, seconds)
        return chosen, notes

    def _spend(self, item: _Work, stage: str, seconds: float) -> None:
        add(item.cpu, stage, seconds)
        if self.budget is not None:  # loaded with the models (a batch of e-invoices needs neither)
            self.budget.spend(stage, seconds)

    def _split(self, item: _Work) -> list[_Work]:
        """The documents the splitter finds in one file, each its own unit of work."""
        document = item.document
        if document is None or (self.splitter is None and item.source.pages is None):
            return [item]
        if item.source.pages is not None:
            first, last = item.source.pages
            pages = [p for p in document.pages if first <= p.number <= last]
            item.document = Document(pages=pages, source=document.source, errors=document.errors)
            item.pages, item.part = (first, last), (1, 1)
            return [item]
        meter = CpuMeter()
        plan = self.splitter.split(document)
        # Telling where each document starts and of which type is typing the file's pages.
        self._spend(item, "classify", meter.lap())
        n = len(plan.parts)
        parts = []
        # The file's reading so far is shared among its documents by their pages.
        weights = [float(found.last - found.first + 1) for found in plan.parts]
        costs = {stage: share(seconds, weights) for stage, seconds in item.cpu.items()}
        for k, found in enumerate(plan.parts, start=1):
            pages = document.pages[found.first - 1 : found.last]
            # The file's notes (unreadable pages) go with the part that holds the page they name.
            sub = Document(pages=pages, source=document.source, errors=document.errors if k == 1 else [])
            parts.append(
                _Work(
                    item.source,
                    document=sub,
                    notes=list(item.notes),
                    pages=(found.first, found.last),
                    part=(k, n),
                    plan=plan,
                    cpu={stage: round(split[k - 1], 6) for stage, split in costs.items()},
                )
            )
        return parts

    def _read_bytes(self, item: _Work) -> None:
        source = item.source
        if source.data is not None or source.path is None:
            if source.data is None:
                item.result = self._failed(item, UnreadableFile("no data for this source"))
            return
        from ledgerbot.core.safe_files import read_regular_file

        # Only regular files, read without blocking: a FIFO or /dev/zero is an E401, not a hang.
        try:
            source.data = read_regular_file(source.path)
        except LedgerbotError as error:
            item.result = self._failed(item, error)

    def _einvoice_kind(self, data: bytes) -> str | None:
        """How the file is read as an e-invoice (``ubl``, ``cii``, ``zugferd1``, ``pdf_embedded``,
        or ``xml`` for XML of no known kind, which fails with a clear E30x), or ``None`` when it
        is read from its pages."""
        from extractors.einvoice import detect

        kind = detect(data)
        if kind in ("ubl", "cii", "zugferd1") or (kind == "pdf_embedded" and self.embedded):
            return kind
        if kind is None and data.lstrip()[:5] in (b"<?xml", b"<Invo", b"<rsm:", b"<Cred"):
            return "xml"
        return None

    def _start_reading(
        self, items: list[_Work], then: Callable[[list[Document]], Any] | None = None
    ) -> _Reading | None:
        """The text layer reading ``items`` (in a thread of this process beside the caller's work,
        unless everything runs in this process); ``None`` when there is nothing to read."""
        if not items:
            return None
        if self._reader is None:
            # As many workers as there are files to read (more start if OCR pages queue up).
            self._reader = _text_reader(self.in_process, self.text_cache).start(tasks=len(items))
        if self._worker_meter is None and not self.in_process:
            self._worker_meter = CpuMeter(workers=True)
        sources = [(w.source.name, w.source.data) for w in items if w.source.data is not None]
        self._reading = _Reading(self._reader, sources, background=not self.in_process, then=then)
        return self._reading

    def _take_reading(self, items: list[_Work], reading: _Reading | None) -> None:
        """The documents read for ``items`` (or their errors), and what reading them cost."""
        assert reading is not None
        outcomes, spent = reading.wait()
        self._reading = None
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, LedgerbotError):
                item.result = self._failed(item, outcome)
            else:
                outcome.source = item.source.name
                item.document = outcome
        # The workers read the files side by side: their time is shared by pages read.
        pages = [float(len(w.document.pages)) if w.document else 1.0 for w in items]
        spent += self._worker_meter.lap() if self._worker_meter else 0.0
        for item, seconds in zip(items, share(spent, pages), strict=True):
            self._spend(item, "text_layer", seconds)

    def _set_einvoice(self, item: _Work, parsed: tuple[ExtractionResult | None, ErrorEntry | None]) -> None:
        """``item``'s result from its e-invoice (``_parse_einvoice``); none, with a note, when the
        attachment of a PDF is broken (its page is read instead)."""
        result, error = parsed
        if error is not None:
            item.notes.append(error)
        item.result = result
        if item.result is not None and not item.result.errors and item.notes:
            item.result.errors.extend(item.notes)

    def _typed(self, early: list[_Work]) -> dict[int, tuple[Any, float]]:
        """The classification and CPU seconds of each document the forked child typed, by the
        ``id`` of its unit of work; empty when none did (it then falls to this process)."""
        typing, self._typing = self._typing, None
        if typing is None:
            return {}
        answer = typing.result()
        if answer is None:  # the child could not answer: the cascade loads here after all
            return {}
        (kind, *rest), seconds = answer
        self._typed_by_child = kind != "unavailable"
        read = [w for w in early if w.document is not None]
        if kind == "typed":
            [classifications] = rest
            costs = share(seconds, [1.0] * len(read))
            return {id(w): (c, t) for w, c, t in zip(read, classifications, costs, strict=True)}
        code, message = rest
        if kind == "unavailable":
            self._no_classifier(code, message)
        else:
            self._failed_classifying(code, message)
        return {id(w): (None, 0.0) for w in read}

    def _classify_work(self, documents: list[_Work], typed: dict[int, tuple[Any, float]]) -> list[Any]:
        """Each unit's classification: the forked child's, else this process's (``_classify``)."""
        rest = [w for w in documents if id(w) not in typed]
        if rest and self._classifies and self.classifier is None and not self._cascade_missing:
            self._load_classifier()  # the child typed the first batch's documents, not these
        meter = CpuMeter()
        here = iter(self._classify([w.document for w in rest if w.document is not None]))
        costs = iter(share(meter.lap(), [1.0] * len(rest)))
        out = []
        for item in documents:
            classification, seconds = typed[id(item)] if id(item) in typed else (next(here), next(costs))
            self._spend(item, "classify", seconds)
            out.append(classification)
        return out

    def _classify(self, documents: list[Document]) -> list[Any]:
        if not documents or self.classifier is None:
            return [None] * len(documents)
        try:
            return list(self.classifier.classify(documents))
        except Exception as error:  # a broken model must cost the doc type, never the batch
            code = error.code if isinstance(error, LedgerbotError) else "E505"
            message = error.message if isinstance(error, LedgerbotError) else repr(error)
            self._failed_classifying(code, message)
            return [None] * len(documents)

    def _failed_classifying(self, code: str, message: str) -> None:
        if self.classifier_error is None:
            self.warn(f"warning [{code}] classification failed, doc_type left null: {message}")
        self.classifier_error = NoClassifier(f"classification failed: {message}", code=code)

    def _extract_all(
        self, documents: list[_Work], classifications: list[Any]
    ) -> list[tuple[ExtractionResult, float]]:
        """Each document's extraction and its CPU seconds: side by side in forked copies of this
        process when the settings and the cores allow (the models are loaded once, before), each
        copy taking a share of about equal words."""
        processes = 1
        if not self.in_process and len(documents) > 1:
            from ledgerbot.core.settings import get_settings

            processes = get_settings().processing.extract_processes or available_cores()
        words = [
            float(sum(len(page.words) for page in w.document.pages)) if w.document else 0.0 for w in documents
        ]
        pairs = list(zip(documents, classifications, strict=True))
        if processes > 1 and len(documents) > 1:
            # Built here once, what the first extraction builds: not again in each forked copy.
            for stage in self.stages:
                stage.prepare()
        return fork_map(lambda pair: self._extract(*pair), pairs, weights=words, processes=processes)

    def _extract(self, item: _Work, classification: Any) -> ExtractionResult:
        document = item.document
        assert document is not None
        doc_type: DocType | None = classification.doc_type if classification is not None else None
        confident_other = (
            doc_type is not None and not doc_type.is_payable and not classification.low_confidence
        )
        if confident_other:
            # Not an invoice or credit note: no payable fields to read.
            result = ExtractionResult(source=item.source.name, doc_type=doc_type)
            result.lineage = {"text_layer": text_backend(document)}
        else:
            try:
                result = self.extract_document(document, doc_type)
            except Exception as error:  # one bad document must not end the batch
                result = ExtractionResult(source=item.source.name, doc_type=doc_type)
                result.errors.append(ErrorEntry(code="E400", message=f"extraction failed: {error!r}"))
        result.source = item.source.name
        if classification is not None:
            result.doc_type_confidence = round(float(classification.confidence), 4)
            result.lineage.update(classification.lineage())
            if classification.low_confidence:
                result.errors.append(
                    ErrorEntry(
                        code="E510",
                        message=f"document type {doc_type} guessed with low confidence "
                        f"{classification.confidence:.2f}; a clerk must confirm it",
                    )
                )
        elif self.classifier_error is not None:
            result.errors.append(_entry(self.classifier_error))
        result.errors[:0] = item.notes
        for message in document.errors:
            result.errors.append(ErrorEntry(code="E200", message=message))
        result.lineage["pipeline"] = PIPELINE_VERSION
        return result

    def _mark_part(self, item: _Work, result: ExtractionResult) -> None:
        """Under ``split``: the part's pages, its place, and the splitter's lineage and doubts."""
        result.part = list(item.part)
        result.pages = list(item.pages) if item.pages else None
        plan = item.plan
        if plan is None:
            return
        result.lineage.update(plan.lineage())
        if plan.low_confidence:
            error = SplitUncertain(
                f"where the documents in this file begin is uncertain (least sure boundary "
                f"{plan.min_confidence:.2f}); a clerk must confirm the split"
            )
            result.errors.append(_entry(error))

    def _failed(self, item: _Work, error: LedgerbotError) -> ExtractionResult:
        return ExtractionResult(source=item.source.name, doc_type=None, errors=[*item.notes, _entry(error)])
