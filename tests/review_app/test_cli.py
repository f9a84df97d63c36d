"""``ledgerbot users`` / ``labels`` / ``review``: users from a hidden password, never echoed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.store import get_store
from ledgerbot.core.store.review import UserRow
from review_app.security import UserError, verify_password

SECRET = "s3cret-enough-passphrase"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _load_commands()
    return CliRunner()


def test_users_add_reads_the_password_from_stdin(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["users", "add", "alice", "--role", "approver", "--password-stdin"], input=SECRET + "\n"
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    line = json.loads(result.stdout.strip())
    assert line["username"] == "alice" and line["role"] == "approver"
    with get_store().session() as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "alice"))
        assert user is not None and user.password_hash.startswith("$argon2")
        assert SECRET not in user.password_hash
        assert verify_password(user.password_hash, SECRET)
    listed = runner.invoke(app, ["users", "list"])
    assert [json.loads(x)["username"] for x in listed.stdout.splitlines()] == ["alice"]
    assert "argon2" not in listed.stdout


def test_users_add_reads_the_password_from_the_environment(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBOT_REVIEW_PASSWORD", SECRET)
    result = runner.invoke(app, ["users", "add", "carol"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["role"] == "clerk"


def test_users_add_refuses_bad_input_with_a_code(runner: CliRunner) -> None:
    short = runner.invoke(app, ["users", "add", "bob", "--password-stdin"], input="short\n")
    assert isinstance(short.exception, UserError) and short.exception.code == "E701"
    role = runner.invoke(
        app, ["users", "add", "bob", "--role", "boss", "--password-stdin"], input=SECRET + "\n"
    )
    assert isinstance(role.exception, UserError) and "clerk, approver, admin" in role.exception.message
    runner.invoke(app, ["users", "add", "bob", "--password-stdin"], input=SECRET + "\n")
    again = runner.invoke(app, ["users", "add", "bob", "--password-stdin"], input=SECRET + "\n")
    assert isinstance(again.exception, UserError) and "already exists" in again.exception.message


def test_review_command_offers_port_and_host(runner: CliRunner) -> None:
    result = runner.invoke(app, ["review", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output


def test_labels_export_on_an_empty_store_writes_nothing(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["labels", "export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert list((tmp_path / "out").iterdir()) == []


def test_review_opens_the_demos_store_until_there_are_documents_of_ones_own(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from ledgerbot.cli.commands.review import open_demo_by_default
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import Store

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGERBOT_HOME", raising=False)
    monkeypatch.delenv("LEDGERBOT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        open_demo_by_default()
        assert "LEDGERBOT_HOME" not in os.environ  # no demo yet: the usual store
        (tmp_path / "var" / "demo").mkdir(parents=True)
        demo = Store(f"sqlite:///{tmp_path / 'var' / 'demo' / 'ledgerbot.db'}")
        demo.migrate()
        demo.dispose()
        open_demo_by_default()
        assert os.environ["LEDGERBOT_HOME"] == str((tmp_path / "var" / "demo").resolve())
        assert get_settings().home == (tmp_path / "var" / "demo").resolve()
    finally:
        monkeypatch.delenv("LEDGERBOT_HOME", raising=False)
        get_settings.cache_clear()
