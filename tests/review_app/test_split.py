"""The split page over HTTP: a generated stack's pages, moving, adding and removing boundaries,
re-creating the documents, refusals, the audit trail and the training record."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from classifiers.split_training import STACKS, Stack, load_corrected_stacks, stack_rows, train_splitter
from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, SplitCorrectionRow
from ledgerbot.core.store.review import ApprovalRow
from review_app.render import THUMBNAIL_WIDTH
from review_app.splits import add_boundary, move_boundary, move_targets, remove_boundary
from sandbox.corpus.stacks import StackTruth
from tests.review_app import factory
from tests.review_app.conftest import csrf
from tests.review_app.split_factory import SPLITTER_SAYS, SplittingReader, make_stack, receive_stack
from textlayer import read_document
from textlayer.model import Document

Client = Callable[[str], TestClient]


def _born_digital(path: Path) -> Document:
    # The generated stack is born digital; its blank separator needs no OCR to read as blank.
    return read_document(path, ocr="never")


def _corrected_stacks(store: Store, files: FileStore, cache: Path) -> list[Stack]:
    return load_corrected_stacks(
        store=store, files_dir=files.root, cache_dir=cache, reader=_born_digital, reader_name="no-ocr"
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, StackTruth]:
    return make_stack(tmp_path_factory.mktemp("split-stack"))


@pytest.fixture
def stack(sqlite_store: Store, files: FileStore, generated: tuple[Path, bytes, StackTruth]) -> list[int]:
    """Users, and the generated stack cut as the unsure splitter double says: two documents."""
    with sqlite_store.session() as session:
        factory.users(session)
    return receive_stack(sqlite_store, files, generated[1], SplittingReader(SPLITTER_SAYS))


def _links(page: str) -> dict[str, str]:
    """The split page's boundary controls: element id -> the draft it links to."""
    return {
        found.group(2): html.unescape(found.group(1))
        for found in re.finditer(r'<a href="([^"]+)" class="button [a-z-]+" id="([a-z-]+-\d+)"', page)
    }


def _draft(page: str) -> list[str]:
    return re.findall(r'data-pages="(\d+-\d+)"', page)


def _audit(store: Store, document_ids: list[int]) -> list[tuple[int, str, str, str | None, str | None]]:
    with store.session() as session:
        events = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.document_id.in_(document_ids), AuditEventRow.outcome == "resplit")
            .order_by(AuditEventRow.id)
        )
        return [(e.document_id, e.to_state, e.actor, e.component, e.detail.get("reason")) for e in events]


# --- drafting: the boundary controls as pure functions ----------------------------------------


def test_boundary_edits_keep_every_page_where_the_clerk_put_it() -> None:
    stored = ((1, 2), (4, 5))  # page 3 (a blank separator) is in no document
    assert add_boundary(stored, 2, 5) == ((1, 1), (2, 2), (4, 5))
    assert add_boundary(stored, 3, 5) == ((1, 2), (3, 3), (4, 5))  # a page in no document starts one
    assert remove_boundary(stored, 4) == ((1, 5),)
    assert list(move_targets(stored, 4)) == [2, 3, 4, 5]
    assert move_boundary(stored, 4, 5) == ((1, 4), (5, 5))  # later: the pages between go before
    assert move_boundary(stored, 4, 3) == ((1, 2), (3, 5))  # earlier: into the gap
    assert move_boundary(stored, 4, 2) == ((1, 1), (2, 5))
    with pytest.raises(Exception, match="no boundary at page 2"):
        remove_boundary(stored, 2)
    with pytest.raises(Exception, match="cannot move"):
        move_boundary(stored, 4, 1)


# --- the page ----------------------------------------------------------------------------------


