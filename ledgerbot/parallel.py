"""Run one function over a batch's documents in forked copies of this process.

The pipeline loads its stages and models once; a forked child shares them copy-on-write, so
extracting a batch's documents on every core costs no second import or model load. Each child
takes a share of the items balanced by their expected cost and sends back its results with the
CPU seconds each took. The parent extracts its own share meanwhile. An item a child could not
return (the child died, or its result did not pickle) is extracted again in the parent, so a
broken child costs time, never a document.

``ForkedCall`` runs one function over a few items in a single forked child while this process
goes on with other work (the pipeline parses a batch's e-invoices there while it loads its
models), and takes the results when they are needed.

Forking needs ``os.fork`` (POSIX); elsewhere, or with one process, everything runs here.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from concurrent.futures import Future

# What the children run, set just before they are forked and cleared after: a forked child
# inherits it, so neither the function nor its loaded models are ever pickled.
_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def shares(weights: Sequence[float], parts: int) -> list[list[int]]:
    """Item indices in ``parts`` groups of about equal weight (heaviest first, each to the
    lightest group so far); every group keeps its items in input order."""
    groups: list[list[int]] = [[] for _ in range(parts)]
    loads = [0.0] * parts
    for index in sorted(range(len(weights)), key=lambda k: -weights[k]):
        lightest = loads.index(min(loads))
        groups[lightest].append(index)
        loads[lightest] += max(weights[index], 0.0)
    return [sorted(group) for group in groups]


def fork_map(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    weights: Sequence[float] | None = None,
    processes: int = 1,
) -> list[tuple[Any, float]]:
    """``(function(item), CPU seconds)`` for each item, in input order, over up to ``processes``
    processes (this one included). ``function`` raising ends the call with its error, as it
    would without forking: the caller's function catches what one item may raise."""
    processes = min(processes, len(items))
    if processes <= 1 or not hasattr(os, "fork"):
        return [_timed(function, item) for item in items]
    groups = shares(weights if weights is not None else [1.0] * len(items), processes)
    if threading.active_count() == 1:
        # A plain fork per share: a few milliseconds less than a pool, which starts a thread
        # and a queue of its own.
        calls = [ForkedCall(lambda index: function(items[index]), group) for group in groups[1:]]
        out: list[tuple[Any, float] | None] = [None] * len(items)
        try:
            for index in groups[0]:
                out[index] = _timed(function, items[index])
            for call, group in zip(calls, groups[1:], strict=True):
                for index, done in zip(group, call.results(), strict=True):
                    out[index] = done
        finally:
            for call in calls:  # the function raised here: no child outlives the call
                call.close()
        return [done for done in out if done is not None]
    return _pool_map(function, items, groups)


def _pool_map(
    function: Callable[[Any], Any], items: Sequence[Any], groups: list[list[int]]
) -> list[tuple[Any, float]]:
    """``fork_map`` in a process with other threads: a pool forks its children and talks to them
    from a thread of its own."""
    # Imported here: a batch of one document, the common case of a worker's job, never forks.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    own, theirs = groups[0], groups[1:]
    global _JOB
    _JOB = (function, items)
    out: list[tuple[Any, float] | None] = [None] * len(items)
    try:
        with ProcessPoolExecutor(len(theirs), mp_context=multiprocessing.get_context("fork")) as pool:
            futures: list[tuple[list[int], Future[list[tuple[Any, float]]]]] = [
                (group, pool.submit(_run_share, group)) for group in theirs
            ]
            for index in own:
                out[index] = _timed(function, items[index])
            for group, future in futures:
                try:
                    for index, done in zip(group, future.result(), strict=True):
                        out[index] = done
                except Exception:  # the child died or its result did not come back whole
                    continue
    finally:
        _JOB = None
    return [done if done is not None else _timed(function, items[k]) for k, done in enumerate(out)]


def _run_share(indices: list[int]) -> list[tuple[Any, float]]:
    """In a forked child: the items at ``indices`` of the job it inherited."""
    assert _JOB is not None, "fork_map's children are forked, never spawned"
    function, items = _JOB
    return [_timed(function, items[index]) for index in indices]


def _timed(function: Callable[[Any], Any], item: Any) -> tuple[Any, float]:
    started = time.thread_time()
    result = function(item)
    return result, time.thread_time() - started


class _Child:
    """What ``ForkedCall`` and ``ForkedTask`` tell of their child."""

    _pid: int | None = None

    @property
    def forked(self) -> bool:
        """Whether a child is doing the work (else the caller's process does it)."""
        return self._pid is not None

    @property
    def pid(self) -> int | None:
        """The child's process id until what it computed is taken (or given up on)."""
        return self._pid


