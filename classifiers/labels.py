"""Labels the classifiers predict, in one fixed order: the columns of every probability matrix."""

from __future__ import annotations

from ledgerbot.core.domain import DocType

LABELS: tuple[DocType, ...] = tuple(DocType)
LABEL_INDEX: dict[DocType, int] = {label: i for i, label in enumerate(LABELS)}


def label_names() -> list[str]:
    return [label.value for label in LABELS]
