from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from classifiers.corpus import DRAWN_LAYOUT_GROUPS, scan_corpus


def _write(folder: Path, stem: str, truth: dict[str, object]) -> None:
    (folder / f"{stem}.pdf").write_bytes(f"%PDF-1.4 {stem}".encode())
    (folder / f"{stem}.json").write_text(json.dumps(truth))


def test_drawn_layouts_are_dealt_into_a_few_groups_and_vendor_layouts_stay_whole(tmp_path: Path) -> None:
    for i in range(40):
        _write(tmp_path, f"drawn-{i:02d}", {"doc_type": "invoice", "layout": "random", "style": {"font": i}})
    for i in range(5):
        _write(tmp_path, f"fixed-{i}", {"doc_type": "invoice", "layout": "L01"})
    groups = Counter(doc.layout for doc in scan_corpus([tmp_path]))
    assert groups["L01"] == 5
    drawn = {g: n for g, n in groups.items() if g.startswith("random/")}
    # Every group holds several documents, so a held-out group is a layout slice, not one file.
    assert len(drawn) == DRAWN_LAYOUT_GROUPS and min(drawn.values()) >= 4
    assert sum(drawn.values()) == 40
