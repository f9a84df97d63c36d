"""Extraction of a batch's documents in forked copies of the process, and work handed to one
forked child while the process goes on."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ledgerbot.parallel import ForkedCall, ForkedTask, fork_map, shares
from tests.fresh import in_fresh_process


def test_shares_balance_the_weights_and_keep_input_order() -> None:
    groups = shares([5.0, 1.0, 1.0, 1.0, 1.0, 1.0], 2)
    assert sorted(k for group in groups for k in group) == list(range(6))
    assert [0] in groups  # the heavy item alone balances the five light ones
    assert all(group == sorted(group) for group in groups)


def test_results_come_back_in_order_from_several_processes() -> None:
    items = list(range(12))
    out = fork_map(lambda n: (n * n, os.getpid()), items, processes=3)
    assert [value for (value, _), _ in out] == [n * n for n in items]
    pids = {pid for (_, pid), _ in out}
    assert os.getpid() in pids and len(pids) >= 2  # this process and at least one child
    assert all(seconds >= 0.0 for _, seconds in out)


def test_one_process_runs_everything_here() -> None:
    out = fork_map(lambda n: os.getpid(), [1, 2, 3], processes=1)
    assert {pid for pid, _ in out} == {os.getpid()}


def test_an_item_a_child_could_not_return_is_done_again_here() -> None:
    parent = os.getpid()

    def dies_in_a_child(n: int) -> int:
        if os.getpid() != parent:
            os._exit(3)  # the child is killed mid-batch
        return n + 1

    out = fork_map(dies_in_a_child, list(range(6)), processes=2)
    assert [value for value, _ in out] == [1, 2, 3, 4, 5, 6]


def test_an_error_of_the_function_reaches_the_caller() -> None:
    def fails_on_four(n: int) -> int:
        if n == 4:
            raise ValueError("four")
        return n

    with pytest.raises(ValueError, match="four"):
        fork_map(fails_on_four, list(range(6)), processes=2)


def _pid_of(n: int) -> tuple[int, int]:
    return n * 10, os.getpid()


@in_fresh_process
def test_a_forked_call_runs_in_a_child_while_this_process_goes_on() -> None:
    call = ForkedCall(_pid_of, [1, 2, 3])
    assert call.forked
    out = call.results()
    assert [value for (value, _), _ in out] == [10, 20, 30]
    assert {pid for (_, pid), _ in out} - {os.getpid()}  # computed in the child
    assert all(seconds >= 0.0 for _, seconds in out)


@in_fresh_process
def test_what_a_forked_call_could_not_send_back_is_computed_here() -> None:
    parent = os.getpid()

    def dies_in_the_child(n: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return n + 1

    assert [value for value, _ in ForkedCall(dies_in_the_child, [1, 2]).results()] == [2, 3]
    # A result that does not pickle (a lambda) comes from this process instead.
    out = ForkedCall(lambda n: (lambda: n, os.getpid()), [5]).results()
    assert out[0][0][0]() == 5 and out[0][0][1] == parent


def test_a_process_with_a_second_thread_never_forks() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        call = ForkedCall(_pid_of, [1])
        task = ForkedTask(os.getpid, lambda prepared, request: prepared)
    finally:
        release.set()
        thread.join()
    assert not call.forked and call.results()[0][0] == (10, os.getpid())
    assert not task.forked and not task.send([1]) and task.result() is None


@in_fresh_process
def test_a_forked_task_prepares_at_once_and_answers_the_request_it_is_sent() -> None:
    task = ForkedTask(os.getpid, lambda child, request: (child, [n * 2 for n in request]))
    assert task.forked and task.send([1, 2])
    answer = task.result()
    assert answer is not None
    (child, doubled), seconds = answer
    assert child != os.getpid() and doubled == [2, 4] and seconds >= 0.0
    assert task.result() is None  # one answer only


@in_fresh_process
def test_a_forked_task_that_fails_or_is_never_asked_gives_no_answer() -> None:
    def fails(prepared: object, request: object) -> object:
        raise ValueError("broken model")

    failing = ForkedTask(lambda: None, fails)
    assert failing.send("x") and failing.result() is None
    dying = ForkedTask(lambda: os._exit(4), lambda prepared, request: request)
    dying.send("x")  # it may already be gone
    assert dying.result() is None
    unasked = ForkedTask(lambda: None, lambda prepared, request: request)
    assert unasked.result() is None  # returns at once: the child ends when it is not asked


@in_fresh_process
def test_a_forked_call_or_task_given_up_on_leaves_no_child_behind() -> None:
    def slow(n: int) -> int:
        time.sleep(60)
        return n

    call = ForkedCall(slow, [1])
    task = ForkedTask(lambda: time.sleep(60), lambda prepared, request: request)
    waiting = ForkedTask(lambda: None, lambda prepared, request: request)  # never sent its request
    pids = [child.pid for child in (call, task, waiting)]
    assert all(pids)
    started = time.monotonic()
    for child in (call, task, waiting):
        child.close()
        child.close()  # once is enough
        assert child.pid is None
    assert time.monotonic() - started < 10
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no longer this process's child
