"""Read files into the text model with a long-lived pool of guarded worker processes.

Each file is parsed in a worker (pdfplumber for born-digital pages) under a memory limit and a
wall-clock budget; the pages that need OCR then go back on the queue as separate tasks, so the
pages of a batch, and of one long scan, are OCR'd on every core. A hung or crashed worker is
killed with its tesseract and replaced; its file gets a coded error and the batch goes on.
"""

from __future__ import annotations

import atexit
import gc
import heapq
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from ledgerbot.core.errors import ApplicationError
from textlayer.cache import DocumentCache, settings_key
from textlayer.config import TextLayerConfig
from textlayer.digital import empty_page
from textlayer.errors import ResourceLimit, TextLayerError, TimeBudgetExceeded
from textlayer.model import Document, Page
from textlayer.parsed import OCRMode, ParseResult, Source

_BOOT_TIMEOUT = 120.0  # seconds a fresh worker may take to import its libraries
SourceLike = Path | str | bytes | tuple[str, bytes | str]  # path, bytes, or (name, either)

# Thread pools inside numpy / OpenMP would fight the other worker for the same cores.
_WORKER_ENV = {
    "OMP_THREAD_LIMIT": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class WorkerStartFailed(ApplicationError):
    """The worker processes cannot start at all: an environment fault, not a bad file."""

    code = "E209"


# The pids of the workers this process forked and has not reaped yet: a fork's command line is
# its parent's, so ``ledgerbot.cost`` asks here which of its children are workers.
_forked_pids: set[int] = set()


def forked_worker_pids() -> frozenset[int]:
    return frozenset(_forked_pids)


def _can_fork(config: TextLayerConfig) -> bool:
    """Whether a worker may start as a fork of this process (``fork_below_limit_share``).

    Only with a single thread: a fork copies locks another thread may hold (an import's, the
    allocator's) and never releases them. Only on Linux, whose ``/proc`` tells the threads
    (native ones too) and the address space the fork would inherit."""
    if config.fork_below_limit_share <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        if len(os.listdir("/proc/self/task")) != 1:
            return False
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return False
    return mapped <= config.fork_below_limit_share * config.memory_limit_mb * 1024 * 1024


class _Forked:
    """A worker forked from this process, with what the reader uses of ``subprocess.Popen``.

    The child keeps nothing of the parent but its modules: its own process group (a kill takes
    the tesseract it starts), stdin and stdout on /dev/null (stdout is the CLI's JSON Lines),
    no file descriptor but its two pipes and stderr; it never collects the parent's objects and
    ends with ``os._exit``, so none of the parent's buffers, finalizers or exit handlers run in it."""

    def __init__(self, read_fd: int, write_fd: int, memory_mb: int) -> None:
        # Flushed first, or the child's copy of a half-written buffer could be written again.
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _serve_forked(read_fd, write_fd, memory_mb)  # never returns
        self.pid = pid
        self.returncode: int | None = None
        _forked_pids.add(pid)
        try:
            os.setpgid(pid, pid)  # as the child does: whichever runs first, a kill finds the group
        except OSError:  # the child did it already, or has ended
            pass

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def _reap(self, options: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, options)
        except ChildProcessError:  # reaped elsewhere: its status is lost, as Popen has it
            pid, status = self.pid, 0
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)
            _forked_pids.discard(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None and self.returncode is None:
            self._reap(0)  # returns once the worker has ended
        deadline = time.monotonic() + (timeout or 0.0)
        delay = 0.0005
        while (code := self.poll()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"textlayer worker {self.pid}", timeout or 0.0)
            time.sleep(min(delay, left))
            delay = min(2 * delay, 0.05)
        return code


def _serve_forked(read_fd: int, write_fd: int, memory_mb: int) -> None:
    """The forked child: set itself apart from the parent, then serve as a worker until told to stop."""
    # The parent's objects are never collected here: no finalizer of the parent's runs in the child.
    gc.freeze()
    try:
        os.setpgid(0, 0)
        # The signal handling of a fresh interpreter, not the parent's (a server's SIGTERM handler).
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        keep = sorted({0, 1, 2, read_fd, write_fd})
        for low, high in itertools.pairwise([*keep, os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)
        os.environ.update(_WORKER_ENV)
        # Imported here, not with this module: ``python -m textlayer.worker`` (a spawned worker)
        # must find it not yet imported when the package's import brings this module in.
        from textlayer.worker import main

        main([str(read_fd), str(write_fd), str(memory_mb)])  # ends the process when asked to stop
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(1)


class _Worker:
    """One worker process and its two pipes: forked from this process where that is safe
    (``_can_fork``), else a fresh ``python -m textlayer.worker``."""

    def __init__(self, memory_mb: int, fork: bool = False) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.proc: subprocess.Popen[bytes] | _Forked
        if fork:
            self.proc = _Forked(to_child_r, from_child_w, memory_mb)
        else:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "textlayer.worker",
                    str(to_child_r),
                    str(from_child_w),
                    str(memory_mb),
                ],
                pass_fds=(to_child_r, from_child_w),
                env={**os.environ, **_WORKER_ENV},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout belongs to the CLI's JSON Lines
                process_group=0,  # so a kill also takes the tesseract it started
            )
        os.close(to_child_r)
        os.close(from_child_w)
        self.tx = Connection(to_child_w, readable=False)
        self.rx = Connection(from_child_r, writable=False)
        self.task: _Task | None = None
        self.deadline = 0.0
        self.ready = False  # set by the worker's first message, once its imports are done

    def await_ready(self) -> None:
        """Block until the worker has started; a worker that cannot start is a system fault."""
        if self.ready:
            return
        try:
            if not self.rx.poll(_BOOT_TIMEOUT):
                raise TimeoutError
            message = self.rx.recv()
        except (EOFError, OSError, TimeoutError) as error:
            self.kill()
            raise WorkerStartFailed(
                "the text-layer worker process did not start (see its stderr)",
                exit_status=self.proc.returncode,
            ) from error
        self.ready = message[0] == "ready"

    def submit(self, task: _Task, budget_end: float = float("inf")) -> None:
        self.task = task
        self.deadline = min(time.monotonic() + task.timeout, budget_end)
        self.tx.send((task.seq, task.kind, task.args))

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._close_pipes()

    def stop(self) -> None:
        if self.ask_to_stop():
            self.await_stop()

    def ask_to_stop(self) -> bool:
        """Ask the worker to exit; one that cannot be asked is killed at once (False)."""
        try:
            self.tx.send(None)
        except OSError:
            self.kill()
            return False
        return True

    def await_stop(self) -> None:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._close_pipes()

    def _close_pipes(self) -> None:
        for conn in (self.tx, self.rx):
            try:
                conn.close()
            except OSError:
                pass


