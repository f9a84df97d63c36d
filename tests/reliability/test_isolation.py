"""No input stops the line: each entry point gets the hostile set plus a good invoice.

Every bad file must end as its own coded failure, the good invoice must be processed, and a
second run over the same files must record nothing twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledgerbot.core.safe_files import display_name, read_regular_file
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore, Store, get_store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow
from tests.reliability.hostile import GOOD, build
from tests.worker.harness import seed_store

REPO = Path(__file__).resolve().parents[2]
LEDGERBOT = str(Path(sys.executable).with_name("ledgerbot"))
PROCESSED = {"approved", "matched", "exception"}


def _outcomes(store: Store) -> dict[str, tuple[str, str | None]]:
    """file name -> (state, code of its last failure)."""
    out: dict[str, tuple[str, str | None]] = {}
    with store.session() as s:
        for doc in s.scalars(select(DocumentRow).order_by(DocumentRow.id)):
            failure = s.scalars(
                select(AuditEventRow.outcome)
                .where(AuditEventRow.document_id == doc.id, AuditEventRow.to_state == "failed")
                .order_by(AuditEventRow.id.desc())
            ).first()
            out[doc.filename] = (doc.state, failure)
    return out


def _assert_isolated(store: Store, expected: dict[str, object]) -> None:
    outcomes = _outcomes(store)
    assert outcomes[GOOD][0] in PROCESSED, outcomes[GOOD]
    for name, want in expected.items():
        code = want.intake or want.read  # type: ignore[attr-defined]
        assert outcomes[name] == ("failed", code), (name, outcomes[name])
    assert len(outcomes) == len(expected) + 1


def _documents(store: Store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(DocumentRow)) or 0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture
def store_home(tmp_path: Path) -> Store:
    store = get_store()
    seed_store(store)
    return store


def test_folder_intake_records_each_bad_file_and_a_second_run_adds_nothing(
    store_home: Store, tmp_path: Path
) -> None:
    from ledgerbot import runner

    inbox = tmp_path / "inbox"
    expected = build(inbox, tmp_path)
    run = subprocess.run(
        [LEDGERBOT, "ingest", str(inbox)], env=_env(), capture_output=True, cwd=REPO, timeout=300
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    lines = {Path(line["file"]).name: line for line in map(json.loads, run.stdout.decode().splitlines())}
    assert set(lines) == {GOOD, *expected}
    for name, want in expected.items():
        assert lines[name].get("code") == want.intake, (name, lines[name])
    before = _documents(store_home)
    again = subprocess.run(
        [LEDGERBOT, "ingest", str(inbox)], env=_env(), capture_output=True, cwd=REPO, timeout=300
    )
    assert again.returncode == 0
    assert all(json.loads(line)["already_received"] for line in again.stdout.decode().splitlines())
    assert _documents(store_home) == before
    # Processing the stored ones: each unreadable one fails with its code, the good one goes on.
    summary = runner.process()
    assert summary["processed"] == len(expected) + 1 - sum(1 for w in expected.values() if w.intake)
    _assert_isolated(store_home, expected)
    assert (inbox / "fifo.pdf").exists() and (inbox / "empty.pdf").exists()  # originals kept


def test_extract_gives_every_file_its_own_coded_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    expected = build(folder, tmp_path, folder_entry="dir")
    names = [GOOD, *expected]
    run = subprocess.run(
        [LEDGERBOT, "extract", *[str(folder / n) for n in names]],
        env=_env(),
        capture_output=True,
        cwd=REPO,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    results = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert [Path(r["source"]).name for r in results] == names
    assert results[0]["doc_type"] == "invoice" and not results[0]["errors"]
    for name, result in zip(names[1:], results[1:], strict=True):
        assert result["doc_type"] is None and result["errors"][0]["code"] == expected[name].read, (
            name,
            result,
        )


def test_robot_tasks_take_the_hostile_folder_and_go_on(
    store_home: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbot.core.settings import get_settings

    inbox = tmp_path / "inbox"
    expected = build(inbox, tmp_path)
    monkeypatch.setenv("LEDGERBOT_INBOX", str(inbox))
    get_settings.cache_clear()
    try:
        from robots import tasks

        intake = tasks.folder_intake()
        assert (intake["received"], intake["failed"]) == (7, 4)
        assert tasks.folder_intake()["already_received"] == 11
        processed = tasks.process_documents()
        assert processed["processed"] == 7
    finally:
        get_settings.cache_clear()
    _assert_isolated(store_home, expected)


def test_worker_jobs_take_the_hostile_folder_and_go_on(store_home: Store, tmp_path: Path) -> None:
    from ledgerbot.worker import jobs
    from ledgerbot.worker.config import WorkerSettings

    inbox = tmp_path / "inbox"
    expected = build(inbox, tmp_path)
    rt = jobs.Runtime(store_home, FileStore(get_settings().files_dir), WorkerSettings(inbox=inbox))
    ids = jobs.intake_folder(rt)
    assert len(ids) == 11
    for document_id in ids:
        jobs.process_or_fail(rt, document_id, last_attempt=False)
    _assert_isolated(store_home, expected)
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == [
        "a-folder.pdf",
        "dev-zero.pdf",
        "empty.pdf",
        "fifo.pdf",
    ]
    assert len(list((inbox / "received").iterdir())) == 7
    assert jobs.intake_folder(rt) == []


def test_file_names_are_escaped_for_display_and_devices_never_block(tmp_path: Path) -> None:
    from ledgerbot.core.errors import UnreadableFile
    from ledgerbot.intake import receive_path

    assert display_name("bill\u202efdp.exe") == "bill\\u202efdp.exe"
    assert display_name("a\x1b[31mb\nc d.pdf") == "a\\u001b[31mb\\u000ac d.pdf"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFile):  # would block forever on a plain open()
        read_regular_file(fifo)
    with pytest.raises(UnreadableFile):
        read_regular_file(Path("/dev/zero"))
    store = get_store()
    name = tmp_path / "bill\u202efdp.exe.pdf"
    name.write_bytes(b"%PDF-1.4 x")
    received = receive_path(store, FileStore(tmp_path / "files"), name, source="folder")
    with store.session() as s:
        doc = s.get(DocumentRow, received.document_id)
        assert doc is not None and doc.filename == "bill\\u202efdp.exe.pdf"
        assert doc.meta["filename_as_sent"] == "bill\u202efdp.exe.pdf"
