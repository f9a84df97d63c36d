"""Shadow and canary runs of a candidate classifier or extraction ranker beside the active one.

The pipeline asks ``ClassifierTrial.load`` and ``RankerTrial.load`` once per run: with no version
in shadow or canary that is one registry query each and nothing else runs per document. With one,
the candidate reads the same text layers; in shadow its answer is only written to the lineage
(``modelops.*``, ``modelops.ranker.*``) and stored by processing. A classifier or ranker in
canary decides the documents its stable hash picks, and is rolled back automatically by the
canary rule (``ledgerbot.core.modelops.check_canary``) after each of its decisions.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledgerbot.core.registry_view import Trial
    from ledgerbot.core.store.models import DocumentRow

log = logging.getLogger("ledgerbot.trials")

TRIAL = "modelops.trial"
MODEL_ID = "modelops.model_id"
ARM = "modelops.arm"
CANDIDATE = "modelops.candidate"
ACTIVE = "modelops.active"
# The ranker's notes: the same keys under their own prefix.
RANKER_PREFIX = "modelops.ranker."
RANKER = "extractor-ranker"


class ShadowBudget:
    """How much CPU models in shadow may add: ``share`` of the pipeline's own CPU, over a run.

    The pipeline reports every stage's CPU seconds (``spend``), the documents it reads
    (``count``) and what each shadow read cost (``observe``), and asks before it runs a trial on a
    document (``allows``). A trial in shadow reads a document only when its expected cost still
    fits: the shadow's CPU so far plus that expected cost within ``share`` of the rest. So the
    bound holds from the first document on, also on a run of a few documents where one costly
    read would otherwise break it. The expected cost is the most one document has cost the
    candidate so far (in this process, or as recorded in the store's audit trail for its earlier
    runs). A candidate never measured is expected to cost what the active model spent on the same
    document (``like``) with a margin, plus what its costliest route cost on a probe document when
    it was loaded (``probe``: a cascade's transformer, which a baseline-only active model never
    pays); without either, the pipeline's own mean per document. Skipped documents are read
    without it, so an expensive candidate is compared on fewer documents instead of slowing every
    one. A canary always runs: it decides documents.
    """

    def __init__(self, share: float) -> None:
        self.share = share
        self.shadow = 0.0
        self.rest = 0.0
        self.documents = 0  # documents read by the pipeline so far (the mean per document)
        self.skipped = 0  # documents read without a shadow trial that would have run
        self.probed: dict[str, float] = {}  # a candidate's costliest route on its probe document

    @classmethod
    def from_settings(cls) -> ShadowBudget:
        return cls(get_settings().modelops.shadow_cpu_budget)

    def spend(self, stage: str, seconds: float) -> None:
        if stage == "shadow":
            self.shadow += seconds
        else:
            self.rest += seconds

    def count(self, documents: int) -> None:
        self.documents += documents

    def seed(self, trial: Trial, costs: Iterable[float]) -> None:
        """What one document cost ``trial`` in earlier runs (the store's record)."""
        known = _RECORDED.setdefault(trial.ref, deque(maxlen=RECORD_LENGTH))
        if not known:
            known.extend(c for c in costs if c > 0)

    def observe(self, trial: Trial, seconds: float) -> None:
        """What one document just cost ``trial`` (spent as ``shadow`` by the caller)."""
        _RECORDED.setdefault(trial.ref, deque(maxlen=RECORD_LENGTH)).append(seconds)

    def probe(self, trial: Trial, seconds: float) -> None:
        """What ``trial``'s costliest route cost on a probe document when it was loaded."""
        self.probed[trial.ref] = seconds

    def expected(self, trial: Trial, like: float | None = None) -> float:
        """The CPU one more document is expected to cost ``trial``: the most one has cost it so
        far; never measured, ``like`` (the active model's cost on that document) with a margin plus
        its probe."""
        known = _RECORDED.get(trial.ref)
        if known:
            return max(known)
        if like is None and trial.ref not in self.probed:
            return self.rest / max(self.documents, 1)
        return UNMEASURED_MARGIN * (like or 0.0) + self.probed.get(trial.ref, 0.0)

    def allows(self, trial: Trial, documents: int = 1, like: float | None = None) -> bool:
        if trial.state != "shadow":
            return True
        if self.shadow + self.expected(trial, like) * documents <= self.share * self.rest:
            return True
        self.skipped += documents
        return False


# A candidate never measured may cost this much more than the active model on the same document
# (another version of the same code: its scorer or thresholds differ, not the work it does).
UNMEASURED_MARGIN = 1.5

# The per-document cost each candidate showed, kept for the process (every reader it builds
# shares it), newest last; the budget expects the most of these.
RECORD_LENGTH = 50
_RECORDED: dict[str, deque[float]] = {}


def recorded_costs(trial: Trial) -> list[float]:
    """CPU seconds the shadow stage took on each of the last documents ``trial`` read in shadow,
    as processing wrote them into the audit trail (empty without a store)."""
    from sqlalchemy import select

    from ledgerbot.core.modelops import registry_store  # with the store: see _trial_for
    from ledgerbot.core.store.models import AuditEventRow
    from ledgerbot.core.store.registry import ModelRunRow
    from ledgerbot.cost import DETAIL_KEY

    store = registry_store()
    if store is None:
        return []
    try:
        with store.session() as session:
            ids = list(
                session.scalars(
                    select(ModelRunRow.document_id)
                    .where(ModelRunRow.model_id == trial.model_id, ModelRunRow.arm == "shadow")
                    .order_by(ModelRunRow.id.desc())
                    .limit(RECORD_LENGTH)
                )
            )
            costs: dict[int, float] = {}
            query = select(AuditEventRow.document_id, AuditEventRow.detail).where(
                AuditEventRow.document_id.in_(ids)
            )
            for document_id, detail in session.execute(query) if ids else ():
                figures = (detail or {}).get(DETAIL_KEY)
                seconds = figures.get("shadow") if isinstance(figures, dict) else None
                if isinstance(seconds, int | float):
                    costs[document_id] = costs.get(document_id, 0.0) + float(seconds)
            return list(costs.values())
    finally:
        store.dispose()


def _output(classification: Any) -> dict[str, Any]:
    if classification is None:
        return {"doc_type": None, "confidence": None}
    return {
        "doc_type": classification.doc_type.value,
        "confidence": round(float(classification.confidence), 4),
    }


def _trial_for(models_dir: Path, name: str) -> Trial | None:
    """The version of ``name`` in canary or shadow; None at once where no store (so no registry)
    exists, without loading the registry's database code."""
    if not get_settings().has_store:
        return None
    from ledgerbot.core.registry_view import trial_for

    return trial_for(models_dir, name)


class ClassifierTrial:
    """A cascade version in shadow or canary, loaded beside the active cascade."""

    def __init__(self, trial: Trial, cascade: Any, probe_seconds: float | None = None) -> None:
        self.trial = trial
        self.cascade = cascade
        self.probe_seconds = probe_seconds  # its costliest route on the probe document

    @classmethod
    def load(cls, models_dir: Path) -> ClassifierTrial | None:
        trial = _trial_for(models_dir, "cascade")
        if trial is None:
            return None
        from classifiers.cascade import Cascade

        cascade = Cascade.load(models_dir, trial.version)
        if trial.state != "shadow":
            return cls(trial, cascade)
        # Its transformer loads and runs once now, with the models, not inside the first document
        # it reads (one-off costs the shadow budget would otherwise take for that document's).
        return cls(trial, cascade, _probe(cascade))

    def decide(
        self, data: Sequence[bytes | None], documents: Sequence[Any], active: list[Any]
    ) -> tuple[list[Any], list[dict[str, str]]]:
        """The classification each document goes on with, and the lineage notes of the trial."""
        try:
            candidate = list(self.cascade.classify(documents))
        except Exception:  # a broken candidate never costs the active model's decisions
            candidate = [None] * len(documents)
        chosen, notes = [], []
        for blob, ours, theirs in zip(data, candidate, active, strict=True):
            sha = hashlib.sha256(blob).hexdigest() if blob is not None else ""
            if self.trial.state == "shadow":
                arm = "shadow"
            else:
                arm = "canary" if ours is not None and self.trial.decides(sha) else "active"
            chosen.append(ours if arm == "canary" else theirs)
            notes.append(
                {
                    TRIAL: self.trial.ref,
                    MODEL_ID: str(self.trial.model_id),
                    ARM: arm,
                    CANDIDATE: json.dumps(_output(ours), sort_keys=True),
                    ACTIVE: json.dumps(_output(theirs), sort_keys=True),
                }
            )
        return chosen, notes


def _probe(cascade: Any) -> float | None:
    """CPU seconds of ``cascade``'s costliest route, its baseline and then its transformer, on a
    page longer than the transformer reads (so no document's transformer read costs more), after
    one unmeasured warm-up run; None if the candidate cannot read it (it is then judged by what
    it costs on documents)."""
    from classifiers.features import extract_features
    from ledgerbot.cost import CpuMeter
    from textlayer.model import Document, Line, Page, Word

    words = "Invoice number 2026-0417 date 04.05.2026 total amount due 1,234.56 EUR VAT 19 %"
    lines = [
        Line(
            [
                Word(text, (40.0 + 48 * k, 30.0 + 14 * row, 84.0 + 48 * k, 40.0 + 14 * row))
                for k, text in enumerate(words.split(" "))
            ]
        )
        for row in range(50)
    ]
    features = [extract_features(Document([Page(1, 595.0, 842.0, lines)], source="probe"))]
    try:
        cascade.transformer.predict_proba(features)
        meter = CpuMeter()
        cascade.baseline.predict_proba(features)
        cascade.transformer.predict_proba(features)
        return meter.lap()
    except Exception:  # a broken candidate never costs the pipeline
        log.exception("probe of %s failed", getattr(cascade, "version", "candidate"))
        return None


def _fields(result: ExtractionResult) -> dict[str, Any]:
    values = result.fields.model_dump(mode="json")
    return {name: value for name, value in values.items() if not isinstance(value, (dict, list))}


class RankerTrial:
    """An extraction ranker version in shadow or canary beside the active one.

    It reads every document the generic stage read. In shadow its fields are only noted; in
    canary, on the documents its stable hash picks, its reading (fields, lines, confidences,
    boxes and the extractor's lineage) replaces the active ranker's.
    """

    def __init__(self, trial: Trial, extractor: Any) -> None:
        self.trial = trial
        self.extractor = extractor

    @classmethod
    def load(cls, models_dir: Path) -> RankerTrial | None:
        trial = _trial_for(models_dir, RANKER)
        if trial is None:
            return None
        from extractors.generic import GenericExtractor
        from extractors.generic.ranking import load_scorer

        return cls(trial, GenericExtractor(load_scorer(models_dir, trial.version)))

    def decide(self, data: bytes | None, document: Any, result: ExtractionResult) -> ExtractionResult:
        """The reading the document goes on with, its lineage noting the trial (generic reads only)."""
        if result.method != "generic":
            return result
        try:
            candidate: ExtractionResult | None = self.extractor.extract(document, result.doc_type)
        except Exception:  # a broken candidate never costs the document
            candidate = None
        sha = hashlib.sha256(data).hexdigest() if data is not None else ""
        if self.trial.state == "shadow":
            arm = "shadow"
        else:
            arm = "canary" if candidate is not None and self.trial.decides(sha) else "active"
        note = {
            RANKER_PREFIX + "trial": self.trial.ref,
            RANKER_PREFIX + "model_id": str(self.trial.model_id),
            RANKER_PREFIX + "arm": arm,
            RANKER_PREFIX + "candidate": json.dumps(_fields(candidate) if candidate else {}, sort_keys=True),
            RANKER_PREFIX + "active": json.dumps(_fields(result), sort_keys=True),
        }
        chosen = _reading_of(candidate, result) if arm == "canary" and candidate is not None else result
        chosen.lineage.update(note)
        return chosen


# What an extractor's reading decides; the rest of a result (type, errors of the file and the
# classifier, the pipeline's lineage) is the pipeline's and stays.
_READING = ("fields", "field_confidence", "field_boxes", "lines")


def _reading_of(candidate: ExtractionResult, result: ExtractionResult) -> ExtractionResult:
    """``result`` with the candidate's reading in place of the active extractor's."""
    chosen = result.model_copy(update={key: getattr(candidate, key) for key in _READING})
    # The active extractor's notes (its version, per-field notes) go; the candidate's come in.
    field_names = set(type(result.fields).model_fields)
    lineage = {k: v for k, v in result.lineage.items() if k != "extractor" and k not in field_names}
    chosen.lineage = {**lineage, **candidate.lineage}
    return chosen


def record_trial(session: Session, document: DocumentRow, result: ExtractionResult) -> None:
    """Store the trials' outputs on ``document`` and, for a canary, apply the rollback rule at once.

    In a savepoint: a trial that cannot be recorded is logged and never costs the document.
    """
    if not any(key.endswith("arm") and key.startswith("modelops.") for key in result.lineage):
        return
    try:
        with session.begin_nested():
            _record(session, document, result)
    except Exception:
        log.exception("model trial not recorded for document %s", document.id)


def _record(session: Session, document: DocumentRow, result: ExtractionResult) -> None:
    from ledgerbot.core.modelops import check_canary, record_run  # with the store: see _trial_for

    lineage = result.lineage
    for prefix, active_key in (("modelops.", "classifier"), (RANKER_PREFIX, "extractor")):
        arm = lineage.get(prefix + "arm")
        if arm is None:
            continue
        model_id = int(lineage[prefix + "model_id"])
        record_run(
            session,
            model_id=model_id,
            document_id=document.id,
            arm=arm,
            outputs=json.loads(lineage[prefix + "candidate"]),
            active_outputs=json.loads(lineage[prefix + "active"]),
            active_ref=lineage.get(active_key) if arm != "canary" else None,
            vendor_id=document.vendor_id,
            exception=bool(result.errors),
        )
        if arm != "shadow":
            check_canary(session, model_id)
