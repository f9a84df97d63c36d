"""Cost per decision: CPU seconds each document took per stage, measured, stored and summed.

Intake measures what taking a document in cost (reading the file, or parsing its mail, whose
time is shared among the mail's documents, and storing it) and writes it with the ``received``
move; the posting robot measures its own time and its browser's per document (``tree_cpu``) and
writes it with the move that ends the posting. The pipeline measures while it reads
(``CpuMeter``): the text layer's share is the CPU its worker processes (and the OCR engines they
start) used for the batch plus this process's own time scheduling them, shared among the batch's
files by page count; classification runs once per batch and is shared equally; extraction and
the shadow models are timed per document. Processing adds validation and matching and writes
every figure into the audit row of the move it belongs to (``detail["cpu_seconds"] = {stage:
seconds}``), so the trail holds what a document cost; ``cpu_report`` sums it per stage and per
document for ``status --metrics`` and the workbook.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The cost stages, in pipeline order; ``shadow`` is the extra work of candidate models in shadow or canary.
STAGES = ("intake", "text_layer", "classify", "extract", "shadow", "validate", "match", "post")
DETAIL_KEY = "cpu_seconds"
# The text-layer workers are started as ``python -m textlayer.worker``, or forked (a fork's
# command line is its parent's: the reader lists those).
_WORKER_MODULE = "textlayer.worker"


def process_cpu() -> float:
    """CPU seconds of this process (all its threads) so far."""
    return time.process_time()


def thread_cpu() -> float:
    """CPU seconds of the calling thread so far: its own work while another thread of the process
    works too (the pipeline's text-layer reading runs beside its e-invoices and model loading)."""
    return time.thread_time()


def worker_cpu() -> float:
    """CPU seconds of this process's text-layer workers and what they started, so far.

    A live worker's own time plus the time of the children it has waited for (tesseract runs),
    plus the time of any tesseract still running under it; a worker that ended (replaced after a
    timeout or a crash) is in this process's ``RUSAGE_CHILDREN`` once it was waited for.
    """
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ended.ru_utime + ended.ru_stime
    live = _proc_worker_cpu()
    return total + (live if live is not None else _psutil_worker_cpu())


def _children(pid: int) -> list[int]:
    """The processes ``pid``'s threads started, from Linux's ``/proc/PID/task/TID/children``."""
    out: list[int] = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as listed:
                out.extend(int(child) for child in listed.read().split())
        except FileNotFoundError:
            continue  # a thread that ended since the listing
    return out


def _stat_cpu(pid: int) -> tuple[float, float, str]:
    """(own CPU seconds, CPU seconds of the children it waited for, start time) of a process."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name, which is in parentheses and may hold anything.
        fields = stat.read().rpartition(")")[2].split()
    ticks = _CLOCK_TICKS
    own = (int(fields[11]) + int(fields[12])) / ticks
    waited = (int(fields[13]) + int(fields[14])) / ticks
    return own, waited, fields[19]


def _proc_worker_cpu() -> float | None:
    """``worker_cpu``'s live part read straight from ``/proc`` (the children of this process
    only, not the whole process table); ``None`` where the kernel does not list children."""
    if not _HAS_CHILDREN_FILES:
        return None
    # Imported here: intake and posting measure with this module and never read a text layer.
    from textlayer.reader import forked_worker_pids

    total = 0.0
    forked = forked_worker_pids()
    try:
        children = _children(os.getpid())
    except OSError:
        return None
    for child in children:
        try:
            own, waited, started = _stat_cpu(child)
            key = (child, started)
            if key not in _proc_workers:
                with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                    _proc_workers[key] = _WORKER_MODULE.encode() in cmdline.read()
            if not _proc_workers[key] and child not in forked:
                continue
            total += own + waited
            running = _children(child)
            while running:
                grandchild = running.pop()
                running.extend(_children(grandchild))
                total += _stat_cpu(grandchild)[0]
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading: its time is in RUSAGE_CHILDREN or lost
    return total


def _psutil_worker_cpu() -> float:
    import psutil

    from textlayer.reader import forked_worker_pids  # as in _proc_worker_cpu

    total = 0.0
    forked = forked_worker_pids()
    # One pass over the process table (psutil keeps its process objects between passes): a
    # search per process would read the whole table again for each.
    below: dict[int, list[psutil.Process]] = {}
    for proc in psutil.process_iter(["ppid"]):
        below.setdefault(proc.info["ppid"], []).append(proc)
    for child in below.get(os.getpid(), []):
        try:
            if child.pid not in forked and not _is_worker(child):
                continue
            times = child.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            running = list(below.get(child.pid, []))
            while running:
                grandchild = running.pop()
                running.extend(below.get(grandchild.pid, []))
                now = grandchild.cpu_times()
                total += now.user + now.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone between listing and reading: its time is in RUSAGE_CHILDREN or lost
    return total


def tree_cpu() -> float:
    """CPU seconds of this process and every process below it so far: what a robot costs that
    drives another program (the posting robot's browser and its driver)."""
    import psutil

    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = process_cpu() + ended.ru_utime + ended.ru_stime
    try:
        below = psutil.Process().children(recursive=True)
    except psutil.Error:
        return total
    for proc in below:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # ended between listing and reading: in RUSAGE_CHILDREN once waited for
    return total


_workers: dict[tuple[int, float], bool] = {}
_proc_workers: dict[tuple[int, str], bool] = {}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_HAS_CHILDREN_FILES = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _is_worker(proc: Any) -> bool:
    """Whether a child process is a text-layer worker (remembered: its command line does not change)."""
    key = (proc.pid, proc.create_time())
    if key not in _workers:
        _workers[key] = _WORKER_MODULE in proc.cmdline()
    return _workers[key]


def share(total: float, weights: Sequence[float]) -> list[float]:
    """``total`` split in proportion to ``weights`` (equally when they are all zero)."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        return [total / len(weights)] * len(weights)
    return [total * w / whole for w in weights]


def add(into: dict[str, float], stage: str, seconds: float) -> None:
    into[stage] = round(into.get(stage, 0.0) + max(seconds, 0.0), 6)


class CpuMeter:
    """CPU seconds since the start or the previous ``lap``: this process's, or (``workers``) its
    text-layer workers' (reading those costs a pass over the process table, a few milliseconds, so
    a reader keeps one such meter for all its batches), or (``tree``) this process's and all
    below it, or (``thread``) the calling thread's alone."""

    def __init__(self, workers: bool = False, *, tree: bool = False, thread: bool = False) -> None:
        self._read = tree_cpu if tree else worker_cpu if workers else thread_cpu if thread else process_cpu
        self._last = self._read()

    def lap(self) -> float:
        now = self._read()
        spent, self._last = now - self._last, now
        return max(spent, 0.0)


