"""The fault run at full size: 500 documents through 3 workers with SIGKILLs, a PostgreSQL restart
and mail arriving, as ``tests/reliability/test_faults.py`` runs it on 100 in CI.

Runs that test with ``LEDGERBOT_FAULT_DOCS`` (default 500) and more kills, and prints its
summary lines (documents, kills, restart time, wall time, final states, ERP invoices, audit
chain) and whether every check held. The alternative a user would otherwise have is no such
check at all; the figures are ours only.

    .venv/bin/python benchmarks/bench_faults.py --docs 500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--deadline", type=float, default=3000)
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LEDGERBOT_FAULT_DOCS": str(args.docs),
        "LEDGERBOT_FAULT_KILLS": str(args.kills),
        "LEDGERBOT_FAULT_DEADLINE": str(args.deadline),
    }
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "tests/reliability/test_faults.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [
        line.strip() for line in run.stdout.splitlines() if line.strip().startswith(("faults:", "states"))
    ]
    for line in lines:
        print(line, file=sys.stderr)
    print(
        json.dumps(
            {
                "documents": args.docs,
                "kills": args.kills,
                "all_checks_held": run.returncode == 0,
                "seconds": round(time.monotonic() - started, 1),
                "summary": lines,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    if run.returncode != 0:
        print(run.stdout[-4000:], file=sys.stderr)


if __name__ == "__main__":
    main()
