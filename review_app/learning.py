"""Learning from corrections: labelled examples out of the store, and template drafts for new vendors.

Every correction is a ``CorrectionRow`` (what was read, what a person says is right, where it
sat on the page). ``export_corpus`` writes the corrected documents as a labelled corpus in the
ground-truth format of ``docs/contracts/extraction.md`` (file + ``<stem>.json``), which is
what classifier retraining and ``ledgerbot eval`` read.
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

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store import FileStore
from ledgerbot.core.store.models import DocumentRow, VendorRow
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
def drafting_available() -> bool:
    """Whether template drafting is installed (fixed for the life of the process)."""
    try:
        return importlib.util.find_spec(DRAFTING_MODULE) is not None
    except ModuleNotFoundError:
        return False


def templates_dir() -> Path:
    from extractors.templates.engine import default_templates_dir

    return default_templates_dir()


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


def draft_offer(session: Session, document: DocumentRow) -> DraftOffer | None:
    """A template draft is offered for a vendor without a template once people corrected its documents."""
    return draft_offer_for(session, document.vendor_id, document.mime)


def draft_offer_for(session: Session, vendor_id: str | None, mime: str) -> DraftOffer | None:
    """``draft_offer`` for a document with this vendor and file type."""
    if not vendor_id or mime not in DRAFTABLE or not drafting_available():
        return None
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
