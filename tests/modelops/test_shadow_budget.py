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
from ledgerbot.core.registry_view import Trial
from ledgerbot.pipeline import Extractor, Source
from ledgerbot.trials import _RECORDED, ARM, ClassifierTrial, ShadowBudget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extractors"))


def test_the_budget_expects_a_candidates_costliest_document_and_never_stops_a_canary() -> None:
    budget = ShadowBudget(0.5)
    shadow, canary = Trial(1, "cascade", "v2", "shadow", 0.1), Trial(1, "cascade", "v2", "canary", 0.1)
    budget.count(2)
    budget.spend("text_layer", 0.75)
    budget.spend("extract", 0.25)
    # Never measured: expected to cost the pipeline's mean per document (0.5), which fits 0.5 of 1.0.
    assert budget.expected(shadow) == 0.5 and budget.allows(shadow)
    budget.spend("shadow", 0.1)
    budget.observe(shadow, 0.1)
    budget.spend("shadow", 0.3)
    budget.observe(shadow, 0.3)  # one costly document: the candidate is expected to cost that again
    assert budget.expected(shadow) == 0.3
    assert not budget.allows(shadow, documents=3) and budget.skipped == 3  # 0.4 + 0.3 > 0.5
    assert budget.allows(canary)  # a canary decides documents: it always runs
    budget.spend("classify", 0.4)  # the pipeline's own CPU catches up: 0.4 + 0.3 <= 0.7
    assert budget.allows(shadow)
    zero = ShadowBudget(0.0)
    zero.spend("text_layer", 1.0)
    assert not zero.allows(shadow)


class Fixed:
    """A classifier that calls everything an invoice; ``burn`` CPU seconds per document, and
    ``spike`` on the documents at the ``costly`` places of each batch it is given."""

    def __init__(
        self, version: str, burn: float = 0.0, spike: float = 0.0, costly: Sequence[int] = ()
    ) -> None:
        self.version = version
        self.burn = burn
        self.spike = spike
        self.costly = set(costly)
        self.seen = 0

    def classify(self, documents: Sequence[Any]) -> list[Classification]:
        for _ in documents:
            cost = self.spike if self.seen in self.costly else self.burn
            self.seen += 1
            end = time.process_time() + cost
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
    trial = Trial(7, "cascade", "v2", "shadow", 0.1)
    _RECORDED.pop(trial.ref, None)
    extractor.trial = ClassifierTrial(trial, Fixed("cascade@v2", 0.2))
    sources = [Source(name=f"{n}.pdf", data=Invoice().pdf()) for n in range(12)]
    results = list(extractor.extract_sources(sources))
    shadowed = [ARM in r.lineage for r in results]
    assert any(shadowed) and not all(shadowed) and extractor.budget.skipped == shadowed.count(False)
    shadow = sum(r.cpu_seconds.get("shadow", 0.0) for r in results)
    rest = sum(s for r in results for k, s in r.cpu_seconds.items() if k != "shadow")
    # Within its share of the pipeline's own CPU, give or take the first document it read (never
    # measured before, it was expected to cost the pipeline's mean per document).
    assert shadow <= 0.5 * rest + 0.2 + 0.05, (shadow, rest)


def _invoices(n: int) -> list[Source]:
    from invoice_fixtures import Invoice  # type: ignore[import-not-found]

    return [Source(name=f"{k}.pdf", data=Invoice().pdf()) for k in range(n)]


