"""Scaling benchmark: documents per second through the processing stages with 1 and 2 workers.

Each run gets a fresh PostgreSQL database, the sandbox master data and the same sample corpus;
K ``ledgerbot worker`` processes are started and registered first, then every document is
queued and the clock runs until none is left in a processing state (intake -> parse ->
classify -> extract -> validate -> match -> approve or review). Posting is left out on purpose:
one robot per ERP account is the rule, so it does not scale with workers.

Extraction uses the corpus-truth reader by default (a test double; ``--delay`` adds a fixed
per-document sleep to stand in for OCR/model time), or the real pipeline with ``--reader
pipeline``. Prints one JSON line per run and a summary line with the speed-up; never asserts.

    .venv/bin/python benchmarks/bench_scaling.py --docs 200 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ledgerbot.core.store import FileStore, Store  # noqa: E402
from ledgerbot.worker.app import build_app, enqueue_pending, ensure_schema  # noqa: E402
from ledgerbot.worker.config import WorkerSettings  # noqa: E402
from ledgerbot.worker.jobs import Runtime  # noqa: E402
from tests.worker.harness import Cluster, corpus_files, ingest, seed_store, state_counts, unsettled  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _database() -> str:
    name = f"ledgerbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _registered_workers(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('procrastinate_workers')")).scalar() is None:
                return 0
            return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() or 0)
    finally:
        engine.dispose()


def run(workers: int, corpus: Path, work: Path, env: dict[str, str], timeout: float) -> dict[str, object]:
    url = _database()
    home = work / f"home-{workers}-{uuid.uuid4().hex[:6]}"
    store = Store(url)
    cluster = Cluster(url, home, env)
    try:
        store.migrate()
        seed_store(store)
        files = FileStore(home / "files")
        app = build_app(url, WorkerSettings())
        with app.open():
            ensure_schema(url, app)
        ids = ingest(store, files, corpus_files(corpus))
        for slot in range(workers):
            cluster.start(slot)
        deadline = time.monotonic() + 120
        while _registered_workers(url) < workers and time.monotonic() < deadline:
            time.sleep(0.5)
        with app.open():
            started = time.monotonic()
            enqueue_pending(app, Runtime(store, files, WorkerSettings()))
        while unsettled(store, posting=False) and time.monotonic() - started < timeout:
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        left = unsettled(store, posting=False)
        return {
            "workers": workers,
            "documents": len(ids),
            "seconds": round(elapsed, 2),
            "docs_per_second": round((len(ids) - left) / elapsed, 3),
            "unfinished": left,
            "states": state_counts(store),
        }
    finally:
        cluster.stop()
        store.dispose()
        _drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--reader", choices=["truth", "pipeline"], default="truth")
    parser.add_argument("--delay", type=float, default=0.0, help="truth reader: seconds per document")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    from sandbox.corpus import generate_corpus

    with tempfile.TemporaryDirectory(prefix="ledgerbot-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        print(f"generating {args.docs} documents ...", file=sys.stderr)
        generate_corpus(corpus, args.docs, seed=args.seed, scans=args.reader == "pipeline")
        env = (
            {"LEDGERBOT_READER": "ledgerbot.worker.readers:truth_reader", "LEDGERBOT_TRUTH_DIR": str(corpus)}
            if args.reader == "truth"
            else {"LEDGERBOT_READER": "ledgerbot.worker.readers:pipeline_reader"}
        )
        if args.delay:
            env["LEDGERBOT_TRUTH_DELAY"] = str(args.delay)
        rates: list[tuple[int, float]] = []
        for count in [int(w) for w in args.workers.split(",")]:
            print(f"running with {count} worker(s) ...", file=sys.stderr)
            result = run(count, corpus, work, env, args.timeout)
            result.update({"reader": args.reader, "delay": args.delay})
            print(json.dumps(result), flush=True)
            rates.append((count, float(str(result["docs_per_second"]))))
        base = rates[0][1]
        summary = {
            "speedup": {str(workers): round(rate / base, 2) for workers, rate in rates} if base else {},
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