@dataclass(order=True, slots=True)
class _Task:
    job: int  # earlier files first, so documents come out in order with little waiting
    page: int  # 0 = parse
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    timeout: float = field(compare=False)


@dataclass(slots=True)
class _Job:
    index: int
    name: str
    source: Source
    ocr: OCRMode
    parsed: ParseResult | None = None
    pages: dict[int, Page] = field(default_factory=dict)
    page_errors: dict[int, TextLayerError] = field(default_factory=dict)
    pending: int = 0
    error: TextLayerError | None = None
    temp: Path | None = None
    done: bool = False
    started: float | None = None  # when its first task went to a worker (the budget's start)

    def outcome(self) -> Document | TextLayerError:
        if self.error is not None:
            return self.error
        assert self.parsed is not None
        if self.page_errors and not self.pages:
            # Nothing of the file could be read: the first failure is the document's error.
            return self.page_errors[min(self.page_errors)]
        notes = list(self.parsed.notes)
        pages = dict(self.pages)
        for number, error in sorted(self.page_errors.items()):
            notes.append(f"[{error.code}] page {number}: {error.message}")
            width, height = self.parsed.sizes.get(number, (0.0, 0.0))
            pages[number] = empty_page(number, width, height, self.parsed.unit)
        return Document(pages=[pages[n] for n in sorted(pages)], source=self.name, errors=notes)


def _name_and_source(item: SourceLike, index: int, name: str = "") -> tuple[str, Source]:
    if isinstance(item, tuple):
        return item[0], item[1]
    if isinstance(item, bytes):
        return name or f"<bytes #{index + 1}>", item
    return name or str(item), str(item)


