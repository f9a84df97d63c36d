"""Scale-out on the real pipeline: documents/s with 1 and 2 ``ledgerbot worker`` processes.

Each worker is held to one CPU core (``taskset``), so the ratio shows what a second machine adds,
not what a second core of the same process adds; the text layer inside a worker sees one core
and runs one OCR process. The pipeline is the production one (text layer with pdfplumber and
tesseract, the classifier cascade, templates and the generic extractor, the rules engine):
models are trained first on a separate generated development corpus (or taken from
``--models``). The store is PostgreSQL; every run gets a fresh database and the same corpus of
generated documents (born-digital, scans and e-invoices). The clock runs from queueing until no
document is left in a processing state. Target: 2 workers >= 1.7x one.

The alternative a user would pick is one ``ledgerbot run`` process (the embedded default); its
figure is printed too (``--no-run`` skips it). Prints one JSON line per run and a summary line;
never asserts. Figures taken on a shared machine are noisy: the load average is printed.

    .venv/bin/python benchmarks/bench_workers.py --docs 500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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
from tests.worker.harness import (  # noqa: E402
    LEDGERBOT,
    Cluster,
    corpus_files,
    ingest,
    seed_store,
    state_counts,
    unsettled,
)

ADMIN_URL = os.environ.get("LEDGERBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET = 1.7


class PinnedCluster(Cluster):
    """Workers started under ``taskset``: worker ``slot`` runs on core ``slot`` (modulo the cores)."""

    def start(self, slot: int) -> None:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        core = sorted(os.sched_getaffinity(0))[slot % len(os.sched_getaffinity(0))]
        with open(logs / f"worker-{slot}.log", "ab") as log:
            self.processes[slot] = subprocess.Popen(
                [
                    "taskset",
                    "-c",
                    str(core),
                    LEDGERBOT,
                    "worker",
                    "--name",
                    f"w{slot}",
                    "--log-level",
                    "WARNING",
                ],
                cwd=REPO,
                env=self.env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )


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


def _workers_ready(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('procrastinate_workers')")).scalar() is None:
                return 0
            return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() or 0)
    finally:
        engine.dispose()


def train_models(out: Path, seed: int) -> Path:
    """Small real models on a development-split corpus of their own (never the measured one)."""
    from classifiers.train import train_all
    from classifiers.transformer import TransformerConfig
    from extractors.generic.training import train_ranker
    from sandbox.corpus import generate_corpus

    corpus = out.parent / "training-corpus"
    generate_corpus(corpus, n=200, seed=seed + 1000, split="dev", scans=False)
    config = TransformerConfig(max_length=64, batch_size=8, epochs=1, max_steps=40, threads=2)
    train_all([corpus], out, transformer_config=config, seed=0)
    train_ranker(corpus, models_dir=out, log=lambda _m: None)
    return out


def run_workers(
    count: int, corpus: Path, work: Path, env: dict[str, str], timeout: float
) -> dict[str, object]:
    url = _database()
    home = work / f"home-{count}-{uuid.uuid4().hex[:6]}"
    store = Store(url)
    cluster = PinnedCluster(url, home, env)
    try:
        store.migrate()
        seed_store(store)
        files = FileStore(home / "files")
        app = build_app(url, WorkerSettings())
        with app.open():
            ensure_schema(url, app)
        ids = ingest(store, files, corpus_files(corpus))
        for slot in range(count):
            cluster.start(slot)
        deadline = time.monotonic() + 180
        while _workers_ready(url) < count and time.monotonic() < deadline:
            time.sleep(0.5)
        with app.open():
            started = time.monotonic()
            enqueue_pending(app, Runtime(store, files, WorkerSettings()))
        while unsettled(store, posting=False) and time.monotonic() - started < timeout:
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        left = unsettled(store, posting=False)
        return {
            "runner": f"{count} worker(s), one core each",
            "workers": count,
            "documents": len(ids),
            "seconds": round(elapsed, 1),
            "docs_per_second": round((len(ids) - left) / elapsed, 3),
            "unfinished": left,
            "states": state_counts(store),
        }
    finally:
        cluster.stop()
        store.dispose()
        _drop(url)


def run_embedded(corpus: Path, work: Path, env: dict[str, str], timeout: float) -> dict[str, object]:
    """The alternative: one ``ledgerbot run`` (no mail, no ERP) on the embedded SQLite store."""
    home = work / f"home-run-{uuid.uuid4().hex[:6]}"
    store = Store(f"sqlite:///{(home / 'ledgerbot.db').resolve()}")
    store.migrate()
    seed_store(store)
    ids = ingest(store, FileStore(home / "files"), corpus_files(corpus))
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBOT_")}
    run_env.update({"LEDGERBOT_HOME": str(home), **{k: v for k, v in env.items() if k == "LEDGERBOT_MODELS"}})
    core = str(sorted(os.sched_getaffinity(0))[0])
    started = time.monotonic()
    subprocess.run(
        ["taskset", "-c", core, LEDGERBOT, "run", "--no-mail", "--no-pull", "--no-post"],
        cwd=REPO,
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
    )
    elapsed = time.monotonic() - started
    left = unsettled(store, posting=False)
    result = {
        "runner": "ledgerbot run (embedded SQLite), one core",
        "workers": 0,
        "documents": len(ids),
        "seconds": round(elapsed, 1),
        "docs_per_second": round((len(ids) - left) / elapsed, 3),
        "unfinished": left,
        "states": state_counts(store),
    }
    store.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--models", type=Path, default=None, help="trained models (default: train small ones)"
    )
    parser.add_argument("--no-scans", action="store_true", help="born-digital and e-invoices only (no OCR)")
    parser.add_argument("--no-run", action="store_true", help="skip the single 'ledgerbot run' figure")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    from sandbox.corpus import generate_corpus

    with tempfile.TemporaryDirectory(prefix="ledgerbot-bench-workers-") as tmp:
        work = Path(tmp)
        models = args.models
        if models is None:
            print("training small models on a separate development corpus ...", file=sys.stderr)
            models = train_models(work / "models", args.seed)
        corpus = work / "corpus"
        print(f"generating {args.docs} documents ...", file=sys.stderr)
        generate_corpus(corpus, args.docs, seed=args.seed, scans=not args.no_scans)
        env = {
            "LEDGERBOT_READER": "ledgerbot.worker.readers:pipeline_reader",
            "LEDGERBOT_MODELS": str(models),
        }
        results = []
        if not args.no_run:
            print("running one 'ledgerbot run' ...", file=sys.stderr)
            results.append(run_embedded(corpus, work, env, args.timeout))
            print(json.dumps(results[-1]), flush=True)
        rates = {}
        for count in (1, 2):
            print(f"running {count} worker(s) ...", file=sys.stderr)
            result = run_workers(count, corpus, work, env, args.timeout)
            print(json.dumps(result), flush=True)
            rates[count] = float(str(result["docs_per_second"]))
        ratio = rates[2] / rates[1] if rates[1] else 0.0
        print(
            json.dumps(
                {
                    "docs_per_second_1_worker": rates[1],
                    "docs_per_second_2_workers": rates[2],
                    "ratio_2_to_1": round(ratio, 2),
                    "target_ratio": TARGET,
                    "cores": len(os.sched_getaffinity(0)),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
