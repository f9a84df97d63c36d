"""The trained baseline as plain arrays: TF-IDF, linear scores and temperature scaling in NumPy.

Reading a document needs only the vocabularies, the IDF weights, each calibration fold's linear
model and its temperature. Importing scikit-learn and SciPy for that costs about a second per
process; this module reproduces their ``predict_proba`` exactly (a test compares the two) with
NumPy alone, so the baseline answers as fast as the documents arrive.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.errors import ArtifactError, IncompatibleModel
from classifiers.features import DocFeatures
from classifiers.labels import LABEL_INDEX, LABELS
from ledgerbot.core.domain import DocType

ARRAYS = "baseline-compiled.npz"
VOCABULARY = "baseline-compiled.json"

# The analyzers of the training vectorizers (classifiers/baseline.py): word 1-2-grams over
# lower-cased text, character 2-5-grams inside word boundaries.
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class CompiledFold:
    """One cross-validation fold: a linear one-vs-rest model and its softmax temperature."""

    classes: np.ndarray  # the labels (LABEL_INDEX values) this fold's model scores
    coef: np.ndarray  # (n_fold_classes or 1, n_features)
    intercept: np.ndarray
    beta: float


def _word_terms(text: str, pattern: re.Pattern[str]) -> list[str]:
    tokens = pattern.findall(text.lower())
    terms = list(tokens)
    low, high = WORD_NGRAMS
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return terms


def _char_terms(text: str) -> list[str]:
    low, high = CHAR_NGRAMS
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            offset = 0
            out.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                out.append(padded[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return out


def _tfidf(terms: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column indexes and L2-normalised sublinear TF-IDF values of one document's terms."""
    counts = Counter(vocabulary[term] for term in terms if term in vocabulary)
    if not counts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[columns]
    norm = float(np.sqrt(np.dot(values, values)))
    return columns, values / norm if norm > 0 else values


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _logits(decision: np.ndarray) -> np.ndarray:
    """Decision values as per-class logits, as scikit-learn's temperature scaling reads them."""
    if decision.shape[1] == 1:
        return np.hstack([-decision, decision])
    if np.all((decision >= 0) & (decision <= 1)) and np.allclose(decision.sum(axis=1), 1.0):
        return np.log(decision + 1e-12)
    return decision


class CompiledBaseline:
    """``predict_proba`` of the trained baseline with NumPy only."""

    name = "baseline"

    def __init__(
        self,
        *,
        word_vocabulary: dict[str, int],
        word_idf: np.ndarray,
        word_pattern: str,
        char_vocabulary: dict[str, int],
        char_idf: np.ndarray,
        classes: np.ndarray,
        folds: list[CompiledFold],
    ) -> None:
        self.word_vocabulary = word_vocabulary
        self.word_idf = word_idf
        self.word_pattern = word_pattern
        self._pattern = re.compile(word_pattern)
        self.char_vocabulary = char_vocabulary
        self.char_idf = char_idf
        self.classes = classes
        self.folds = folds

    def _row(self, features: DocFeatures) -> tuple[np.ndarray, np.ndarray]:
        words_cols, words_vals = _tfidf(
            _word_terms(features.for_baseline(), self._pattern), self.word_vocabulary, self.word_idf
        )
        chars_cols, chars_vals = _tfidf(
            _char_terms(f"{features.title} \n {features.body}"), self.char_vocabulary, self.char_idf
        )
        offset = len(self.word_idf)
        columns = [words_cols, chars_cols + offset]
        values = [words_vals, chars_vals]
        block = offset + len(self.char_idf)
        if features.named_types:
            # The block of types the title names (see baseline._named): one column per type.
            columns.append(np.array([block + LABEL_INDEX[DocType(features.named_types[0])]], dtype=np.int64))
            values.append(np.array([1.0]))
        # Then the credit evidence, one column each.
        evidence = np.array(features.credit_evidence(), dtype=np.float64)
        columns.append(block + len(LABELS) + np.arange(len(evidence), dtype=np.int64))
        values.append(evidence)
        return np.concatenate(columns), np.concatenate(values)

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray:
        """Probabilities over ``LABELS`` (a type absent from training gets 0)."""
        out = np.zeros((len(features), len(LABELS)), dtype=np.float64)
        if not features:
            return out
        rows = [self._row(f) for f in features]
        mean = np.zeros((len(features), len(self.classes)), dtype=np.float64)
        for fold in self.folds:
            decision = np.stack(
                [fold.coef[:, cols].astype(np.float64) @ vals + fold.intercept for cols, vals in rows]
            )
            mean[:, np.searchsorted(self.classes, fold.classes)] += _softmax(fold.beta * _logits(decision))
        mean /= len(self.folds)
        mean[(mean > 1.0) & (mean <= 1.0 + 1e-5)] = 1.0
        out[:, self.classes] = mean
        return out

    def save(self, folder: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "word_idf": self.word_idf,
            "char_idf": self.char_idf,
            "classes": self.classes,
        }
        for i, fold in enumerate(self.folds):
            arrays[f"fold{i}_classes"] = fold.classes
            arrays[f"fold{i}_coef"] = fold.coef
            arrays[f"fold{i}_intercept"] = fold.intercept
            arrays[f"fold{i}_beta"] = np.array([fold.beta])
        np.savez_compressed(folder / ARRAYS, **arrays)  # type: ignore[arg-type]
        (folder / VOCABULARY).write_text(
            json.dumps(
                {
                    "folds": len(self.folds),
                    "word_pattern": self.word_pattern,
                    "words": self.word_vocabulary,
                    "chars": self.char_vocabulary,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> CompiledBaseline:
        if not (folder / ARRAYS).exists():
            raise IncompatibleModel(
                f"{folder} holds no compiled baseline; retrain with `ledgerbot train classifier <corpus>`"
            )
        try:
            meta = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
            with np.load(folder / ARRAYS) as arrays:
                folds = [
                    CompiledFold(
                        classes=arrays[f"fold{i}_classes"],
                        coef=arrays[f"fold{i}_coef"],
                        intercept=arrays[f"fold{i}_intercept"],
                        beta=float(arrays[f"fold{i}_beta"][0]),
                    )
                    for i in range(int(meta["folds"]))
                ]
                return cls(
                    word_vocabulary=meta["words"],
                    word_idf=arrays["word_idf"],
                    word_pattern=meta["word_pattern"],
                    char_vocabulary=meta["chars"],
                    char_idf=arrays["char_idf"],
                    classes=arrays["classes"],
                    folds=folds,
                )
        except (OSError, KeyError, ValueError) as error:
            raise ArtifactError(f"cannot load the compiled baseline from {folder}: {error}") from error
