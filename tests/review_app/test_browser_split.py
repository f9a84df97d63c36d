"""Correcting a file's split in a real headless Chromium: from the queue to the page thumbnails,
a boundary added and one moved by clicking, the documents re-created from the corrected split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, SplitCorrectionRow
from sandbox.corpus.stacks import StackTruth
from tests.review_app.conftest import sign_in
from tests.review_app.split_factory import SPLITTER_SAYS, SplittingReader, make_stack, receive_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, StackTruth]:
    return make_stack(tmp_path_factory.mktemp("split-stack"))


def _wait_until_drawn(page: Any, image: Any) -> None:
    image.scroll_into_view_if_needed()
    for _ in range(100):
        if image.evaluate("i => i.complete && i.naturalWidth > 0"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{image.get_attribute('src')} was not drawn")


def _draft(page: Any) -> list[str]:
    cells = page.locator("#split-parts tbody tr")
    return [cells.nth(i).get_attribute("data-pages") for i in range(cells.count())]


def test_a_clerk_moves_a_boundary_by_clicking_and_recreates_the_documents(
    server: str,
    browser: Any,
    sqlite_store: Store,
    files: FileStore,
    generated: tuple[Path, bytes, StackTruth],
    shots: Path,
) -> None:
    stack = receive_stack(sqlite_store, files, generated[1], SplittingReader(SPLITTER_SAYS))
    carol = sign_in(browser, server, "carol")
    carol.goto(f"{server}/queue?reason=SPLIT_UNCERTAIN")
    assert carol.locator("#queue tbody tr").count() == 2
    carol.locator("a.check-split").first.click()
    carol.wait_for_selector("#split-pages")
    assert carol.locator("#split-uncertain").is_visible()
    # Every page is there as a rendered thumbnail.
    images = carol.locator(".thumb img")
    assert images.count() == 5
    for i in range(5):
        _wait_until_drawn(carol, images.nth(i))
    assert _draft(carol) == ["1-2", "4-5"]
    assert carol.locator("#page-2 .doubt").is_visible()
    carol.screenshot(path=str(shots / "split-before.png"), full_page=True)

    # Page 2 is an invoice of its own: split there.
    carol.click("#add-2")
    carol.wait_for_selector("#page-2.boundary")
    assert _draft(carol) == ["1-1", "2-2", "4-5"]

    # The boundary before page 4 is moved to page 5 by clicking: "move", then "here".
    carol.click("#move-4")
    carol.wait_for_selector("#move-hint")
    assert carol.locator("#apply-split").count() == 0
    carol.click("#move-here-5")
    carol.wait_for_selector("#page-5.boundary")
    assert _draft(carol) == ["1-1", "2-4", "5-5"]
    assert carol.locator("#page-4").get_attribute("data-part") == "2"
    assert "changed" in (carol.locator("#page-5 .gutter").get_attribute("class") or "")
    # Page 4 begins a document too; the blank page 3 stays with the invoice before it.
    carol.click("#add-4")
    carol.wait_for_selector("#page-4.boundary")
    assert _draft(carol) == ["1-1", "2-3", "4-4", "5-5"]
    carol.screenshot(path=str(shots / "split-draft.png"), full_page=True)

    carol.fill("#split-reason", "pages 2, 4 and 5 are invoices of their own")
    carol.click("#apply-split")
    carol.wait_for_selector(".notice")
    assert "re-split: 4 document(s)" in carol.locator(".notice").inner_text()
    assert carol.locator("#split-uncertain").count() == 0
    assert _draft(carol) == ["1-1", "2-3", "4-4", "5-5"]
    assert carol.locator("#split-parts").inner_text().count("received") == 4
    carol.screenshot(path=str(shots / "split-after.png"), full_page=True)

    with sqlite_store.session() as session:
        correction = session.scalars(select(SplitCorrectionRow)).one()
        assert correction.after == [[1, 1], [2, 3], [4, 4], [5, 5]] and correction.actor == "user:carol"
        assert {session.get(DocumentRow, i).state for i in stack} == {"rejected"}  # type: ignore[union-attr]
    assert carol.errors == []
