"""Scores rules-engine decisions against injected-mismatch truth: recall, false positives, confusion.

Pure: it takes (document, injected mismatch types, raised codes) triples and returns the counts;
reading the corpus and running the engine is the caller's business (a test, a benchmark).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# An injected mismatch counts as caught when at least one of these codes is raised for its document.
CATCHES: dict[str, frozenset[str]] = {
    "price": frozenset({"PRICE_VARIANCE"}),
    "quantity": frozenset({"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"}),
    "unknown_po": frozenset({"PO_NOT_FOUND"}),
    "duplicate": frozenset({"DUPLICATE_SUSPECT"}),
    "bank_changed": frozenset({"BANK_DETAILS_CHANGED"}),
    "arithmetic": frozenset({"LINE_AMOUNT_MISMATCH", "SUBTOTAL_MISMATCH", "TOTAL_MISMATCH"}),
}
MATCHED = "(matched)"


@dataclass
class CorpusScore:
    # injected type -> raised code -> number of documents of that type raising it
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    injected: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    missed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (doc, type, codes)
    clean: int = 0
    false_positives: list[tuple[str, list[str]]] = field(default_factory=list)  # (doc, codes)

    @property
    def recall(self) -> float:
        total = sum(self.injected.values())
        return sum(self.caught.values()) / total if total else 1.0

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / self.clean if self.clean else 0.0

    @property
    def false_positive_codes(self) -> Counter[str]:
        return Counter(code for _, codes in self.false_positives for code in set(codes))


def score(results: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> CorpusScore:
    """``results``: (document, injected mismatch types, codes the engine raised) per document."""
    out = CorpusScore()
    for doc, types, codes in results:
        raised = set(codes)
        if not types:
            out.clean += 1
            if raised:
                out.false_positives.append((doc, sorted(raised)))
            continue
        for kind in types:
            out.injected[kind] += 1
            out.confusion.setdefault(kind, Counter()).update(raised or {MATCHED})
            if raised & CATCHES.get(kind, frozenset()):
                out.caught[kind] += 1
            else:
                out.missed.append((doc, kind, sorted(raised)))
    return out


def confusion_table(result: CorpusScore) -> str:
    """The confusion table as Markdown: injected type (rows) x raised reason code (columns)."""
    fp = result.false_positive_codes
    codes = sorted({code for row in result.confusion.values() for code in row} | set(fp))
    header = ["injected \\ raised", "docs", "caught", *codes]
    rows = [header, ["---"] * len(header)]
    for kind in sorted(result.confusion):
        row = result.confusion[kind]
        rows.append(
            [
                kind,
                str(result.injected[kind]),
                str(result.caught[kind]),
                *(str(row.get(c, "")) for c in codes),
            ]
        )
    rows.append(["clean", str(result.clean), "", *(str(fp.get(c, "")) for c in codes)])
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append(
        f"recall {result.recall:.3f} ({sum(result.caught.values())}/{sum(result.injected.values())}); "
        f"clean documents with an exception {len(result.false_positives)}/{result.clean} "
        f"({result.false_positive_rate:.2%})"
    )
    return "\n".join(lines)