class TextLayerReader:
    """Turn PDFs and images into :class:`Document` trees, many at a time, on every core.

    Use one reader for a whole batch (``with TextLayerReader() as reader: ...``): worker
    processes start once and stay warm. ``read_many`` yields in input order; a file that cannot
    be read yields its :class:`TextLayerError` instead of stopping the batch.
    """

    def __init__(
        self,
        config: TextLayerConfig | None = None,
        *,
        in_process: bool = False,
        cache: DocumentCache | None = None,
    ) -> None:
        self.config = config or TextLayerConfig()
        # Readings kept on disk by content and settings: a file read before is not read again.
        self.cache = cache
        # in_process runs tasks unguarded in this process: for debugging and profiling only.
        self.in_process = in_process
        self._workers: list[_Worker] = []
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._busy = False
        self._seq = itertools.count()
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._finalizer = weakref.finalize(self, TextLayerReader._shutdown, self._workers)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> TextLayerReader:
        return self

    def start(self, tasks: int | None = None) -> TextLayerReader:
        """Start the workers now, without waiting for them: they import their libraries while the
        caller loads its models, instead of after. ``tasks``: how many files are coming, so no
        more workers boot than have work (each costs a process's imports); more start later if
        more tasks queue up (the pages of a scan to OCR)."""
        if not self.in_process:
            self._ensure_workers(tasks)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._shutdown(self._workers)
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    @staticmethod
    def _shutdown(workers: list[_Worker]) -> None:
        # All are asked first, so they wind down side by side rather than one after another.
        stopping = list(reversed(workers))
        workers.clear()
        asked = [worker for worker in stopping if worker.ask_to_stop()]
        for worker in asked:
            worker.await_stop()

    def _ensure_workers(self, tasks: int | None = None) -> None:
        """At least one worker per task (``None``: as many as allowed), up to the configured count."""
        if self._pid != os.getpid():
            # A forked child must not talk to its parent's workers: start its own.
            self._workers.clear()
            self._pid = os.getpid()
        wanted = self.config.worker_count if tasks is None else min(max(tasks, 1), self.config.worker_count)
        while len(self._workers) < wanted:
            self._workers.append(self._new_worker())

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers[self._workers.index(worker)] = self._new_worker()

    def _new_worker(self) -> _Worker:
        return _Worker(self.config.memory_limit_mb, fork=_can_fork(self.config))

    # -- public API --------------------------------------------------------------------------

    def read(self, source: SourceLike, *, name: str = "", ocr: OCRMode = "auto") -> Document:
        """Read one file; raises its :class:`TextLayerError` when it cannot be read."""
        with self._lock:
            item: SourceLike = source
            if name and not isinstance(source, tuple):
                item = (name, source if isinstance(source, bytes) else str(source))
            [result] = list(self.read_many([item], ocr=ocr))
        if isinstance(result, TextLayerError):
            raise result
        return result

    def read_many(
        self, sources: Iterable[SourceLike], *, ocr: OCRMode = "auto"
    ) -> Iterator[Document | TextLayerError]:
        """Yield one Document or TextLayerError per source, in input order.

        A source is a path, the file's bytes, or a ``(name, bytes)`` pair.
        """
        if self._busy:
            raise RuntimeError("this TextLayerReader is already reading; use one reader per thread")
        self._busy = True
        try:
            if self.cache is not None:
                yield from self._read_cached(self.cache, sources, ocr)
            else:
                yield from self._read(sources, ocr)
        finally:
            self._busy = False

    def _read(self, sources: Iterable[SourceLike], ocr: OCRMode) -> Iterator[Document | TextLayerError]:
        if self.in_process:
            return self._read_in_process(sources, ocr)
        return self._schedule(sources, ocr)

    def _read_cached(
        self, cache: DocumentCache, sources: Iterable[SourceLike], ocr: OCRMode
    ) -> Iterator[Document | TextLayerError]:
        """Cached readings where there are, the rest read as usual; all in input order."""
        from textlayer import TEXT_LAYER_VERSION

        settings = settings_key(self.config, ocr, TEXT_LAYER_VERSION)
        items: list[tuple[str, bytes]] = []
        for index, item in enumerate(sources):
            name, source = _name_and_source(item, index)
            items.append((name, source if isinstance(source, bytes) else Path(source).read_bytes()))
        keys = [cache.key(data, settings) for _, data in items]
        found = [cache.lookup(key) for key in keys]
        misses = [i for i, document in enumerate(found) if document is None]
        read = self._read([items[i] for i in misses], ocr)
        for index, (name, _) in enumerate(items):
            document = found[index]
            if document is None:
                outcome = next(read)
                if isinstance(outcome, Document):
                    cache.put(keys[index], outcome)
                yield outcome
            else:
                document.source = name
                yield document

    # -- scheduling --------------------------------------------------------------------------

    def _read_in_process(
        self, sources: Iterable[SourceLike], ocr: OCRMode
    ) -> Iterator[Document | TextLayerError]:
        from textlayer.worker import run_task

        for index, item in enumerate(sources):
            name, source = _name_and_source(item, index)
            job = _Job(index=index, name=name, source=source, ocr=ocr)
            try:
                job.parsed = run_task("parse", (source, name, ocr, self.config))
            except TextLayerError as error:
                yield error.for_source(name)
                continue
            job.pages.update(job.parsed.pages)
            for number in job.parsed.ocr_pages:
                try:
                    job.pages[number] = run_task("ocr", (job.parsed.kind, source, name, number, self.config))
                except TextLayerError as error:
                    job.page_errors[number] = error.for_source(name)
            yield job.outcome()

    def _schedule(self, sources: Iterable[SourceLike], ocr: OCRMode) -> Iterator[Document | TextLayerError]:
        self._ensure_workers(1)
        cfg = self.config
        window = max(4, 4 * len(self._workers))
        pending_sources = enumerate(sources)
        exhausted = False
        jobs: dict[int, _Job] = {}
        queue: list[_Task] = []
        next_out = 0
        try:
            while True:
                while not exhausted and len(jobs) < window:
                    try:
                        index, item = next(pending_sources)
                    except StopIteration:
                        exhausted = True
                        break
                    name, source = _name_and_source(item, index)
                    jobs[index] = _Job(index=index, name=name, source=source, ocr=ocr)
                    jobs[index].pending = 1
                    parse_args = (source, name, ocr, cfg)
                    parse_task = _Task(index, 0, next(self._seq), "parse", parse_args, cfg.parse_timeout)
                    heapq.heappush(queue, parse_task)
                # One worker per task waiting or running, up to the configured count.
                self._ensure_workers(len(queue) + sum(w.task is not None for w in self._workers))
                # Hand out work before yielding, so the workers keep going while the caller
                # handles the document it gets.
                for slot, worker in enumerate(list(self._workers)):
                    if worker.task is None and queue:
                        next_task = heapq.heappop(queue)
                        worker.await_ready()
                        try:
                            worker.submit(next_task, self._budget_end(jobs[next_task.job]))
                        except OSError:  # it died while idle: requeue on a fresh worker
                            heapq.heappush(queue, next_task)
                            worker.task = None
                            self._replace(worker)
                            self._workers[slot].await_ready()
                            retry = heapq.heappop(queue)
                            self._workers[slot].submit(retry, self._budget_end(jobs[retry.job]))
                while next_out in jobs and jobs[next_out].done:
                    job = jobs.pop(next_out)
                    self._drop_temp(job)
                    next_out += 1
                    yield job.outcome()
                if exhausted and not jobs:
                    return
                busy = [w for w in self._workers if w.task is not None]
                if not busy:
                    if next_out in jobs and not jobs[next_out].done:
                        # Its pending tasks are neither queued nor running: a scheduler bug.
                        raise RuntimeError("text-layer scheduler stalled with unfinished documents")
                    continue
                timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                ready = wait([w.rx for w in busy], timeout=timeout)
                now = time.monotonic()
                for worker in busy:
                    task = worker.task
                    if task is None:  # stopped above with the rest of an over-budget document
                        continue
                    if worker.rx in ready:
                        try:
                            seq, ok, value = worker.rx.recv()
                        except (EOFError, OSError):
                            code = worker.proc.poll()
                            self._replace(worker)
                            value = ResourceLimit(
                                f"the worker reading this file died (exit status {code}); "
                                "it likely ran over the memory limit",
                                source=jobs[task.job].name,
                            )
                            ok, seq = False, task.seq
                        worker.task = None
                        if seq == task.seq:
                            self._finish(jobs[task.job], task, ok, value, queue)
                    elif now >= worker.deadline:
                        self._replace(worker)
                        job = jobs[task.job]
                        if now >= self._budget_end(job):
                            self._over_budget(job, queue)
                            continue
                        what = "parsing" if task.page == 0 else f"OCR of page {task.page}"
                        error = ResourceLimit(f"gave up after {task.timeout:.0f}s ({what})", source=job.name)
                        self._finish(job, task, False, error, queue)
        finally:
            # Abandoned mid-batch: workers still busy on this batch's tasks are replaced so the
            # next batch does not receive stale answers.
            for worker in list(self._workers):
                if worker.task is not None:
                    self._replace(worker)
            for job in jobs.values():
                self._drop_temp(job)

    def _budget_end(self, job: _Job) -> float:
        """When the document's time budget runs out (it starts with its first task)."""
        if job.started is None:
            job.started = time.monotonic()
        return job.started + self.config.document_timeout

    def _over_budget(self, job: _Job, queue: list[_Task]) -> None:
        """Fail the whole document (E210): drop its queued tasks, stop its running ones."""
        queue[:] = [task for task in queue if task.job != job.index]
        heapq.heapify(queue)
        for worker in list(self._workers):
            if worker.task is not None and worker.task.job == job.index:
                worker.task = None
                self._replace(worker)
        job.pending = 0
        job.error = TimeBudgetExceeded(
            f"reading took longer than the document time budget of {self.config.document_timeout:.0f}s",
            source=job.name,
            budget_seconds=self.config.document_timeout,
        )
        job.done = True

    def _finish(self, job: _Job, task: _Task, ok: bool, value: Any, queue: list[_Task]) -> None:
        job.pending -= 1
        if not ok:
            value = value.for_source(job.name)
        if task.page == 0:
            if not ok:
                job.error = value
            else:
                job.parsed = value
                job.pages.update(value.pages)
                ocr_source = self._ocr_source(job) if value.ocr_pages else job.source
                for number in value.ocr_pages:
                    job.pending += 1
                    heapq.heappush(
                        queue,
                        _Task(
                            job.index,
                            number,
                            next(self._seq),
                            "ocr",
                            (value.kind, ocr_source, job.name, number, self.config),
                            self.config.ocr_timeout,
                        ),
                    )
        elif ok:
            job.pages[task.page] = value
        else:
            job.page_errors[task.page] = value
        job.done = job.pending == 0

    def _ocr_source(self, job: _Job) -> Source:
        """OCR tasks get a path: a scan's bytes are not copied to a worker once per page."""
        if isinstance(job.source, str):
            return job.source
        if self._tempdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="ledgerbot-textlayer-")
        job.temp = Path(self._tempdir.name) / f"{job.index}-{os.getpid()}-{next(self._seq)}"
        job.temp.write_bytes(job.source)
        return str(job.temp)

    @staticmethod
    def _drop_temp(job: _Job) -> None:
        if job.temp is not None:
            job.temp.unlink(missing_ok=True)
            job.temp = None


_default_reader: TextLayerReader | None = None
_default_lock = threading.Lock()


def default_reader() -> TextLayerReader:
    """The process-wide reader behind :func:`read_document`, started on first use."""
    global _default_reader
    with _default_lock:
        if _default_reader is None:
            _default_reader = TextLayerReader()
            atexit.register(_default_reader.close)
        return _default_reader


def read_document(
    source: Path | bytes, *, name: str = "", ocr: OCRMode = "auto", config: TextLayerConfig | None = None
) -> Document:
    """Read one PDF or image into a :class:`Document`; raises a :class:`TextLayerError`.

    For many files use :class:`TextLayerReader` (``read_many``) so they run in parallel.
    """
    if config is not None:
        with TextLayerReader(config) as reader:
            return reader.read(source, name=name, ocr=ocr)
    return default_reader().read(source, name=name, ocr=ocr)