def test_on_seven_documents_one_costlier_than_the_whole_run_never_breaks_the_budget() -> None:
    """A candidate's recorded costliest document (from the store) is what it is expected to cost:
    a run of seven documents shadows it only where that still fits, from the first document on."""
    trial = Trial(8, "cascade", "v3", "shadow", 0.1)
    _RECORDED.pop(trial.ref, None)
    sources = _invoices(7)
    probe = Extractor(in_process=True, classify=False).prepare()
    probe.classifier = Fixed("cascade@v1")
    # Two passes: the first also pays one-off imports and caches. The spike is costlier than the
    # costlier pass; "a tenth of what the pipeline spends" below is a tenth of the warm pass.
    passes = [
        sum(s for r in probe.extract_sources(sources) for s in r.cpu_seconds.values()) for _ in range(2)
    ]
    rest = min(passes)
    spike = 1.5 * max(passes)  # one document of the candidate costs more than the whole run
    extractor = Extractor(in_process=True, classify=False)
    extractor.prepare()
    extractor.classifier = Fixed("cascade@v1")
    extractor.trial = ClassifierTrial(trial, Fixed("cascade@v3", 0.01, spike, costly=range(7)))
    extractor.budget.seed(trial, [0.01, spike])  # what the audit trail holds of its earlier runs
    results = list(extractor.extract_sources(_invoices(7)))
    shadow = sum(r.cpu_seconds.get("shadow", 0.0) for r in results)
    mine = sum(s for r in results for k, s in r.cpu_seconds.items() if k != "shadow")
    assert shadow <= 0.5 * mine, (shadow, mine)
    assert extractor.budget.skipped == 7 and not any(ARM in r.lineage for r in results)
    # Cheap documents of the same candidate (its record says so: a tenth of what the pipeline
    # spends on a document here) are read beside the active model.
    light = 0.1 * rest / len(sources)
    _RECORDED[trial.ref].clear()
    _RECORDED[trial.ref].append(light)
    cheap = Extractor(in_process=True, classify=False)
    cheap.prepare()
    cheap.classifier = Fixed("cascade@v1")
    cheap.trial = ClassifierTrial(trial, Fixed("cascade@v3", light))
    results = list(cheap.extract_sources(_invoices(7)))
    shadow = sum(r.cpu_seconds.get("shadow", 0.0) for r in results)
    mine = sum(s for r in results for k, s in r.cpu_seconds.items() if k != "shadow")
    assert all(ARM in r.lineage for r in results) and shadow <= 0.5 * mine, (shadow, mine)


def test_a_never_measured_candidate_costs_its_probe_from_the_first_document_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A candidate in shadow that no run has measured is probed when it loads (its costliest route
    on a long page); its first document is shadowed only where that cost still fits, so even a
    short run stays within the budget from the first document on."""
    import classifiers.cascade
    import ledgerbot.trials

    probe = Extractor(in_process=True, classify=False).prepare()
    probe.classifier = Fixed("cascade@v1")
    rest = sum(s for r in probe.extract_sources(_invoices(7)) for s in r.cpu_seconds.values())
    monkeypatch.setattr(ledgerbot.trials, "recorded_costs", lambda trial: [])
    monkeypatch.setattr(
        classifiers.cascade.Cascade, "load", classmethod(lambda cls, *a, **k: Fixed("cascade@v1"))
    )

    def run(burn: float) -> tuple[list[Any], Extractor]:
        trial = Trial(9, "cascade", f"v{burn}", "shadow", 0.1)
        _RECORDED.pop(trial.ref, None)
        candidate = ClassifierTrial(trial, Fixed(trial.ref, burn), probe_seconds=burn)
        monkeypatch.setattr(ClassifierTrial, "load", classmethod(lambda cls, models_dir: candidate))
        extractor = Extractor(in_process=True).prepare()
        return list(extractor.extract_sources(_invoices(7))), extractor

    # Each document costs the candidate as much as the whole run's own work: none fits, not even
    # the first (expected at the pipeline's mean per document, it would have been read).
    results, extractor = run(rest)
    shadow = sum(r.cpu_seconds.get("shadow", 0.0) for r in results)
    mine = sum(s for r in results for k, s in r.cpu_seconds.items() if k != "shadow")
    assert shadow <= 0.5 * mine and extractor.budget.skipped == 7, (shadow, mine)
    # A cheap candidate (a twentieth of what the pipeline spends on a document here) is read
    # beside the active model from the first document on.
    results, extractor = run(0.05 * rest / 7)
    assert all(ARM in r.lineage for r in results) and extractor.budget.skipped == 0


class _Burning:
    """A model part that burns ``cost`` CPU seconds per call, ``first`` more on its first call."""

    def __init__(self, cost: float, first: float = 0.0, broken: bool = False) -> None:
        self.cost, self.first, self.broken = cost, first, broken

    def predict_proba(self, features: Sequence[Any]) -> list[list[float]]:
        if self.broken:
            raise RuntimeError("weights missing")
        end = time.process_time() + self.cost + self.first
        self.first = 0.0
        while time.process_time() < end:
            pass
        return [[1.0] for _ in features]


def test_the_probe_measures_the_costliest_route_after_a_warm_up_and_survives_a_broken_candidate() -> None:
    from types import SimpleNamespace

    from ledgerbot.trials import _probe

    cascade = SimpleNamespace(baseline=_Burning(0.01), transformer=_Burning(0.05, first=0.3), version="c@v")
    seconds = _probe(cascade)
    assert seconds is not None and 0.06 <= seconds < 0.3, seconds  # the warm-up is not counted
    broken = SimpleNamespace(baseline=_Burning(0.01), transformer=_Burning(0.0, broken=True), version="c@w")
    assert _probe(broken) is None