class ForkedCall(_Child):
    """``function`` over ``items`` in one forked child, started now; ``results`` takes them.

    The child inherits the function and what it uses (no pickling on the way in) and sends back
    ``(result, CPU seconds)`` per item, pickled, through a pipe. It is forked only from a process
    with one thread (a fork copies the locks other threads hold) and where ``os.fork`` exists;
    otherwise, and for whatever the child could not send back whole (it died, a result did not
    pickle), ``results`` runs the function here, so a broken child costs time, never an item.
    """

    def __init__(self, function: Callable[[Any], Any], items: Sequence[Any]) -> None:
        self._function = function
        self._items = list(items)
        self._pid: int | None = None
        self._pipe: int | None = None
        if not self._items or not hasattr(os, "fork") or threading.active_count() > 1:
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _serve_call(read_end, write_end, function, self._items)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def results(self) -> list[tuple[Any, float]]:
        """``(function(item), CPU seconds)`` for each item, in input order (waits for the child)."""
        out: list[tuple[Any, float]] | None = None
        if self._pid is not None and self._pipe is not None:
            loaded = _collect(self._pid, self._pipe)
            self._pid = self._pipe = None
            if isinstance(loaded, list) and len(loaded) == len(self._items):
                out = loaded
        if out is None:
            out = [_timed(self._function, item) for item in self._items]
        return out

    def close(self) -> None:
        """Give up on the results: the child, if still there, is stopped and reaped."""
        if self._pid is not None and self._pipe is not None:
            _abandon(self._pid, self._pipe)
            self._pid = self._pipe = None


def _abandon(pid: int, *pipe_ends: int) -> None:
    for end in pipe_ends:
        os.close(end)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it has ended already
        pass
    os.waitpid(pid, 0)


def _collect(pid: int, pipe_end: int) -> Any:
    """What a forked child wrote, unpickled, once it has ended; ``None`` if it wrote nothing whole."""
    with open(pipe_end, "rb", closefd=True) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        return pickle.loads(data) if data else None
    except Exception:  # cut short: the child died while writing
        return None


def _serve_call(read_end: int, write_end: int, function: Callable[[Any], Any], items: list[Any]) -> NoReturn:
    """In the child of ``ForkedCall``: compute, write the pickled results, and end without running
    the parent's exit handlers or flushing its buffers (``os._exit``)."""
    code = 1
    try:
        gc.disable()  # short-lived: a collection would only touch (and copy) the parent's pages
        os.close(read_end)
        try:
            data = pickle.dumps([_timed(function, item) for item in items], protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data = b""  # the parent computes them itself
        with open(write_end, "wb", closefd=True) as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)


class ForkedTask(_Child):
    """``finish(prepare(), request)`` in one forked child: ``prepare`` runs at once (a model loads
    beside this process's own work), ``finish`` once ``send`` hands over the request.

    Forked, like ``ForkedCall``, only from a process with one thread where ``os.fork`` exists;
    ``result`` is ``None`` when there is no child or it could not answer (it died, or what it
    returned did not pickle): the caller then does the work itself.
    """

    def __init__(self, prepare: Callable[[], Any], finish: Callable[[Any, Any], Any]) -> None:
        self._pid: int | None = None
        self._to_child: int | None = None
        self._from_child: int | None = None
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(request_w)
            os.close(answer_r)
            _serve_task(request_r, answer_w, prepare, finish)
        os.close(request_r)
        os.close(answer_w)
        self._pid, self._to_child, self._from_child = pid, request_w, answer_r

    def send(self, request: Any) -> bool:
        """Hand the child its request (once); false when it is gone or the request does not pickle."""
        if self._to_child is None:
            return False
        try:
            data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
            with open(self._to_child, "wb", closefd=True) as pipe:
                self._to_child = None
                pipe.write(data)
        except Exception:  # BrokenPipeError (it died), or something that does not pickle
            return False
        return True

    def result(self) -> tuple[Any, float] | None:
        """``(finish's answer, its CPU seconds)``; ``None`` when the child could not give one."""
        if self._pid is None or self._from_child is None:
            return None
        if self._to_child is not None:  # never sent: the child ends without answering
            os.close(self._to_child)
            self._to_child = None
        answer = _collect(self._pid, self._from_child)
        self._pid = self._from_child = None
        return answer if isinstance(answer, tuple) and len(answer) == 2 else None

    def close(self) -> None:
        """Give up on the answer: the child, if still there, is stopped and reaped."""
        if self._pid is not None and self._from_child is not None:
            ends = [self._from_child] if self._to_child is None else [self._from_child, self._to_child]
            _abandon(self._pid, *ends)
            self._pid = self._from_child = self._to_child = None


def _serve_task(
    request_r: int, answer_w: int, prepare: Callable[[], Any], finish: Callable[[Any, Any], Any]
) -> NoReturn:
    """In the child of ``ForkedTask``: prepare, wait for the request, answer, end (``os._exit``)."""
    code = 1
    try:
        gc.disable()  # short-lived: a collection would only touch (and copy) the parent's pages
        prepared = prepare()
        with open(request_r, "rb", closefd=True) as pipe:
            data = pipe.read()
        data_out = b""
        if data:
            started = time.thread_time()
            try:
                answer = finish(prepared, pickle.loads(data))
                data_out = pickle.dumps((answer, time.thread_time() - started), pickle.HIGHEST_PROTOCOL)
            except Exception:
                data_out = b""  # the parent does the work itself
        with open(answer_w, "wb", closefd=True) as pipe:
            pipe.write(data_out)
        code = 0
    finally:
        os._exit(code)
