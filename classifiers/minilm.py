"""The MiniLM encoder with a mean-pooling classification head, the way the sentence model was trained.

all-MiniLM-L6-v2 learned sentence embeddings as the mean of its token vectors
(``1_Pooling/config.json``: ``pooling_mode_mean_tokens``); its ``[CLS]`` vector and pooler were
never trained for that. A linear head on the mean-pooled vector therefore starts from features
that already separate document types, and fine-tuning the top layers converges in a few hundred
CPU steps where a ``[CLS]``-pooler head needs many more. Importing this module imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

HEAD_WEIGHTS = "head.safetensors"
POOLINGS = ("mean", "cls+mean")


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

    def save(self, folder: Path) -> None:
        self.encoder.save_pretrained(folder)
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(folder / HEAD_WEIGHTS))

    @classmethod
    def load(cls, folder: Path, num_labels: int, pooling: str = "mean") -> MeanPoolingClassifier:
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(folder, add_pooling_layer=False)
        model = cls(encoder, num_labels, pooling=pooling)
        state = load_file(str(folder / HEAD_WEIGHTS))
        if state["weight"].shape[0] != num_labels:
            raise ValueError(f"the head predicts {state['weight'].shape[0]} types, expected {num_labels}")
        model.head.load_state_dict(state)
        return model.eval()
