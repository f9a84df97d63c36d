"""A clerk's corrected split of a file: its documents re-created from the corrected page ranges.

The documents the splitter cut out of the file (the file's first document and every one with
``split_from`` pointing at it) are rejected with the clerk's reason, new documents are opened in
``received`` with the corrected page ranges (processing reads each by its own pages), and the
correction is appended to ``<home>/corrections/splits.jsonl`` as training data for the splitter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import or_, select

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import BusinessError
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow

CORRECTIONS = "splits.jsonl"


class SplitCorrectionRefused(BusinessError):
    """A corrected split that cannot be applied: bad page ranges, or a part already posted."""

    code = "E521"


def _check(parts: Sequence[tuple[int, int]]) -> None:
    previous = 0
    for first, last in parts:
        if not (previous < first <= last):
            raise SplitCorrectionRefused(
                f"page ranges must be ascending and not overlap, each first <= last: got {list(parts)}"
            )
        previous = last
    if not parts:
        raise SplitCorrectionRefused("a corrected split needs at least one page range")


def resplit(
    store: Store, document_id: int, parts: Sequence[tuple[int, int]], *, clerk: str, corrections_dir: Path
) -> list[int]:
    """Replace the documents cut out of ``document_id``'s file by ``parts``; the new documents' ids."""
    _check(parts)
    actor = Actor(name=clerk, component="review:split")
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        if document is None:
            raise SplitCorrectionRefused(f"no document {document_id}")
        root_id = document.split_from or document.id
        root = session.get(DocumentRow, root_id)
        assert root is not None
        family = list(
            session.scalars(
                select(DocumentRow)
                .where(or_(DocumentRow.id == root_id, DocumentRow.split_from == root_id))
                .order_by(DocumentRow.id)
            )
        )
        before = [[row.page_first, row.page_last] for row in family if row.state != DocState.REJECTED]
        posted = [row.id for row in family if row.state == DocState.POSTED]
        if posted:
            raise SplitCorrectionRefused(
                f"documents {posted} of this file are already posted; the split stays"
            )
        for row in family:
            if not DocState(row.state).is_final:
                transition(
                    session,
                    row,
                    DocState.REJECTED,
                    actor=actor,
                    stage="split",
                    outcome="resplit",
                    detail={"parts": [list(p) for p in parts]},
                )
        created = []
        for k, (first, last) in enumerate(parts, start=1):
            row = DocumentRow(
                sha256=root.sha256,
                source=root.source,
                filename=root.filename,
                mime=root.mime,
                size=root.size,
                state=None,
                meta={**(root.meta or {}), "part": [k, len(parts)], "split_by": clerk},
                split_from=root.id,
                page_first=first,
                page_last=last,
            )
            session.add(row)
            transition(
                session,
                row,
                DocState.RECEIVED,
                actor=actor,
                stage="split",
                input_digest=root.sha256,
                outcome="resplit",
                detail={"split_from": root.id, "pages": [first, last], "part": [k, len(parts)]},
            )
            created.append(row)
        session.flush()
        ids = [row.id for row in created]
        record = {
            "sha256": root.sha256,
            "filename": root.filename,
            "before": before,
            "after": [list(p) for p in parts],
            "clerk": clerk,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    corrections_dir.mkdir(parents=True, exist_ok=True)
    with (corrections_dir / CORRECTIONS).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    return ids
