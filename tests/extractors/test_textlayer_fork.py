"""Workers forked from the reading process keep a spawned worker's isolation: a file that hangs
or kills its worker costs that file alone, and their CPU is counted as the workers'."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from textlayer_docs import Placed, invoice_lines, many_pages_pdf, pdf_bytes

from textlayer import TextLayerConfig
from textlayer.reader import _can_fork

REPO = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: a test process runs threads of its own (pytest-xdist's), and a
# reader forks its workers only from a process with a single thread.
_SCRIPT = """
import json, os, signal, sys, threading
from pathlib import Path
from ledgerbot.cost import worker_cpu
from textlayer import Document, TextLayerConfig, TextLayerError, TextLayerReader
from textlayer.reader import _Forked

hang, small, other = (Path(p).read_bytes() for p in sys.argv[1:4])
out = {}
# A 10 ms budget, which no parse of a 300-page PDF meets, stands in for a file that hangs.
with TextLayerReader(TextLayerConfig(parse_timeout=0.01, workers=1)) as reader:
    reader.start(tasks=1)
    out["forked"] = [isinstance(w.proc, _Forked) for w in reader._workers]
    results = list(reader.read_many([hang, small]))
    out["read"] = [r.code if isinstance(r, TextLayerError) else r.text for r in results]
    out["replaced_forked"] = [isinstance(w.proc, _Forked) for w in reader._workers]
with TextLayerReader(TextLayerConfig(workers=2)) as reader:
    reader.start(tasks=2)
    out["forked"] += [isinstance(w.proc, _Forked) for w in reader._workers]
    before = worker_cpu()
    out["other"] = [d.text for d in reader.read_many([other, other, other])]
    out["worker_cpu"] = worker_cpu() - before
    dead = reader._workers[0].proc
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait()
    out["after_kill"] = reader.read(small).text
    pids = [w.proc.pid for w in reader._workers]
out["stopped"] = all(not Path(f"/proc/{pid}").exists() for pid in pids)
# A server's own SIGTERM handler is not its forked workers': a worker ends on SIGTERM as a fresh one does.
signal.signal(signal.SIGTERM, lambda *_: None)
with TextLayerReader(TextLayerConfig(workers=1)) as reader:
    reader.start(tasks=1)
    reader.read(small)
    worker = reader._workers[0].proc
    os.kill(worker.pid, signal.SIGTERM)
    out["terminated"] = worker.wait(timeout=30)
# With another thread running, a fork could copy a lock that thread holds: spawned instead.
stop = threading.Event()
threading.Thread(target=stop.wait, daemon=True).start()
with TextLayerReader(TextLayerConfig(workers=1)) as reader:
    reader.start(tasks=1)
    out["with_thread_forked"] = isinstance(reader._workers[0].proc, _Forked)
    out["with_thread_read"] = reader.read(small).text
stop.set()
print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_forked_workers_are_isolated_and_counted(tmp_path: Path) -> None:
    files = {
        "hang.pdf": many_pages_pdf(300),
        "small.pdf": pdf_bytes([[Placed("still here", 50, 800)]]),
        "other.pdf": pdf_bytes([invoice_lines()]),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *(str(tmp_path / name) for name in files)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["forked"] == [True, True, True]
    assert seen["read"] == ["E207", "still here"]  # the hung file alone fails; the batch goes on
    assert seen["replaced_forked"] == [True]  # the hung worker's replacement is a fork too
    assert all("RE-2026-1000" in text for text in seen["other"])
    assert seen["worker_cpu"] > 0  # ledgerbot.cost sees the forked workers' CPU
    assert seen["after_kill"] == "still here"  # a worker that died while idle is replaced
    assert seen["stopped"]
    assert seen["terminated"] == -15
    assert seen["with_thread_forked"] is False and seen["with_thread_read"] == "still here"


def test_no_fork_when_turned_off_or_too_large_for_the_memory_limit() -> None:
    assert not _can_fork(TextLayerConfig(fork_below_limit_share=0))
    # This process maps far more than a thousandth of a 1 MiB limit.
    assert not _can_fork(TextLayerConfig(memory_limit_mb=1, fork_below_limit_share=0.001))
