"""Every legal move of the state machine is accepted and audited; every other one is refused."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import IllegalTransition
from ledgerbot.core.lifecycle import ALLOWED, Actor, can_transition, input_hash, transition
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow

S = DocState
ROBOT = Actor("pipeline", component="classifier", version="cascade@7", extra={"route": "baseline"})

# The shortest path from a new document to each state, through legal moves only.
PATHS: dict[DocState, list[DocState]] = {
    S.RECEIVED: [S.RECEIVED],
    S.PARSED: [S.RECEIVED, S.PARSED],
    S.CLASSIFIED: [S.RECEIVED, S.PARSED, S.CLASSIFIED],
    S.EXTRACTED: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED],
    S.VALIDATED: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED],
    S.MATCHED: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.MATCHED],
    S.EXCEPTION: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.EXCEPTION],
    S.APPROVED: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.MATCHED, S.APPROVED],
    S.POSTED: [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.MATCHED, S.APPROVED, S.POSTED],
    S.REJECTED: [S.RECEIVED, S.REJECTED],
    S.FAILED: [S.RECEIVED, S.FAILED],
    S.DUPLICATE: [S.RECEIVED, S.DUPLICATE],
}


def _document_at(session, state: DocState) -> DocumentRow:  # type: ignore[no-untyped-def]
    doc = DocumentRow(
        sha256="0" * 64, source="test", filename="a.pdf", mime="application/pdf", size=1, state=None, meta={}
    )
    session.add(doc)
    for step in PATHS[state]:
        transition(
            session, doc, step, actor=ROBOT, stage="setup", outcome="E099" if step is S.FAILED else "ok"
        )
    return doc


def test_the_life_cycle_of_architecture_md() -> None:
    assert ALLOWED[S.RECEIVED] >= {S.PARSED, S.DUPLICATE, S.FAILED, S.REJECTED}
    assert ALLOWED[S.VALIDATED] >= {S.MATCHED, S.EXCEPTION}
    assert ALLOWED[S.EXCEPTION] >= {S.APPROVED, S.REJECTED}
    assert ALLOWED[S.APPROVED] >= {S.POSTED}
    for final in (S.POSTED, S.REJECTED, S.DUPLICATE):
        assert ALLOWED[final] == frozenset()
    assert not can_transition(None, S.PARSED)
    assert can_transition(None, S.RECEIVED)


@pytest.mark.parametrize(
    ("source", "target"),
    [(a, b) for a, b in itertools.product(DocState, DocState) if b in ALLOWED[a]],
    ids=lambda s: s.value,
)
def test_every_legal_move_is_applied_and_audited(store: Store, source: DocState, target: DocState) -> None:
    with store.session() as s:
        doc = _document_at(s, source)
        before = len(PATHS[source])
        # A move to failed must carry an error code.
        outcome = "E099" if target is DocState.FAILED else "ok"
        event = transition(
            s, doc, target, actor=ROBOT, stage="test", input_digest=input_hash({"a": 1}), outcome=outcome
        )
        assert doc.state == target.value
        assert (event.from_state, event.to_state) == (source.value, target.value)
        doc_id = doc.id
    with store.session() as s:
        events = s.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == doc_id).order_by(AuditEventRow.id)
        ).all()
        assert len(events) == before + 1
        last = events[-1]
        assert last.component == "classifier" and last.component_version == "cascade@7"
        assert last.detail == {"route": "baseline"}
        assert last.input_hash == input_hash({"a": 1})


@pytest.mark.parametrize(
    ("source", "target"),
    [(a, b) for a, b in itertools.product(DocState, DocState) if b not in ALLOWED[a]],
    ids=lambda s: s.value,
)
def test_every_illegal_move_is_refused_and_leaves_no_trace(
    shared_store: Store, source: DocState, target: DocState
) -> None:
    with shared_store.session() as s:
        doc = _document_at(s, source)
        count = len(PATHS[source])
        with pytest.raises(IllegalTransition) as error:
            transition(s, doc, target, actor=ROBOT, stage="test")
        assert error.value.code == "E010"
        assert doc.state == source.value
        events = s.scalars(select(AuditEventRow).where(AuditEventRow.document_id == doc.id)).all()
        assert len(events) == count


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('lifecycle') / 's.db'}")
    store.migrate()
    return store


def test_input_hash_is_stable_and_order_free() -> None:
    assert input_hash({"a": 1, "b": [1, 2]}) == input_hash({"b": [1, 2], "a": 1})
    assert input_hash(b"abc") != input_hash({"a": 1})