def test_the_split_page_shows_the_files_pages_and_where_documents_begin(
    client_for: Client, stack: list[int], sqlite_store: Store, app: Any
) -> None:
    first, second = stack
    carol = client_for("carol")
    page = carol.get(f"/documents/{second}/split")
    assert page.status_code == 200, page.text
    text = page.text
    assert text.count('class="thumb"') == 5
    assert 'id="split-uncertain"' in text and "SPLIT_UNCERTAIN" in text
    assert re.search(r'class="gutter doubtful">\s*<span class="doubt"', text)  # page 2: the doubt
    assert _draft(text) == ["1-2", "4-5"]
    assert f'href="/documents/{first}"' in text and f'href="/documents/{second}"' in text
    assert 'data-page="3" data-part=""' in text  # the blank separator is in no document
    links = _links(text)
    assert set(links) == {"add-2", "join-4", "move-4", "add-5", "add-3"}
    assert links["add-2"] == f"/documents/{second}/split?parts=1-1,2-2,4-5"
    assert 'id="apply-split"' in text and "Confirm this split" in text

    thumb = carol.get(f"/documents/{second}/thumbs/3.png")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert "no-store" not in thumb.headers.get("cache-control", "")
    assert Image.open(io.BytesIO(thumb.content)).width == THUMBNAIL_WIDTH
    # Rendered once, with the pages after it, into the render cache beside the page images.
    cache = app.state.review.renderer.cache_dir
    assert sorted(p.name.rsplit(".", 2)[1] for p in cache.rglob(f"*.t{THUMBNAIL_WIDTH}-p*.png")) == [
        f"t{THUMBNAIL_WIDTH}-p{n}" for n in (3, 4, 5)
    ]
    assert carol.get(f"/documents/{second}/thumbs/3.png").content == thumb.content
    assert carol.get(f"/documents/{second}/thumbs/6.png").status_code == 404

    data = carol.get(f"/api/documents/{first}/split").json()
    assert [(p["document_id"], p["first"], p["last"], p["state"]) for p in data["parts"]] == [
        (first, 1, 2, "exception"),
        (second, 4, 5, "exception"),
    ]
    assert (data["pages"], data["doubtful_pages"], data["uncertain"], data["refused"]) == (5, [2], True, None)
    assert (data["splitter"], data["split_confidence"]) == ("splitter@test", 0.61)


def test_an_uncertain_split_is_in_the_clerks_queue_with_a_way_to_check_it(
    client_for: Client, stack: list[int]
) -> None:
    carol = client_for("carol")
    items = carol.get("/api/queue", params={"reason": "SPLIT_UNCERTAIN"}).json()["items"]
    assert sorted(item["document_id"] for item in items) == stack
    assert all(item["reasons"] == ["SPLIT_UNCERTAIN"] for item in items)
    queue_page = carol.get("/queue").text
    for document_id in stack:
        assert f'href="/documents/{document_id}/split" class="check-split"' in queue_page
    document_page = carol.get(f"/documents/{stack[0]}").text
    assert 'id="check-split"' in document_page and 'id="split-link"' in document_page


def test_adding_moving_and_removing_boundaries_drafts_the_split(client_for: Client, stack: list[int]) -> None:
    _, second = stack
    carol = client_for("carol")
    start = carol.get(f"/documents/{second}/split").text
    added = carol.get(_links(start)["add-2"]).text
    assert _draft(added) == ["1-1", "2-2", "4-5"] and "draft, not saved" in added
    assert 'class="gutter changed' in added

    moving = carol.get(_links(added)["move-4"]).text
    assert 'id="move-hint"' in moving
    # In move mode only "here" is offered, between the previous document's first page and the
    # moved document's last; and nothing can be applied half-way.
    assert set(_links(moving)) == {"move-here-3", "move-here-5"}
    assert 'id="apply-split"' not in moving
    moved = carol.get(_links(moving)["move-here-5"]).text
    assert _draft(moved) == ["1-1", "2-4", "5-5"]

    joined = carol.get(_links(moved)["join-5"]).text
    assert _draft(joined) == ["1-1", "2-5"]
    again = carol.get(_links(joined)["add-4"]).text
    assert _draft(again) == ["1-1", "2-3", "4-5"]
    # Undoing goes back to the stored split; nothing was stored while drafting.
    assert 'id="reset-split"' in again
    assert _draft(carol.get(f"/documents/{second}/split").text) == ["1-2", "4-5"]


