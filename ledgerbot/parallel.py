"""Run one function over a batch's documents in forked copies of this process.

The pipeline loads its stages and models once; a forked child shares them copy-on-write, so
extracting a batch's documents on every core costs no second import or model load. Each child
takes a share of the items balanced by their expected cost and sends back its results with the
CPU seconds each took. The parent extracts its own share meanwhile. An item a child could not
return (the child died, or its result did not pickle) is extracted again in the parent, so a
broken child costs time, never a document.

Forking needs ``os.fork`` (POSIX); elsewhere, or with one process, everything runs here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
    # Imported here: a batch of one document, the common case of a worker's job, never forks.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    groups = shares(weights if weights is not None else [1.0] * len(items), processes)
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
