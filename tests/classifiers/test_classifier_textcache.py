from __future__ import annotations

import random
from pathlib import Path

import pytest
from classifier_corpus_gen import make_document

from classifiers.textcache import TextLayerCache, document_from_dict, document_to_dict, file_sha256
from ledgerbot.core.domain import DocType
from textlayer.model import Document


def test_document_round_trips_through_json() -> None:
    doc = make_document(DocType.INVOICE, random.Random(1), layout=2, scanned=True)
    again = document_from_dict(document_to_dict(doc))
    assert again.text == doc.text
    assert again.pages[0].source == "ocr"
    assert [w.bbox for w in again.pages[0].words] == [w.bbox for w in doc.pages[0].words]
    assert [w.size for w in again.pages[0].words] == [w.size for w in doc.pages[0].words]


def test_reader_runs_once_per_file_content_and_again_for_another_reader(tmp_path: Path) -> None:
    calls: list[Path] = []
    doc = make_document(DocType.DELIVERY_NOTE, random.Random(2))

    def reader(path: Path) -> Document:
        calls.append(path)
        return doc

    a = tmp_path / "a.pdf"
    a.write_bytes(b"%PDF same bytes")
    b = tmp_path / "b.pdf"
    b.write_bytes(b"%PDF same bytes")
    cache = TextLayerCache(tmp_path / "cache", reader, "r1")
    assert cache.get(a).text == doc.text
    assert cache.get(b).text == doc.text  # same sha256: served from the cache
    assert calls == [a]
    assert cache.lookup(file_sha256(a)) is not None
    TextLayerCache(tmp_path / "cache", reader, "r2").get(a)
    assert calls == [a, a]


def test_a_torn_cache_entry_is_read_again(tmp_path: Path) -> None:
    doc = make_document(DocType.OTHER, random.Random(4))
    f = tmp_path / "x.png"
    f.write_bytes(b"png")
    cache = TextLayerCache(tmp_path / "cache", lambda _p: doc, "r")
    cache.get(f)
    entry = next((tmp_path / "cache").rglob("*.json"))
    entry.write_text('{"format": 1, "reader": "r", "docu')
    assert cache.lookup(file_sha256(f)) is None
    assert cache.get(f).text == doc.text


def test_the_product_reader_keys_the_cache_with_the_text_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    import textlayer as textlayer
    from classifiers.corpus import default_reader

    _, name, _ = default_reader()
    assert name == f"textlayer@{textlayer.TEXT_LAYER_VERSION}"
    # A new OCR reading is a new reader name, so entries made by the old one are misses.
    monkeypatch.setattr(textlayer, "TEXT_LAYER_VERSION", "older")
    assert default_reader()[1] != name
