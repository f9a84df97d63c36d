"""The shadow's CPU budget: a candidate in shadow adds at most its share of the pipeline's CPU."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import ledgerbot.pipeline
from classifiers.cascade import Classification
from ledgerbot.core.domain import DocType
from ledgerbot.core.modelops import Trial
from ledgerbot.pipeline import Extractor, Source
from ledgerbot.trials import ARM, ClassifierTrial, ShadowBudget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extractors"))


def test_the_budget_stops_a_shadow_past_its_share_and_never_a_canary() -> None:
    budget = ShadowBudget(0.5)
    shadow, canary = Trial(1, "cascade", "v2", "shadow", 0.1), Trial(1, "cascade", "v2", "canary", 0.1)
    assert budget.allows(shadow)  # nothing spent yet
    budget.spend("text_layer", 0.75)
    budget.spend("extract", 0.25)
    budget.spend("shadow", 0.5)
    assert budget.allows(shadow)  # 0.5 of 1.0: at the share, not past it
    budget.spend("shadow", 0.25)
    assert not budget.allows(shadow, documents=3) and budget.skipped == 3
    assert budget.allows(canary)  # a canary decides documents: it always runs
    budget.spend("classify", 0.5)  # the pipeline's own CPU catches up
    assert budget.allows(shadow)
    zero = ShadowBudget(0.0)
    zero.spend("shadow", 0.01)
    assert not zero.allows(shadow)


class Fixed:
    """A classifier that calls everything an invoice; ``burn`` CPU seconds per document."""

    def __init__(self, version: str, burn: float = 0.0) -> None:
        self.version = version
        self.burn = burn

    def classify(self, documents: Sequence[Any]) -> list[Classification]:
        end = time.process_time() + self.burn * len(documents)
        while time.process_time() < end:  # a candidate far more expensive than the active model
            pass
        return [
            Classification(DocType.INVOICE, 0.9, "baseline", False, "baseline@x", self.version, 0.9)
            for _ in documents
        ]


def test_an_expensive_shadow_is_held_to_its_share_of_the_pipelines_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from invoice_fixtures import Invoice  # type: ignore[import-not-found]

    monkeypatch.setattr(ledgerbot.pipeline, "CHUNK", 2)
    extractor = Extractor(in_process=True, classify=False)
    extractor.prepare()
    extractor.classifier = Fixed("cascade@v1")
    extractor.trial = ClassifierTrial(Trial(7, "cascade", "v2", "shadow", 0.1), Fixed("cascade@v2", 0.2))
    sources = [Source(name=f"{n}.pdf", data=Invoice().pdf()) for n in range(12)]
    results = list(extractor.extract_sources(sources))
    shadowed = [ARM in r.lineage for r in results]
    assert shadowed[0]  # the first document is read beside the candidate: nothing was spent yet
    assert not all(shadowed) and extractor.budget.skipped == shadowed.count(False)
    shadow = sum(r.cpu_seconds.get("shadow", 0.0) for r in results)
    rest = sum(s for r in results for k, s in r.cpu_seconds.items() if k != "shadow")
    # Within its share of the pipeline's own CPU, give or take the one document that crossed it.
    assert shadow <= 0.5 * rest + 0.2 + 0.05, (shadow, rest)