def test_applying_a_corrected_split_recreates_the_documents_with_an_audit_trail(
    client_for: Client, stack: list[int], sqlite_store: Store, files: FileStore, tmp_path: Path
) -> None:
    first = stack[0]
    carol = client_for("carol")
    token = csrf(carol, f"/documents/{first}/split")
    response = carol.post(
        f"/documents/{first}/split",
        data={"csrf_token": token, "parts": "1-1,2-3,4-4,5-5", "reason": "four invoices, one blank page"},
    )
    assert response.status_code == 303, response.text
    with sqlite_store.session() as session:
        rows = {r.id: r for r in session.scalars(select(DocumentRow))}
        new = sorted(i for i in rows if i not in stack)
        assert response.headers["location"] == f"/documents/{new[0]}/split"
        assert [rows[i].state for i in stack] == [DocState.REJECTED, DocState.REJECTED]
        assert [(rows[i].page_first, rows[i].page_last, rows[i].state) for i in new] == [
            (1, 1, "received"),
            (2, 3, "received"),
            (4, 4, "received"),
            (5, 5, "received"),
        ]
        assert {rows[i].split_from for i in new} == {first}
        assert set(session.scalars(select(ExceptionRow.status))) == {"resolved"}
        correction = session.scalars(select(SplitCorrectionRow)).one()
        assert (correction.before, correction.after, correction.actor, correction.reason) == (
            [[1, 2], [4, 5]],
            [[1, 1], [2, 3], [4, 4], [5, 5]],
            "user:carol",
            "four invoices, one blank page",
        )
        assert (correction.replaced, correction.created, correction.pages) == (stack, new, 5)
    trail = _audit(sqlite_store, [*stack, *new])
    reason = "four invoices, one blank page"
    assert sorted(trail) == sorted(
        [(i, "rejected", "user:carol", "review_app", reason) for i in stack]
        + [(i, "received", "user:carol", "review_app", reason) for i in new]
    )
    # The page of the new documents shows the corrected split, and the old ones left the queue.
    after = carol.get(response.headers["location"])
    assert _draft(after.text) == ["1-1", "2-3", "4-4", "5-5"] and "re-split: 4 document(s)" in after.text
    assert carol.get("/api/queue").json()["total"] == 0

    # The correction is training data the splitter's trainer reads from the store.
    stacks = _corrected_stacks(sqlite_store, files, tmp_path / "cache")
    (corrected,) = stacks
    assert corrected.parts == ((0, 0), (1, 1), (3, 3), (4, 4))  # the blank page 3 belongs to none
    _, labels = stack_rows(stacks)
    assert labels.tolist() == [1, 1, 1]