# --- reading the trail ----------------------------------------------------------------------


def stage_seconds(details: Iterable[dict[str, Any] | None]) -> dict[str, float]:
    """A document's CPU seconds per stage, summed over its audit rows (a re-read adds its cost)."""
    out: dict[str, float] = {}
    for detail in details:
        figures = (detail or {}).get(DETAIL_KEY)
        if not isinstance(figures, dict):
            continue
        for stage, seconds in figures.items():
            if isinstance(seconds, int | float):
                add(out, str(stage), float(seconds))
    return out


def document_costs(
    session: Session, *, days: float = 30.0, now: datetime | None = None, until: datetime | None = None
) -> dict[int, dict[str, float]]:
    """Per document received in the ``days`` before ``now``: CPU seconds per stage (measured ones only)."""
    # Imported here: the pipeline measures with this module and never needs the store's tables.
    from sqlalchemy import select

    from ledgerbot.core.store.models import AuditEventRow, DocumentRow

    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    query = (
        select(AuditEventRow.document_id, AuditEventRow.detail)
        .join(DocumentRow, DocumentRow.id == AuditEventRow.document_id)
        .where(DocumentRow.received_at >= since, DocumentRow.received_at < (until or now))
        .order_by(AuditEventRow.document_id, AuditEventRow.id)
    )
    details: dict[int, list[dict[str, Any] | None]] = {}
    for document_id, detail in session.execute(query):
        details.setdefault(document_id, []).append(detail)
    costs = {doc: stage_seconds(rows) for doc, rows in details.items()}
    return {doc: figures for doc, figures in costs.items() if figures}


def cpu_report(costs: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Per stage and per document: documents, total, mean and p50/p95/p99 CPU seconds."""
    from ledgerbot.latency import percentiles

    def figures(values: list[float]) -> dict[str, Any]:
        if not values:
            return {"documents": 0}
        total = sum(values)
        return {
            "documents": len(values),
            "total": round(total, 4),
            "mean": round(total / len(values), 6),
            **percentiles(sorted(values)),
        }

    known = [s for s in STAGES if any(s in c for c in costs.values())]
    others = sorted({s for c in costs.values() for s in c} - set(STAGES))
    per_stage = {stage: figures([c[stage] for c in costs.values() if stage in c]) for stage in known + others}
    return {"per_stage": per_stage, "per_document": figures([sum(c.values()) for c in costs.values()])}
