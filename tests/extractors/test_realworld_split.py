"""The real-world split is stable and puts documents on both sides."""

from __future__ import annotations

from extractors.realworld import realworld_split


def test_split_depends_only_on_the_stem() -> None:
    assert realworld_split("a/b/000.jpg") == realworld_split("000") == realworld_split("000.boxes.csv")


def test_split_is_roughly_even_over_many_stems() -> None:
    sides = [realworld_split(f"{n:03d}") for n in range(400)]
    assert 150 < sides.count("dev") < 250
    assert set(sides) == {"dev", "val"}