def test_confirming_an_uncertain_split_needs_no_reason_and_is_a_training_example(
    client_for: Client, stack: list[int], sqlite_store: Store
) -> None:
    alice = client_for("alice")
    token = csrf(alice, f"/documents/{stack[0]}/split")
    response = alice.post(
        f"/documents/{stack[0]}/split",
        data={"csrf_token": token, "parts": "1-2,4-5"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["ok"] and body["message"].startswith("split confirmed") and body["detail"]["replaced"] == stack
    )
    with sqlite_store.session() as session:
        correction = session.scalars(select(SplitCorrectionRow)).one()
        assert correction.before == correction.after == [[1, 2], [4, 5]]
        assert correction.reason == "split confirmed as shown"


@pytest.mark.slow
def test_training_on_a_corpus_learns_the_corrected_files_too(
    client_for: Client,
    stack: list[int],
    sqlite_store: Store,
    files: FileStore,
    tmp_path: Path,
    generated: tuple[Path, bytes, StackTruth],
) -> None:
    carol = client_for("carol")
    token = csrf(carol, f"/documents/{stack[0]}/split")
    carol.post(
        f"/documents/{stack[0]}/split",
        data={"csrf_token": token, "parts": "1-1,2-2,4-4,5-5", "reason": "every page is an invoice"},
    )
    cache = tmp_path / "cache"
    corrections = _corrected_stacks(sqlite_store, files, cache)
    models = tmp_path / "models"
    settings = replace(STACKS, stacks=60)
    report = train_splitter([generated[0]], models, cache, settings=settings, corrections=corrections)
    meta = (models / report["splitter"].replace("@", "/") / "meta.json").read_text()
    assert '"corrections": 1' in meta and '"correction_copies": 5' in meta


# --- refusals ----------------------------------------------------------------------------------


def _post(client: TestClient, document_id: int, **data: str) -> tuple[int, str]:
    token = csrf(client, f"/documents/{document_id}")
    response = client.post(
        f"/documents/{document_id}/split",
        data={"csrf_token": token, **data},
        headers={"accept": "application/json"},
    )
    return response.status_code, response.json().get("code", "")


def _untouched(store: Store, stack: list[int]) -> None:
    with store.session() as session:
        assert session.scalars(select(SplitCorrectionRow)).all() == []
        assert len(session.scalars(select(DocumentRow)).all()) == len(stack)


@pytest.mark.parametrize("signed_off", ["approved", "posted", "first approval"])
def test_a_file_with_a_part_signed_off_keeps_its_split(
    client_for: Client, stack: list[int], sqlite_store: Store, signed_off: str
) -> None:
    with sqlite_store.session() as session:
        row = session.get(DocumentRow, stack[1])
        assert row is not None
        if signed_off == "first approval":
            session.add(ApprovalRow(document_id=row.id, username="alice", extraction_id=None))
        else:
            transition(session, row, DocState.APPROVED, actor=Actor("test"), stage="approve")
            if signed_off == "posted":
                transition(session, row, DocState.POSTED, actor=Actor("test"), stage="post")
    carol = client_for("carol")
    page = carol.get(f"/documents/{stack[0]}/split").text
    assert 'id="split-refused"' in page and "E521" in page and 'id="apply-split"' not in page
    assert carol.get(f"/api/documents/{stack[0]}/split").json()["refused"]["code"] == "E521"
    assert _post(carol, stack[0], parts="1-1,2-2,4-5", reason="two invoices on 1-2") == (422, "E521")
    _untouched(sqlite_store, stack)


def test_refused_corrections_change_nothing(
    client_for: Client, stack: list[int], sqlite_store: Store
) -> None:
    carol, bob = client_for("carol"), client_for("bob")
    first = stack[0]
    # A changed split needs words on why.
    assert _post(carol, first, parts="1-1,2-2,4-5") == (422, "E751")
    # Page ranges that cannot be the file's documents.
    assert _post(carol, first, parts="2-1", reason="x") == (422, "E521")
    assert _post(carol, first, parts="1-2,2-5", reason="x") == (422, "E521")
    assert _post(carol, first, parts="1-2,4-9", reason="x") == (422, "E521")
    assert _post(carol, first, parts="1-2,four", reason="x") == (422, "E723")
    assert carol.get(f"/documents/{first}/split", params={"parts": "1-9"}).status_code == 422
    assert carol.get(f"/documents/{first}/split", params={"move": 2}).status_code == 422
    # Someone else's live claim on one of the file's documents.
    claim = bob.post(f"/documents/{stack[1]}/claim", data={"csrf_token": csrf(bob, f"/documents/{stack[1]}")})
    assert claim.status_code == 303
    assert _post(carol, first, parts="1-1,2-2,4-5", reason="page 2 is an invoice") == (409, "E752")
    # No CSRF token, no session.
    no_token = carol.post(f"/documents/{first}/split", data={"parts": "1-2,4-5"})
    assert no_token.status_code == 403
    anonymous = TestClient(carol.app, follow_redirects=False)
    assert anonymous.get(f"/documents/{first}/split").status_code == 303
    assert anonymous.get(f"/documents/{first}/thumbs/1.png").status_code == 303
    _untouched(sqlite_store, stack)
    with sqlite_store.session() as session:
        assert {row.state for row in session.scalars(select(DocumentRow))} == {DocState.EXCEPTION}


def test_a_file_without_pages_has_no_split_page(client_for: Client, seeded: dict[str, int]) -> None:
    carol = client_for("carol")
    # A one-page invoice can still be split page by page (nothing to cut, but it shows).
    page = carol.get(f"/documents/{seeded['price']}/split")
    assert page.status_code == 200 and page.text.count('class="thumb"') == 1
    assert 'id="apply-split"' not in page.text  # nothing changed, nothing uncertain
    assert carol.get("/documents/999999/split").status_code == 404
