"""Classifier test fixtures: no network at all, and a tiny generated PDF corpus."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifiers.train import TrainReport, train_all
from classifiers.transformer import TransformerConfig

sys.path.insert(0, str(Path(__file__).parent))

_LOCAL = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection off this machine fails the test: models must load from local files only."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in _LOCAL:
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    yield


@pytest.fixture(scope="session")
def tiny_pdf_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from classifier_corpus_gen import write_pdf_corpus

    out = tmp_path_factory.mktemp("tiny-corpus")
    write_pdf_corpus(out, n_per_type=12, seed=11)
    return out


# Small enough to fine-tune in about a minute on a busy CPU, big enough to learn the tiny corpus.
TINY = TransformerConfig(max_length=64, batch_size=8, epochs=6, max_steps=30, learning_rate=3e-4, threads=1)


@pytest.fixture(scope="session")
def trained(tiny_pdf_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainReport, Path]:
    """Baseline, transformer and cascade trained once on the tiny corpus, for every slow test."""
    from classifier_corpus_gen import read_pdf

    models = tmp_path_factory.mktemp("models")
    report = train_all(
        [tiny_pdf_corpus],
        models,
        reader=read_pdf,
        reader_name="tests.read_pdf",
        cache_dir=models.parent / "cache",
        transformer_config=TINY,
        seed=0,
    )
    return report, models
