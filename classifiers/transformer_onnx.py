"""The fine-tuned MiniLM classifier at inference through onnxruntime and the Rust tokenizer, without torch.

Reading a document with the torch classifier (``transformer.py``) first imports torch and
transformers, about four seconds of a process's life, for a forward pass that takes a tenth of
that. Training therefore also writes the classifier as an ONNX graph into the transformer
artifact (``export``), beside the torch weights it was made from; ``load_transformer`` prefers
it, and the process then needs only onnxruntime (which RapidOCR already brings) and the
``tokenizers`` library that transformers' own fast tokenizer runs on. Before an export is
written, onnxruntime's logits are compared with torch's on probe documents, batched with
padding and alone, and an export that differs is refused; an artifact without the graph (one
trained before this module) still loads through torch, and ``ledgerbot models export-onnx``
adds the graph to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifiers.errors import ArtifactError
from classifiers.features import DocFeatures, document_from_text, extract_features
from classifiers.labels import LABELS
from classifiers.transformer import (
    CONFIG,
    WEIGHTS_DIR,
    TransformerClassifier,
    TransformerConfig,
    default_threads,
    softmax,
)

log = logging.getLogger(__name__)

GRAPH = "classifier.onnx"
GRAPH_META = "classifier.onnx.json"
TOKENIZER = "tokenizer.json"
# 17 is the newest opset whose attention and layer-norm ops the TorchScript exporter writes
# without decomposing them, and every onnxruntime since 1.15 runs it.
OPSET = 17
# The largest difference in any logit between onnxruntime and torch that an export may show.
# Float32 kernels that sum in another order differ by ~1e-6 per logit on MiniLM; a wrong graph
# (a mask traced as a constant, a dropped layer) differs by whole units.
LOGIT_TOLERANCE = 1e-3
RUNTIME_TORCH = "torch"
RUNTIME_ONNX = "onnxruntime"

# Probe documents for an export checked without a corpus at hand (``export`` on an existing
# artifact): of many lengths, so one batch holds padded rows and rows cut at ``max_length``.
_PROBE_TEXTS = (
    "INVOICE\nInvoice number 1001\nDate 2026-01-15\nTotal due 120.00 EUR",
    "CREDIT NOTE\nCredit for invoice 1001\nAmount -40.00",
    "Purchase Order\nPO 55\nItem Qty Price\nWidget 3 4.00\nGadget 1 9.50",
    "Statement of account\nOpening balance 0.00\n" + "Invoice 12 100.00\n" * 40,
    "Remittance advice\nPaid",
    "Delivery note\nShipped items\n" + "Part A 2 pcs\n" * 10,
)


class TransformerModel(Protocol):
    """A fine-tuned transformer as the cascade asks it: calibrated probabilities, and its runtime."""

    runtime: str
    temperature: float

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray: ...


@dataclass(frozen=True)
class ExportReport:
    graph: str  # path of the written graph
    max_logit_difference: float  # onnxruntime vs torch, over the probes
    probes: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "max_logit_difference": self.max_logit_difference,
            "probes": self.probes,
            "seconds": self.seconds,
        }


def has_graph(folder: Path) -> bool:
    """Whether the transformer artifact ``folder`` holds a checked ONNX graph."""
    weights = folder / WEIGHTS_DIR
    return all((weights / name).is_file() for name in (GRAPH, GRAPH_META, TOKENIZER))


def probe_features() -> list[DocFeatures]:
    return [extract_features(document_from_text(text)) for text in _PROBE_TEXTS]


def export(
    classifier: TransformerClassifier,
    folder: Path,
    probes: Sequence[DocFeatures] = (),
    *,
    tolerance: float = LOGIT_TOLERANCE,
) -> ExportReport:
    """Write ``classifier`` as an ONNX graph into the artifact ``folder``, checked against torch first.

    ``probes`` (default: built-in probe documents, always added) are run through both runtimes,
    as one padded batch and one by one; a logit that differs by more than ``tolerance`` refuses
    the export (``ArtifactError``) and nothing is written. The graph appears at once when complete.
    """
    import time

    started = time.perf_counter()
    weights = folder / WEIGHTS_DIR
    weights.mkdir(parents=True, exist_ok=True)
    if not (weights / TOKENIZER).is_file():
        raise ArtifactError(f"{weights} has no {TOKENIZER}: without torch only the fast tokenizer reads")
    features = [*probes, *probe_features()]
    fd, staging_name = tempfile.mkstemp(dir=weights, prefix=f".{GRAPH}.", suffix=".tmp")
    os.close(fd)
    staging = Path(staging_name)
    try:
        _trace(classifier, staging)
        onnx = OnnxTransformer.open(staging, weights / TOKENIZER, classifier.config, classifier.temperature)
        difference = _largest_difference(classifier, onnx, features)
        if not difference <= tolerance:
            raise ArtifactError(
                f"the ONNX export of {folder} differs from torch by {difference:.2e} in a logit "
                f"(tolerance {tolerance:.0e}); not written",
                difference=difference,
            )
        meta = {
            "opset": OPSET,
            "exporter": "torch.onnx (TorchScript)",
            "torch": _version("torch"),
            "onnxruntime": _version("onnxruntime"),
            "sha256": hashlib.sha256(staging.read_bytes()).hexdigest(),
            "max_logit_difference": difference,
            "probes": len(features),
            "tolerance": tolerance,
        }
        os.replace(staging, weights / GRAPH)
        (weights / GRAPH_META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    finally:
        staging.unlink(missing_ok=True)
    return ExportReport(
        str(weights / GRAPH), difference, len(features), round(time.perf_counter() - started, 2)
    )


def _version(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


def _trace(classifier: TransformerClassifier, path: Path) -> None:
    """The classifier (token ids and mask in, logits out) as an ONNX graph at ``path``.

    Traced with eager attention: the scaled-dot-product path decides from the mask's values
    whether to apply it at all, and a trace would keep that decision as a constant.
    """
    import torch

    model = classifier.model
    encoder = model.encoder
    previous = encoder.config._attn_implementation
    encoder.config._attn_implementation = "eager"
    was_training = model.training
    model.eval()
    sample = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter warns it is deprecated in favour of torch.export, which
            # needs onnxscript besides; with torch pinned, this exporter is the one that ships.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                sample,
                str(path),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "logits": {0: "batch"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
            )
    finally:
        encoder.config._attn_implementation = previous
        model.train(was_training)


def _largest_difference(
    classifier: TransformerClassifier, onnx: OnnxTransformer, features: Sequence[DocFeatures]
) -> float:
    """The largest logit difference between the two runtimes, batched (padding) and one by one."""
    if [onnx.encode([f])[0] for f in features] != classifier._encode(features):
        raise ArtifactError("the Rust tokenizer reads the probe documents differently from transformers'")
    largest = float(np.abs(onnx.logits(features) - classifier.logits(features)).max())
    for one in features[:3]:
        alone = float(np.abs(onnx.logits([one]) - classifier.logits([one])).max())
        largest = max(largest, alone)
    return round(largest, 8)


class OnnxTransformer:
    """``predict_proba`` of the fine-tuned classifier with onnxruntime and ``tokenizers`` only."""

    name = "transformer"
    runtime = RUNTIME_ONNX

    def __init__(self, session: Any, tokenizer: Any, config: TransformerConfig, temperature: float) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.config = config
        self.temperature = temperature
        self.pad_id = _pad_id(tokenizer)

    @classmethod
    def open(
        cls, graph: Path, tokenizer_file: Path, config: TransformerConfig, temperature: float
    ) -> OnnxTransformer:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about unused initialisers are no clerk's concern
        try:
            session = onnxruntime.InferenceSession(
                str(graph), sess_options=options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as error:  # onnxruntime raises its own exception types for a bad file
            raise ArtifactError(f"cannot load the ONNX classifier {graph}: {error}") from error
        # Truncated as transformers' tokenizer call does (``truncation=True, max_length``), unpadded:
        # batches are padded here, sorted by length.
        tokenizer.enable_truncation(max_length=config.max_length)
        tokenizer.no_padding()
        return cls(session, tokenizer, config, temperature)

    @classmethod
    def load(cls, folder: Path, *, threads: int | None = None) -> OnnxTransformer:
        """The graph of the transformer artifact ``folder`` (``has_graph``), with its temperature."""
        try:
            payload = json.loads((folder / CONFIG).read_text())
            config = TransformerConfig(**{**payload["config"], "threads": threads or default_threads()})
            temperature = float(payload["temperature"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ArtifactError(f"cannot read {folder / CONFIG}: {error}") from error
        weights = folder / WEIGHTS_DIR
        return cls.open(weights / GRAPH, weights / TOKENIZER, config, temperature)

    def encode(self, features: Sequence[DocFeatures]) -> list[list[int]]:
        return [list(e.ids) for e in self.tokenizer.encode_batch([f.for_transformer() for f in features])]

    def logits(self, features: Sequence[DocFeatures]) -> np.ndarray:
        out = np.zeros((len(features), len(LABELS)), dtype=np.float32)
        if not features:
            return out
        ids = self.encode(features)
        # Sorting by length keeps padding (wasted work) low inside each batch.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        size = self.config.infer_batch_size
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            width = max(len(ids[i]) for i in chunk)
            input_ids = np.full((len(chunk), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            [logits] = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask})
            out[chunk] = logits
        return out

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray:
        return softmax(self.logits(features) / self.temperature)


def _pad_id(tokenizer: Any) -> int:
    padding = tokenizer.padding
    if padding and padding.get("pad_id") is not None:
        return int(padding["pad_id"])
    found = tokenizer.token_to_id("[PAD]")
    return int(found) if found is not None else 0


def load_transformer(folder: Path, *, threads: int | None = None) -> TransformerModel:
    """The artifact's ONNX graph when it has one, else its torch weights (an artifact made before export).

    A graph onnxruntime cannot load (a damaged file) costs the speed, not the answer: the torch
    weights it was made from read the documents, and the lineage says torch ran.
    """
    if has_graph(folder):
        try:
            return OnnxTransformer.load(folder, threads=threads)
        except ArtifactError:
            log.warning("the ONNX graph in %s cannot be loaded; reading through torch", folder, exc_info=True)
    return TransformerClassifier.load(folder, threads=threads)


def export_artifact(folder: Path, *, threads: int | None = None) -> ExportReport:
    """Add the checked ONNX graph to a transformer artifact saved without one (torch loads it once)."""
    return export(TransformerClassifier.load(folder, threads=threads), folder)
