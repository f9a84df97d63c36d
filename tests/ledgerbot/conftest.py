"""A real Dovecot for the mail-intake tests: one server per session, one folder per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted
from pydantic import SecretStr

from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import Store
from sandbox import mailserver
from tests.ledgerbot.mails import PASSWORD, USER


@pytest.fixture(scope="session")
def imap() -> Iterator[mailserver.MailServer]:
    with mailserver.running({USER: PASSWORD}) as server:
        yield server
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def settings(imap: mailserver.MailServer, request: pytest.FixtureRequest) -> MailSettings:
    # A folder per test keeps tests independent on the one server.
    folder = f"T{abs(hash(request.node.nodeid)) % 10**8}"
    with MailBoxUnencrypted(imap.host, imap.port).login(USER, PASSWORD) as box:
        box.folder.create(folder)
    return MailSettings(
        host=imap.host,
        port=imap.port,
        user=USER,
        password=SecretStr(PASSWORD),
        folder=folder,
        processed_folder=f"{folder}-done",
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    return store
