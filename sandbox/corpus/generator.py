"""Writes a sample corpus to a folder: documents, their ground-truth JSON and a manifest.

``generate_corpus`` plans the whole corpus first (pure, seeded), then renders each file:
digital PDFs with reportlab, scans by rasterising and degrading those PDFs, e-invoices as UBL,
CII or Factur-X. Each document gets ``<stem>.json`` beside it; ``manifest.json`` records the
seeds, ``today`` and the counts.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ledgerbot.core.errors import LedgerbotError
from sandbox.corpus import einvoice, randomized
from sandbox.corpus import einvoice_styles as einvoice_styles_module
from sandbox.corpus import scans as scanning
from sandbox.corpus.content import ContentOptions
from sandbox.corpus.documents import render_document
from sandbox.corpus.planner import OTHER_TYPES, PAYABLE, TODAY, CorpusPlan, DocPlan, Planner
from sandbox.masterdata import DEFAULT_SEED, MasterData, generate_master_data

GENERATOR_VERSION = "1"
SPLITS = ("dev", "heldout", "all")
LAYOUT_MODES = ("fixed", "random", "both")
# Lines of a long order under ``multipage``: two to four pages in most layouts.
MULTIPAGE_LINES = (18, 90)
_EXTENSIONS = {
    "digital": ".pdf",
    "scan_png": ".png",
    "scan_pdf": ".pdf",
    "ubl": ".xml",
    "cii": ".xml",
    "facturx": ".pdf",
    "photo": ".jpg",
}


class CorpusError(LedgerbotError):
    """A corpus request that cannot be carried out (bad arguments, a folder in the way)."""

    code = "E310"


@dataclass
class CorpusStats:
    out: str
    n: int
    seed: int
    master_seed: int | None
    today: str
    mismatch_rate: float
    split: str
    layouts: str = "fixed"
    receipts: bool = False
    multipage: float | None = None
    documents: int = 0
    by_doc_type: dict[str, int] = field(default_factory=dict)
    by_layout: dict[str, int] = field(default_factory=dict)
    by_variant: dict[str, int] = field(default_factory=dict)
    by_split: dict[str, int] = field(default_factory=dict)
    by_mismatch: dict[str, int] = field(default_factory=dict)
    invoices_issued: int = 0
    invoices_with_mismatch: int = 0
    cases: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_out(out: Path) -> None:
    """Refuses to mix a new corpus into a folder that holds something else."""
    if not out.exists():
        out.mkdir(parents=True)
        return
    if not out.is_dir():
        raise CorpusError(f"{out} exists and is not a folder")
    manifest = out / "manifest.json"
    if manifest.exists():
        # A previous corpus: remove exactly its files, so a re-run leaves no stale documents.
        previous = json.loads(manifest.read_text(encoding="utf-8"))
        for name in previous.get("files", []):
            (out / name).unlink(missing_ok=True)
            (out / (Path(name).stem + ".json")).unlink(missing_ok=True)
        shutil.rmtree(out / "cases", ignore_errors=True)
        manifest.unlink()
    if any(out.iterdir()):
        raise CorpusError(f"{out} is not empty and holds no corpus manifest; choose an empty folder")


def _file_bytes(plan: DocPlan, master: MasterData, seed: int) -> bytes:
    if plan.variant == "ubl":
        return einvoice.ubl_xml(plan)
    if plan.variant == "cii":
        return einvoice.cii_xml(plan)
    visible = render_document(plan, master)
    if plan.variant == "digital":
        return visible
    if plan.variant == "facturx":
        return einvoice.facturx_pdf(visible, plan)
    rng = random.Random(f"{seed}:{plan.stem}")
    # A PNG holds one page only; a multi-page document is scanned into a PDF instead.
    if plan.variant == "scan_png" and scanning.page_count(visible) > 1:
        plan.variant = "scan_pdf"
    if plan.variant == "scan_png":
        return scanning.scan_png(visible, rng)
    return scanning.scan_pdf(visible, rng)


def _credit_rate(doc_types: Collection[str] | None) -> float:
    """Share of credit notes among randomized documents, as ``--doc-type`` asks."""
    if not doc_types or {"invoice", "credit_note"} <= set(doc_types):
        return ContentOptions().credit_rate
    return 1.0 if "credit_note" in doc_types else 0.0


def generate_corpus(
    out: Path,
    n: int,
    seed: int,
    *,
    mismatch_rate: float = 0.15,
    master: MasterData | None = None,
    master_seed: int | None = None,
    split: str = "all",
    scans: bool = True,
    einvoices: bool = True,
    doc_types: Collection[str] | None = None,
    cases: bool = False,
    layouts: str = "fixed",
    receipts: bool = False,
    multipage: float | None = None,
    from_einvoice: Path | None = None,
    einvoice_styles: int = 3,
    progress: Callable[[Iterable[Any], int], Iterator[Any]] | None = None,
) -> CorpusStats:
    """Generates ``n`` documents with ground truth into ``out``; same seeds, same corpus.

    ``master`` defaults to ``generate_master_data(master_seed)`` (the sandbox ERP's data).
    ``split`` keeps only vendors/layouts of one split; ``doc_types`` restricts the issued
    document types; ``scans``/``einvoices`` switch those twin variants off.
    ``layouts``: ``fixed`` (the ten vendor layouts, planned against the master data),
    ``random`` (every document its own content and layout, see ``randomized``) or ``both``
    (half each). ``receipts`` mixes shop receipts into the randomized documents; ``multipage``
    is the share of randomized invoices with an order long enough to run over several pages
    (default ``ContentOptions.long_share``).
    ``from_einvoice`` renders every e-invoice below that folder in ``einvoice_styles``
    randomized layouts, after the ``n`` documents (``n`` may then be 0).
    """
    started = time.perf_counter()
    if layouts not in LAYOUT_MODES:
        raise CorpusError(f"--layouts must be one of {', '.join(LAYOUT_MODES)}, got {layouts!r}")
    if n < 1 and from_einvoice is None:
        raise CorpusError(f"--n must be at least 1, got {n}")
    if n < 0:
        raise CorpusError(f"--n must not be negative, got {n}")
    if einvoice_styles < 1:
        raise CorpusError(f"--einvoice-styles must be at least 1, got {einvoice_styles}")
    if from_einvoice is not None and not Path(from_einvoice).is_dir():
        raise CorpusError(f"--from-einvoice {from_einvoice} is not a folder")
    if receipts and layouts == "fixed":
        raise CorpusError("--receipts needs randomized layouts (--layouts random or both)")
    if multipage is not None and layouts == "fixed":
        raise CorpusError("--multipage needs randomized layouts (--layouts random or both)")
    if multipage is not None and not 0.0 <= multipage <= 1.0:
        raise CorpusError(f"--multipage must be between 0 and 1, got {multipage}")
    content = ContentOptions(credit_rate=_credit_rate(doc_types))
    if multipage is not None:
        # Asked for: long orders up to four pages or so, not the default's now-and-then second page.
        content = replace(content, long_share=multipage, long_lines=MULTIPAGE_LINES)

    if not 0.0 <= mismatch_rate <= 1.0:
        raise CorpusError(f"--mismatch-rate must be between 0 and 1, got {mismatch_rate}")
    if split not in SPLITS:
        raise CorpusError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    known = set(PAYABLE) | set(OTHER_TYPES)
    if doc_types and not set(doc_types) <= known:
        raise CorpusError(f"unknown document types {sorted(set(doc_types) - known)}; known: {sorted(known)}")
    if master is None:
        master_seed = DEFAULT_SEED if master_seed is None else master_seed
        master = generate_master_data(master_seed)
    n_fixed = {"fixed": n, "random": 0, "both": n - n // 2}[layouts]
    n_random = n - n_fixed
    if (n_random or from_einvoice is not None) and split != "all" and split != randomized.split_of(seed):
        raise CorpusError(
            f"randomized documents of seed {seed} belong to the {randomized.split_of(seed)} split; held-out "
            f"seeds are {randomized.HELDOUT_SEEDS.start}-{randomized.HELDOUT_SEEDS.stop - 1}"
        )
    if n_random and doc_types and not set(doc_types) & set(PAYABLE):
        raise CorpusError("randomized layouts make invoices and credit notes only; --doc-type excludes both")
    out = Path(out)
    _check_out(out)

    planner = Planner(
        master,
        seed,
        mismatch_rate=mismatch_rate,
        split=split,
        scans=scans,
        einvoices=einvoices,
        doc_types=doc_types,
    )
    plan = planner.plan(n_fixed) if n_fixed else CorpusPlan([], 0, 0, [])
    random_docs = randomized.plan_random(
        seed, n_random, len(plan.documents) + 1, scans=scans, receipts=receipts
    )
    einvoice_docs: list[einvoice_styles_module.EInvoiceDoc] = []
    if from_einvoice is not None:
        first = len(plan.documents) + n_random + 1
        einvoice_docs, skipped = einvoice_styles_module.plan_einvoices(
            Path(from_einvoice), seed, einvoice_styles, first, scans=scans
        )
        if skipped:
            plan.notes.append(
                f"e-invoices not rendered (unreadable or without number/date): {', '.join(skipped)}"
            )
    stats = CorpusStats(
        out=str(out),
        n=n,
        seed=seed,
        master_seed=master_seed,
        today=TODAY.isoformat(),
        mismatch_rate=mismatch_rate,
        split=split,
        layouts=layouts,
        receipts=receipts,
        multipage=multipage,
        invoices_issued=plan.invoices_issued,
        invoices_with_mismatch=plan.invoices_with_mismatch,
        notes=list(plan.notes),
    )
    files: list[str] = []
    counters: dict[str, Counter[str]] = {
        k: Counter() for k in ("doc_type", "layout", "variant", "split", "mismatch")
    }
    jobs: list[Any] = [*plan.documents, *random_docs, *einvoice_docs]
    documents: Iterable[Any] = jobs
    if progress is not None:
        documents = progress(jobs, len(jobs))
    for doc in documents:
        if isinstance(doc, DocPlan):
            data = _file_bytes(doc, master, seed)
            truth = doc.truth()
        elif isinstance(doc, randomized.RandomDoc):
            data, truth = randomized.make(seed, doc, options=content)
        else:
            data, truth = einvoice_styles_module.make(seed, doc)
        name = doc.stem + _EXTENSIONS[truth["variant"]]
        (out / name).write_bytes(data)
        (out / f"{doc.stem}.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        files.append(name)
        counters["doc_type"][truth["doc_type"]] += 1
        counters["layout"][truth["layout"]] += 1
        counters["variant"][truth["variant"]] += 1
        counters["split"][truth["split"]] += 1
        for mismatch in truth["mismatches"]:
            counters["mismatch"][mismatch["type"]] += 1
    stats.documents = len(files)
    stats.by_doc_type = dict(sorted(counters["doc_type"].items()))
    stats.by_layout = dict(sorted(counters["layout"].items()))
    stats.by_variant = dict(sorted(counters["variant"].items()))
    stats.by_split = dict(sorted(counters["split"].items()))
    stats.by_mismatch = dict(sorted(counters["mismatch"].items()))
    manifest = {
        "generator_version": GENERATOR_VERSION,
        **{k: v for k, v in stats.to_dict().items() if k not in ("seconds", "out")},
        "files": files,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if cases:
        from sandbox.corpus.cases import write_cases

        stats.cases = write_cases(out, master)
    stats.seconds = round(time.perf_counter() - started, 2)
    return stats
