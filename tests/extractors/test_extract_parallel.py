"""A batch extracted in forked copies of the process reads as one process reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from invoice_fixtures import Invoice  # type: ignore[import-not-found]

from ledgerbot import pipeline
from ledgerbot.core.settings import get_settings
from ledgerbot.parallel import fork_map
from ledgerbot.pipeline import Extractor, Source


def test_a_forked_batch_reads_as_one_process_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    invoices = [
        Invoice(),
        Invoice(lang="de", number="RE-77", lines=(("Schraube", "3", "2.00", "6.00"),)),
        Invoice(lang="fr", number="F-2026-9", credit=True),
        Invoice(number="INV-5", vendor="Brightline Supplies Ltd"),
    ]

    def read(processes: str) -> list[str]:
        monkeypatch.setenv("LEDGERBOT_EXTRACT_PROCESSES", processes)
        get_settings.cache_clear()
        sources = [Source(name=f"{n}.pdf", data=inv.pdf()) for n, inv in enumerate(invoices)]
        results = list(Extractor(classify=False).extract_sources(sources))
        assert all(r.cpu_seconds["extract"] > 0 for r in results)
        return [r.to_json_line() for r in results]

    asked: list[int] = []

    def spy(*args: Any, processes: int, **kwargs: Any) -> Any:
        asked.append(processes)
        return fork_map(*args, processes=processes, **kwargs)

    monkeypatch.setattr(pipeline, "fork_map", spy)
    alone, forked = read("1"), read("2")
    assert asked == [1, 2]
    assert forked == alone
    assert [json.loads(line)["fields"]["invoice_number"] for line in forked] == [i.number for i in invoices]
