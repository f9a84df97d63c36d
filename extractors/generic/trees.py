"""The ranker's gradient-boosted trees as plain arrays, predicted with NumPy alone.

Unpickling the trained scikit-learn model imports ``sklearn.ensemble`` and SciPy, which costs
a second or more per process: more than reading a page. The trees themselves are small (a few
thousand nodes), so training compiles them into arrays (feature, threshold, where a missing
value goes, children, leaf values, the baseline) and extraction walks every tree for every
candidate at once, level by level. The result is scikit-learn's ``predict_proba`` to the last
bits: the same comparisons in float64, leaf values added tree by tree in the same order
(``tests/extractors/test_generic_trees.py`` holds it to that on the shipped model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Bumped whenever the arrays or their meaning change; a file of another format is not read.
TREES_FORMAT = 1
# Rows walked at once: bounds the (rows x trees) index arrays when training scores its whole set.
BLOCK = 4096


class CompiledTreesError(ValueError):
    """A model that cannot be compiled (not binary, categorical splits) or a file of another format."""


@dataclass(frozen=True)
class CompiledTrees:
    """Every tree's nodes in flat arrays; a node's children are indexes into the same arrays.

    A leaf is its own left and right child, so a walk that reached it stays there: all trees
    are walked ``depth`` steps, whatever depth each row's path has.
    """

    feature: np.ndarray  # int32: the feature a node compares (0 on leaves)
    threshold: np.ndarray  # float64: go left when the value is <= threshold
    missing_left: np.ndarray  # bool: where a missing (NaN) value goes
    left: np.ndarray  # int32
    right: np.ndarray  # int32
    value: np.ndarray  # float64: a leaf's raw score (0 on split nodes)
    roots: np.ndarray  # int32: each tree's first node, in the order the trees are summed
    baseline: float  # the raw score before any tree
    depth: int  # the deepest leaf's depth
    n_features: int

    @classmethod
    def from_sklearn(cls, model: Any) -> CompiledTrees:
        """A fitted binary ``HistGradientBoostingClassifier`` (numeric features only)."""
        if getattr(model, "n_trees_per_iteration_", None) != 1 or len(model.classes_) != 2:
            raise CompiledTreesError("only a binary gradient-boosted classifier can be compiled")
        if model.is_categorical_ is not None and np.any(model.is_categorical_):
            raise CompiledTreesError("categorical splits are not compiled")
        trees = [predictors[0].nodes for predictors in model._predictors]
        sizes = np.array([len(nodes) for nodes in trees], dtype=np.int64)
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(trees)
        offsets = np.repeat(roots, sizes)
        own = np.arange(len(nodes))
        leaf = nodes["is_leaf"].astype(bool)
        return cls(
            feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
            threshold=np.where(leaf, 0.0, nodes["num_threshold"]).astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(leaf, own, nodes["left"].astype(np.int64) + offsets).astype(np.int32),
            right=np.where(leaf, own, nodes["right"].astype(np.int64) + offsets).astype(np.int32),
            value=np.where(leaf, nodes["value"], 0.0).astype(np.float64),
            roots=roots.astype(np.int32),
            baseline=float(np.asarray(model._baseline_prediction).ravel()[0]),
            depth=int(nodes["depth"].max()),
            n_features=int(model.n_features_in_),
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The summed raw score of each row of ``x`` (rows x features)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise CompiledTreesError(f"expected rows of {self.n_features} features, got shape {x.shape}")
        if len(x) > BLOCK:
            return np.concatenate([self.raw(x[start : start + BLOCK]) for start in range(0, len(x), BLOCK)])
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()  # (rows, trees)
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        leaves = self.value[node]
        # Tree by tree, as scikit-learn adds them: the same sums to the last bit.
        total = np.zeros(len(x), dtype=np.float64)
        total += self.baseline
        for tree in range(leaves.shape[1]):
            total += leaves[:, tree]
        return total

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(rows, 2): the chance of class 0 and of class 1, as ``predict_proba`` gives them."""
        p = 1.0 / (1.0 + np.exp(-self.raw(x)))
        return np.column_stack([1.0 - p, p])

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            format=np.array([TREES_FORMAT]),
            feature=self.feature,
            threshold=self.threshold,
            missing_left=self.missing_left,
            left=self.left,
            right=self.right,
            value=self.value,
            roots=self.roots,
            scalars=np.array([self.baseline, self.depth, self.n_features], dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path) -> CompiledTrees:
        with np.load(path) as arrays:
            if int(arrays["format"][0]) != TREES_FORMAT:
                raise CompiledTreesError(f"{path} holds compiled trees of another format (retrain)")
            baseline, depth, n_features = arrays["scalars"]
            return cls(
                feature=arrays["feature"],
                threshold=arrays["threshold"],
                missing_left=arrays["missing_left"],
                left=arrays["left"],
                right=arrays["right"],
                value=arrays["value"],
                roots=arrays["roots"],
                baseline=float(baseline),
                depth=int(depth),
                n_features=int(n_features),
            )
