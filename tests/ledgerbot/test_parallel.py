"""Extraction of a batch's documents in forked copies of the process."""

from __future__ import annotations

import os

import pytest

from ledgerbot.parallel import fork_map, shares


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
