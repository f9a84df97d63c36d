"""Learning from corrections: labelled examples, template drafts, and vendor templates learned in shadow.

Every correction is a ``CorrectionRow`` (what was read, what a person says is right, where it
sat on the page). ``export_corpus`` writes the corrected documents as a labelled corpus in the
ground-truth format of ``docs/contracts/extraction.md`` (file + ``<stem>.json``), which is
what classifier retraining and ``ledgerbot eval`` read. ``after_corrections`` teaches the
vendor's template from a corrected document (``extractors.templates.learn``, the same learning as
``ledgerbot template learn``); a new template runs in shadow until it agreed with the clerk.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store import FileStore
from ledgerbot.core.store.models import DocumentRow, ExtractionRow, VendorRow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.core.store.review import CorrectionRow

# The extraction engineer's template drafting (``ledgerbot template new``); offered only where installed.
DRAFTING_MODULE = "extractors.templates.draft"
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"}
DRAFTABLE = ("application/pdf", "image/png", "image/jpeg", "image/tiff")
CORRECTED_KINDS = ("field", "confirm", "po_link")


class DraftError(LedgerbotError):
    code = "E740"


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def drafting_available() -> bool:
    """Whether template drafting is installed (fixed for the life of the process, so asked once)."""
    try:
        return importlib.util.find_spec(DRAFTING_MODULE) is not None
    except ModuleNotFoundError:
        return False


def templates_dir() -> Path:
    """The folder learned templates go to: ``LEDGERBOT_TEMPLATES_DIR``, else ``home/templates``."""
    from ledgerbot.core.settings import learned_templates_dir

    return learned_templates_dir()


@lru_cache(maxsize=8)
def _identities(folder: str, stamp: tuple[tuple[str, float], ...]) -> frozenset[str]:
    """Every VAT id and IBAN the templates in ``folder`` match on (``stamp`` invalidates the cache)."""
    from extractors.templates.schema import load_templates

    found: set[str] = set()
    for template in load_templates(Path(folder)):
        found.update(_norm(v) for v in (*template.match.tax_ids, *template.match.ibans))
    return frozenset(found)


def _norm(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def has_template(vendor: VendorRow, folder: Path | None = None) -> bool:
    folder = folder or templates_dir()
    files = sorted(folder.glob("*.yml")) if folder.is_dir() else []
    stamp = tuple((f.name, f.stat().st_mtime) for f in files)
    known = _identities(str(folder), stamp)
    return any(v and _norm(v) in known for v in (vendor.tax_id, vendor.iban))


@dataclass(frozen=True)
class DraftOffer:
    vendor_id: str
    corrections: int


# Asked on every document page view.
_CORRECTIONS = select(func.count()).where(
    CorrectionRow.vendor_id == bindparam("vendor_id"), CorrectionRow.kind.in_(CORRECTED_KINDS)
)


def vendor_corrections(vendor_id: Any) -> ScalarSelect[int]:
    """The count a draft offer needs, as a scalar subquery on the caller's ``vendor_id`` column."""
    return (
        select(func.count())
        .where(CorrectionRow.vendor_id == vendor_id, CorrectionRow.kind.in_(CORRECTED_KINDS))
        .scalar_subquery()
    )


def draft_offer(session: Session, document: DocumentRow) -> DraftOffer | None:
    """A template draft is offered for a vendor without a template once people corrected its documents."""
    return draft_offer_for(session, document.vendor_id, document.mime)


def draft_offer_for(
    session: Session, vendor_id: str | None, mime: str, corrections: int | None = None
) -> DraftOffer | None:
    """``draft_offer`` for a document with this vendor and file type.

    ``corrections`` is the vendor's count of corrections (``vendor_corrections``) when the caller
    read it with its own statement; it is read here otherwise.
    """
    if not vendor_id or mime not in DRAFTABLE or not drafting_available():
        return None
    count = corrections
    if count is None:
        count = session.connection().execute(_CORRECTIONS, {"vendor_id": vendor_id}).scalar() or 0
    if count == 0:
        return None
    vendor = session.get(VendorRow, vendor_id)
    if vendor is None or has_template(vendor):
        return None
    return DraftOffer(vendor_id=vendor_id, corrections=count)


