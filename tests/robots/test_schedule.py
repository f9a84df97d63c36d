"""`ledgerbot schedule`: a failing robot run is reported as a JSON line and the schedule goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.mailserver import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_unreachable_systems_are_reported_per_job_and_the_loop_continues(tmp_path: Path) -> None:
    closed = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEDGERBOT_")},
        "LEDGERBOT_HOME": str(tmp_path / "var"),
        "LEDGERBOT_ERP_URL": f"http://127.0.0.1:{closed}",
        "LEDGERBOT_ERP_PASSWORD": "robot-pass-1",
        "LEDGERBOT_IMAP_PORT": str(closed),
        "LEDGERBOT_IMAP_USER": "ap@example.test",
        "LEDGERBOT_IMAP_PASSWORD": "imap-secret-value",
    }
    run = subprocess.run(
        [sys.executable, "-m", "ledgerbot", "schedule", "--iterations", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["job"] for line in lines] == ["erp_pull", "intake", "posting"]
    pull, intake, posting = lines
    assert (pull["ok"], pull["error"]["code"]) == (False, "E731")  # the ERP could not be reached
    # nor the mailbox: reported inside the intake run, whose processing still went on
    assert intake["ok"] is True and intake["summary"]["mail"]["error"]["code"] == "E713"
    assert intake["summary"]["processing"]["processed"] == 0
    # Nothing was approved, so the posting robot had nothing to type and its run is clean.
    assert posting["ok"] is True and posting["summary"]["posted"] == 0
    assert "imap-secret-value" not in run.stdout + run.stderr
