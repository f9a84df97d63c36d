"""The fast baseline: TF-IDF word and character n-grams into a linear SVM with calibrated probabilities.

Character n-grams carry it through OCR noise ("lnvoice", "Cred1t"); the word model, with its
``title_*`` / ``top_*`` layout tokens, carries it across layouts. Temperature scaling
on cross-validated decision values makes the probabilities usable for routing.

Training uses scikit-learn; what is saved for reading documents is also compiled to plain arrays
(``compiled.py``), so classifying a document never imports scikit-learn or SciPy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from classifiers.compiled import CompiledBaseline, CompiledFold
from classifiers.errors import ArtifactError, TrainingDataError
from classifiers.features import DocFeatures
from classifiers.labels import LABEL_INDEX, LABELS
from ledgerbot.core.domain import DocType

WEIGHTS = "baseline.joblib"
# Columns of the credit evidence after the named type's block.
CREDIT_EVIDENCE = 3


def _plain(features: DocFeatures) -> str:
    return f"{features.title} \n {features.body}"


def _named(features: Sequence[DocFeatures]) -> sparse.csr_matrix:
    """One column per type the title names, then the credit evidence (``DocFeatures.credit_evidence``),
    at the scale of a whole TF-IDF block (whose rows have norm 1).

    Inside the TF-IDF blocks a title word is one of thousands of small entries, so a French
    "BON DE COMMANDE" is outvoted by the French invoice vocabulary around it; as its own block
    the language-neutral name can carry the weight it deserves. So can a credit note's negative
    total and its reference to the invoice it corrects, when OCR ran its title into an address.
    """
    out = np.zeros((len(features), len(LABELS) + CREDIT_EVIDENCE), dtype=np.float32)
    for i, f in enumerate(features):
        if f.named_types:
            out[i, LABEL_INDEX[DocType(f.named_types[0])]] = 1.0
        out[i, len(LABELS) :] = f.credit_evidence()
    return sparse.csr_matrix(out)


class BaselineClassifier:
    name = "baseline"

    def __init__(self, *, seed: int = 0, c: float = 0.5) -> None:
        self.seed = seed
        self.c = c
        self.words = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b[^\W\d]\w+\b",
            max_features=60_000,
            dtype=np.float32,
        )
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=120_000,
            dtype=np.float32,
        )
        self.model: CalibratedClassifierCV | None = None

    def _matrix(self, features: Sequence[DocFeatures], *, fit: bool) -> sparse.csr_matrix:
        word_text = [f.for_baseline() for f in features]
        char_text = [_plain(f) for f in features]
        if fit:
            words, chars = self.words.fit_transform(word_text), self.chars.fit_transform(char_text)
        else:
            words, chars = self.words.transform(word_text), self.chars.transform(char_text)
        return sparse.hstack([words, chars, _named(features)], format="csr")

    def fit(self, features: Sequence[DocFeatures], labels: Sequence[DocType]) -> BaselineClassifier:
        counts = Counter(labels)
        if len(counts) < 2:
            raise TrainingDataError(f"the baseline needs at least two document types, got {sorted(counts)}")
        folds = min(5, min(counts.values()))
        if folds < 2:
            rare = sorted(str(label) for label, n in counts.items() if n < 2)
            raise TrainingDataError(
                f"every document type needs at least 2 training examples; too few: {rare}"
            )
        x = self._matrix(features, fit=True)
        y = np.array([LABEL_INDEX[DocType(label)] for label in labels])
        svm = LinearSVC(C=self.c, class_weight="balanced", random_state=self.seed)
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
        # Temperature scaling of the SVM scores (one softmax over all types) instead of per-type
        # Platt curves: renormalising seven one-vs-rest sigmoids leaves even sure answers near 0.6.
        self.model = CalibratedClassifierCV(svm, method="temperature", cv=cv).fit(x, y)
        return self

    def predict_proba(self, features: Sequence[DocFeatures]) -> np.ndarray:
        """Probabilities over ``LABELS`` (a type absent from training gets 0)."""
        if self.model is None:
            raise ArtifactError("the baseline is not trained")
        out = np.zeros((len(features), len(LABELS)), dtype=np.float64)
        if not features:
            return out
        proba = self.model.predict_proba(self._matrix(features, fit=False))
        out[:, self.model.classes_] = proba
        return out

    def compile(self) -> CompiledBaseline:
        """The trained model as arrays: the same probabilities without scikit-learn at run time."""
        if self.model is None:
            raise ArtifactError("the baseline is not trained")
        folds = []
        for calibrated in self.model.calibrated_classifiers_:
            svm = calibrated.estimator
            folds.append(
                CompiledFold(
                    classes=np.asarray(svm.classes_, dtype=np.int64),
                    coef=np.asarray(svm.coef_, dtype=np.float32),
                    intercept=np.asarray(svm.intercept_, dtype=np.float64),
                    beta=float(calibrated.calibrators[0].beta_),
                )
            )
        return CompiledBaseline(
            word_vocabulary={term: int(col) for term, col in self.words.vocabulary_.items()},
            word_idf=np.asarray(self.words.idf_, dtype=np.float64),
            word_pattern=str(self.words.token_pattern),
            char_vocabulary={term: int(col) for term, col in self.chars.vocabulary_.items()},
            char_idf=np.asarray(self.chars.idf_, dtype=np.float64),
            classes=np.asarray(self.model.classes_, dtype=np.int64),
            folds=folds,
        )

    def save(self, folder: Path) -> None:
        joblib.dump(self, folder / WEIGHTS, compress=3)
        self.compile().save(folder)

    @staticmethod
    def load_compiled(folder: Path) -> CompiledBaseline:
        """What reading documents needs, without importing scikit-learn."""
        return CompiledBaseline.load(folder)

    @classmethod
    def load(cls, folder: Path) -> BaselineClassifier:
        try:
            model = joblib.load(folder / WEIGHTS)
        except (OSError, EOFError, ValueError) as error:
            raise ArtifactError(f"cannot load the baseline from {folder}: {error}") from error
        if not isinstance(model, cls):
            raise ArtifactError(f"{folder / WEIGHTS} does not hold a baseline classifier")
        return model