@dataclass(frozen=True)
class FieldCheck:
    """One corrected field: what a person said, what the drafted template reads."""

    field: str
    corrected: str | None
    drafted: str | None

    @property
    def agrees(self) -> bool:
        return self.corrected == self.drafted


@dataclass(frozen=True)
class Draft:
    template_id: str
    yaml: str
    folder: Path
    checks: list[FieldCheck]

    @property
    def agreement(self) -> str:
        return f"{sum(c.agrees for c in self.checks)}/{len(self.checks)}"


def _staging(staging_root: Path, document_id: int) -> Path:
    return staging_root / f"document-{document_id}"


def make_draft(session: Session, document: DocumentRow, files: FileStore, staging_root: Path) -> Draft:
    """Draft a template from this document's original and check it against the people's corrections."""
    from extractors.templates.draft import draft_template
    from extractors.templates.schema import TemplateError

    extraction = latest_extraction(session, document.id)
    if extraction is None:
        raise DraftError(f"document {document.id} has no extraction to check a draft against")
    base = _staging(staging_root, document.id)
    if base.exists():
        shutil.rmtree(base)
    sample = base / "input" / (_stem(document) + (_EXTENSIONS.get(document.mime) or ".bin"))
    sample.parent.mkdir(parents=True)
    sample.write_bytes(files.get(document.sha256))
    try:
        written = draft_template(sample, base / "draft")
    except TemplateError as error:
        raise DraftError(f"no template could be drafted from this document: {error}") from None
    template_path = Path(str(written["template"]))
    golden = json.loads(Path(str(written["golden"])).read_text(encoding="utf-8"))
    drafted_fields = golden.get("fields") or {}
    corrected_fields = ExtractionResult.model_validate(extraction.result).model_dump(mode="json")["fields"]
    names = sorted(
        set(
            session.scalars(
                select(CorrectionRow.target).where(
                    CorrectionRow.document_id == document.id, CorrectionRow.kind.in_(CORRECTED_KINDS)
                )
            )
        )
    )
    checks = [
        FieldCheck(
            field=name,
            corrected=None if corrected_fields.get(name) is None else str(corrected_fields[name]),
            drafted=None if drafted_fields.get(name) is None else str(drafted_fields[name]),
        )
        for name in names
    ]
    return Draft(
        template_id=template_path.stem,
        yaml=template_path.read_text(encoding="utf-8"),
        folder=base / "draft",
        checks=checks,
    )


def staged_draft(staging_root: Path, document_id: int) -> Path | None:
    """The drafted template file waiting for acceptance, if any."""
    folder = _staging(staging_root, document_id) / "draft"
    found = sorted(folder.glob("*.yml")) if folder.is_dir() else []
    return found[0] if found else None


def accept_draft(staging_root: Path, document_id: int, target: Path | None = None) -> Path:
    """Move a staged draft (template, sample, golden) into the vendor templates folder."""
    from extractors.templates.schema import load_template

    draft = staged_draft(staging_root, document_id)
    if draft is None:
        raise DraftError(f"no drafted template for document {document_id}; draft one first")
    target = target or templates_dir()
    template = load_template(draft)  # still loads: nobody edited it into something broken
    destination = target / draft.name
    if destination.exists():
        raise DraftError(f"template {draft.name} exists already in {target}; edit that one instead")
    samples = draft.parent / "samples" / template.id
    target.mkdir(parents=True, exist_ok=True)
    if samples.is_dir():
        shutil.copytree(samples, target / "samples" / template.id, dirs_exist_ok=True)
    shutil.copyfile(draft, destination)
    shutil.rmtree(_staging(staging_root, document_id))
    return destination


def corrected_documents(session: Session, kinds: tuple[str, ...] | None = None) -> Iterator[DocumentRow]:
    query = select(CorrectionRow.document_id).distinct()
    if kinds:
        query = query.where(CorrectionRow.kind.in_(kinds))
    ids = sorted(session.scalars(query))
    for start in range(0, len(ids), 200):
        yield from session.scalars(
            select(DocumentRow).where(DocumentRow.id.in_(ids[start : start + 200])).order_by(DocumentRow.id)
        )


