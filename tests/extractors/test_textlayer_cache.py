"""The text-layer cache: a file read before under the same settings is not read again."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textlayer_docs import invoice_lines, pdf_bytes, truncated_pdf

import textlayer
from textlayer import Document, TextLayerConfig, TextLayerError, TextLayerReader
from textlayer.cache import DocumentCache, document_to_dict
from textlayer.parsed import OCRMode


class CountingReader(TextLayerReader):
    """A reader in this process that counts the files it really reads."""

    def __init__(self, config: TextLayerConfig, cache: DocumentCache) -> None:
        super().__init__(config, in_process=True, cache=cache)
        self.read_names: list[str] = []

    def _read(self, sources: Iterable[object], ocr: OCRMode) -> Iterator[Document | TextLayerError]:
        items = list(sources)
        self.read_names += [str(item[0]) for item in items if isinstance(item, tuple)]
        return super()._read(items, ocr)  # type: ignore[arg-type]


def test_a_second_read_comes_from_the_cache_in_input_order(tmp_path: Path) -> None:
    first, second = pdf_bytes([invoice_lines(seed=3)]), pdf_bytes([invoice_lines(seed=4)])
    path = tmp_path / "second.pdf"
    path.write_bytes(second)
    cache = DocumentCache(tmp_path / "cache")
    reader = CountingReader(TextLayerConfig(), cache)
    fresh = list(reader.read_many([("a.pdf", first), path]))
    assert reader.read_names == ["a.pdf", str(path)]
    assert (cache.hits, cache.misses) == (0, 2)

    again = CountingReader(TextLayerConfig(), DocumentCache(tmp_path / "cache"))
    # The same content under another name and order: cached, named as asked, in the order asked.
    cached = list(again.read_many([path, ("b.pdf", first), ("c.pdf", pdf_bytes([invoice_lines(seed=5)]))]))
    assert again.read_names == ["c.pdf"]
    assert again.cache is not None and (again.cache.hits, again.cache.misses) == (2, 1)
    assert [d.source for d in cached if isinstance(d, Document)] == [str(path), "b.pdf", "c.pdf"]
    for old, new in ((fresh[1], cached[0]), (fresh[0], cached[1])):
        assert isinstance(old, Document) and isinstance(new, Document)
        assert document_to_dict(new) | {"source": ""} == document_to_dict(old) | {"source": ""}


def test_other_ocr_settings_or_text_layer_version_are_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = pdf_bytes([invoice_lines(seed=6)])
    config = TextLayerConfig()
    CountingReader(config, DocumentCache(tmp_path)).read(data, name="x.pdf")

    slower = CountingReader(replace(config, ocr_timeout=999.0), DocumentCache(tmp_path))
    slower.read(data, name="x.pdf")
    assert slower.read_names == []  # a time limit does not change what is read

    other_psm = CountingReader(replace(config, psm=4), DocumentCache(tmp_path))
    other_psm.read(data, name="x.pdf")
    assert other_psm.read_names == ["x.pdf"]

    never = CountingReader(config, DocumentCache(tmp_path))
    never.read(data, name="x.pdf", ocr="never")
    assert never.read_names == ["x.pdf"]

    monkeypatch.setattr(textlayer, "TEXT_LAYER_VERSION", "older")
    newer_code = CountingReader(config, DocumentCache(tmp_path))
    newer_code.read(data, name="x.pdf")
    assert newer_code.read_names == ["x.pdf"]


def test_errors_and_documents_with_notes_are_not_kept(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path)
    reader = CountingReader(TextLayerConfig(), cache)
    [outcome] = list(reader.read_many([("broken.pdf", truncated_pdf())]))
    assert isinstance(outcome, TextLayerError)
    assert not cache.put("k", Document(pages=[], errors=["[E207] page 2: gave up after 180s"]))
    assert not list(tmp_path.rglob("*.json"))
    again = CountingReader(TextLayerConfig(), DocumentCache(tmp_path))
    list(again.read_many([("broken.pdf", truncated_pdf())]))
    assert again.read_names == ["broken.pdf"]


def test_a_torn_entry_is_read_again(tmp_path: Path) -> None:
    data = pdf_bytes([invoice_lines(seed=8)])
    CountingReader(TextLayerConfig(), DocumentCache(tmp_path)).read(data, name="x.pdf")
    [entry] = list(tmp_path.rglob("*.json"))
    entry.write_text('{"format": 1, "key"', encoding="utf-8")
    again = CountingReader(TextLayerConfig(), DocumentCache(tmp_path))
    assert again.read(data, name="x.pdf").pages
    assert again.read_names == ["x.pdf"]
