"""Errors the classifiers raise on purpose, each with a stable code (E5xx)."""

from __future__ import annotations

from ledgerbot.core.artifacts import ArtifactError, ModelNotFound
from ledgerbot.core.errors import ApplicationError, BusinessError

__all__ = ["ArtifactError", "IncompatibleModel", "ModelNotFound", "TextLayerUnavailable", "TrainingDataError"]


class TrainingDataError(BusinessError):
    """A corpus that cannot train a model: empty, unlabelled, or missing classes."""

    code = "E502"


class IncompatibleModel(ArtifactError):
    """A model trained on features (or saved in a layout) this code no longer produces; retrain it."""

    code = "E506"


class TextLayerUnavailable(ApplicationError):
    """The text-layer reader could not be imported or failed on a training file."""

    code = "E504"