def _stem(document: DocumentRow) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(document.filename).stem)[:80] or "document"
    return f"{document.id:07d}-{base}"


def export_corpus(
    session: Session, files: FileStore, out_dir: Path, kinds: tuple[str, ...] | None = None
) -> Iterator[dict[str, object]]:
    """Write each corrected document and its ground truth into ``out_dir``; yields one record per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for document in corrected_documents(session, kinds):
        extraction = latest_extraction(session, document.id)
        if extraction is None or not files.exists(document.sha256):
            continue
        result = ExtractionResult.model_validate(extraction.result)
        stem = _stem(document)
        suffix = _EXTENSIONS.get(document.mime) or Path(document.filename).suffix or ".bin"
        (out_dir / f"{stem}{suffix}").write_bytes(files.get(document.sha256))
        truth: dict[str, object] = {"doc_type": result.doc_type.value if result.doc_type else None}
        if result.doc_type is not None and result.doc_type.is_payable:
            dumped = result.model_dump(mode="json")
            truth["fields"] = dumped["fields"]
            truth["lines"] = dumped["lines"]
        (out_dir / f"{stem}.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
        yield {"document_id": document.id, "file": f"{stem}{suffix}", "doc_type": truth["doc_type"]}


# -- one-shot learning from a clerk's corrections, shadow first ------------------------------------

SHADOW_ONLY = frozenset({"shadow"})


@dataclass(frozen=True)
class Learned:
    """What learning from one corrected document wrote: which template, which version, and why."""

    template_id: str
    version: int
    status: str
    refined: bool
    reason: str
    learned: list[str]
    not_found: list[str]
    identity_not_learned: dict[str, str]


def _first_extraction(session: Session, document_id: int) -> ExtractionRow | None:
    """The machine's own reading (the oldest extraction row), before any person changed it."""
    return session.scalars(
        select(ExtractionRow)
        .where(ExtractionRow.document_id == document_id)
        .order_by(ExtractionRow.id)
        .limit(1)
    ).first()


def _corrected_fields(session: Session, document_id: int) -> set[str]:
    return set(
        session.scalars(
            select(CorrectionRow.target).where(
                CorrectionRow.document_id == document_id, CorrectionRow.kind == "field"
            )
        )
    )


def learning_reason(session: Session, document: DocumentRow) -> str | None:
    """Why the clerk's corrections on ``document`` should teach a template, or None.

    Learning runs when the vendor has no template, or when the template that read the document
    got a field the clerk had to correct.
    """
    if document.mime not in DRAFTABLE or not drafting_available():
        return None
    corrected = _corrected_fields(session, document.id)
    first = _first_extraction(session, document.id)
    method = (first.method or "") if first is not None else ""
    if method.startswith("template:") and corrected:
        ref = (first.result.get("lineage") or {}).get("template", method) if first is not None else method
        return f"template {ref} read {', '.join(sorted(corrected))} wrong"
    if (
        not corrected
        and not session.scalars(
            select(CorrectionRow.id).where(
                CorrectionRow.document_id == document.id, CorrectionRow.kind.in_(CORRECTED_KINDS)
            )
        ).first()
    ):
        return None
    vendor = session.get(VendorRow, document.vendor_id) if document.vendor_id else None
    if vendor is not None and has_template(vendor):
        return None
    return "the vendor has no template"


def _truth(session: Session, document: DocumentRow) -> Any:
    from extractors.templates.learn import parse_truth

    row = latest_extraction(session, document.id)
    if row is None:
        raise DraftError(f"document {document.id} has no extraction to learn from")
    dumped = ExtractionResult.model_validate(row.result).model_dump(mode="json")
    data = {"doc_type": dumped["doc_type"] or "invoice", "fields": dumped["fields"], "lines": dumped["lines"]}
    return parse_truth(data, f"document {document.id}")


