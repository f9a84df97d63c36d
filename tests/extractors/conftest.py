"""Fixtures shared by the tests in tests/extractors/ (each area prefixes its fixture names)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from extractors.generic import GenericExtractor
from textlayer import TextLayerConfig, TextLayerReader


@pytest.fixture(scope="module")
def textlayer_reader() -> Iterator[TextLayerReader]:
    """One warm reader (two guarded worker processes) per test module."""
    with TextLayerReader(TextLayerConfig(workers=2)) as reader:
        yield reader


@pytest.fixture(scope="module")
def extractor() -> GenericExtractor:
    """The generic extractor with its shipped ranker, one per test module."""
    return GenericExtractor()