def learn_from_corrections(
    session: Session,
    document: DocumentRow,
    files: FileStore,
    folder: Path | None = None,
    *,
    reason: str | None = None,
) -> Learned | None:
    """Learn (or refine) the vendor's template from this document and its corrected values.

    A new template starts in shadow: it is read beside the generic extractor on the vendor's next
    documents and trusted once it agreed with the clerk (``shadow_review``).
    """
    import tempfile

    from extractors.templates.learn import LearningError, learn_template
    from extractors.templates.schema import TemplateError

    reason = reason or learning_reason(session, document)
    if reason is None:
        return None
    folder = folder or templates_dir()
    truth = _truth(session, document)
    with tempfile.TemporaryDirectory(prefix="ledgerbot-learn-") as tmp:
        sample = Path(tmp) / (_stem(document) + (_EXTENSIONS.get(document.mime) or ".bin"))
        sample.write_bytes(files.get(document.sha256))
        try:
            outcome = learn_template(sample, truth, folder, status="shadow")
        except (LearningError, TemplateError) as error:
            raise DraftError(
                f"no template could be learned from document {document.id}: {error.message}"
            ) from None
    from ledgerbot.template_registry import learned_test, sync

    sync(
        session,
        folder,
        outcome.id,
        reason=f"learned from document {document.id}: {reason}",
        tested=learned_test(outcome),
    )
    return Learned(
        template_id=outcome.id,
        version=outcome.version,
        status=outcome.status,
        refined=outcome.refined,
        reason=reason,
        learned=outcome.learned,
        not_found=outcome.not_found,
        identity_not_learned=outcome.identity_not_learned,
    )


def shadow_review(
    session: Session,
    document: DocumentRow,
    files: FileStore,
    folder: Path | None = None,
    *,
    trust_after: int | None = None,
) -> Any:
    """Read a document whose values a clerk settled with the shadow template that matches its
    vendor, and record that reading next to the generic one and the clerk's values.

    Returns the ``ShadowOutcome`` (the template promoted itself once trusted), or None when no
    shadow template matches.
    """
    from extractors.generic import GenericExtractor
    from extractors.templates.engine import TemplateExtractor
    from extractors.templates.lifecycle import record_shadow
    from extractors.templates.locate import DocumentView
    from ledgerbot.core.settings import get_settings
    from textlayer import read_document

    if document.mime not in DRAFTABLE:
        return None
    folder = folder or templates_dir()
    engine = TemplateExtractor.load(folder)
    if not any(entry.status == "shadow" for entry in engine.entries):
        return None
    page = read_document(files.get(document.sha256), name=document.filename)
    view = DocumentView(page)
    evidence = engine.match_evidence(view, statuses=SHADOW_ONLY)
    if evidence is None:
        return None
    final = latest_extraction(session, document.id)
    if final is None:
        return None
    template = evidence.template
    reading = engine.apply(template, page, None, view=view)
    first = _first_extraction(session, document.id)
    if first is not None and (first.method or "generic") == "generic":
        generic = ExtractionResult.model_validate(first.result)
    else:
        generic = GenericExtractor().extract(page)
    values = ExtractionResult.model_validate(final.result).model_dump(mode="json")["fields"]
    outcome = record_shadow(
        folder,
        template,
        document.filename,
        reading,
        generic,
        values,
        trust_after=trust_after or get_settings().templates.trust_after,
    )
    if outcome.promoted:
        from ledgerbot.template_registry import sync

        sync(session, folder, template.id, reason=f"trusted after shadow agreement on {document.filename}")
    return outcome


def after_corrections(session: Session, document: DocumentRow, files: FileStore) -> dict[str, Any]:
    """What the review app runs when a clerk saves corrections: the shadow check, then learning."""
    out: dict[str, Any] = {}
    shadow = shadow_review(session, document, files)
    reason = None
    if shadow is not None:
        out["shadow"] = shadow.as_json()
        if shadow.disagreed:
            # The shadow template read a field the clerk had to fix: it learns from this one too.
            reason = f"shadow template {shadow.template} read {', '.join(shadow.disagreed)} wrong"
    learned = learn_from_corrections(session, document, files, reason=reason)
    if learned is not None:
        out["learned"] = learned.__dict__
    return out
