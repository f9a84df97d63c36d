"""Classifier throughput: documents per second for baseline, transformer and cascade, and peak memory.

Each model runs in its own child process so its peak resident memory is its own. Inference is
batched (the transformer 32 documents at a time on ``--threads`` torch threads, default both
cores); the text layers are read once beforehand (and cached), so the figures are the
classifiers' alone, feature extraction from the ``Document`` included.

    .venv/bin/python benchmarks/bench_classifiers.py [--corpus DIR] [--models-dir DIR] [--limit N]

Without ``--corpus`` a 120-document sample corpus is generated once under ``var/bench/``.
Without trained models it says how to train them and exits without figures. It never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ("baseline", "transformer", "cascade")


def _documents(corpus: Path, limit: int | None) -> list:
    from classifiers.corpus import default_reader, scan_corpus
    from classifiers.textcache import TextLayerCache
    from ledgerbot.core.settings import get_settings

    reader, name, read_many = default_reader()
    cache = TextLayerCache(get_settings().home / "cache" / "textlayer", reader, name)
    found = scan_corpus([corpus])[:limit]
    docs, misses = [], []
    for item in found:
        doc = cache.lookup(item.sha256)
        if doc is None:
            misses.append(item)
        else:
            docs.append(doc)
    if misses:
        print(f"reading {len(misses)} text layers (cached for next time)", file=sys.stderr)
        for item, result in zip(misses, read_many([m.path for m in misses]), strict=True):
            if not isinstance(result, Exception):
                cache.put(item.sha256, result)
                docs.append(result)
    return docs


def _child(
    component: str, corpus: Path, models_dir: Path, limit: int | None, threads: int, repeat: int
) -> dict:
    """Runs in a fresh process: load one model, time batched inference over the corpus."""
    os.environ["LEDGERBOT_TORCH_THREADS"] = str(threads)
    from classifiers.cascade import Cascade
    from classifiers.features import extract_features

    docs = _documents(corpus, limit)
    started = time.perf_counter()
    cascade = Cascade.load(models_dir)
    if component != "baseline":
        # Load the weights now, outside the timed part (the cascade loads them lazily).
        cascade.transformer  # noqa: B018
    load_seconds = time.perf_counter() - started

    def run(batch: list) -> object:
        if component == "cascade":
            return cascade.classify(batch)
        features = [extract_features(d) for d in batch]
        model = cascade.baseline if component == "baseline" else cascade.transformer
        return model.predict_proba(features)

    run(docs[:8])  # warm-up: first-call allocations and lazy imports stay out of the figure
    routed = 0
    started = time.perf_counter()
    for _ in range(repeat):
        out = run(docs)
    seconds = time.perf_counter() - started
    if component == "cascade" and isinstance(out, list):
        routed = len([c for c in out if c.route == "combined"])
    return {
        "component": component,
        "version": cascade.version,
        "documents": len(docs) * repeat,
        "seconds": round(seconds, 3),
        "docs_per_second": round(len(docs) * repeat / seconds, 1),
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "routed_to_transformer": routed // max(1, repeat) if component == "cascade" else None,
        "threads": threads,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="at most this many documents")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (both cores by default)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the documents per figure")
    parser.add_argument("--child", choices=COMPONENTS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    from ledgerbot.core.artifacts import ArtifactStore
    from ledgerbot.core.settings import get_settings

    models_dir = args.models_dir or get_settings().models_dir
    corpus = args.corpus
    if args.child:
        print(json.dumps(_child(args.child, corpus, models_dir, args.limit, args.threads, args.repeat)))
        return 0
    if ArtifactStore(models_dir).latest_version("cascade") is None:
        print(
            f"no trained classifier in {models_dir}: run `ledgerbot train classifier <corpus>` first; "
            "no figures",
            file=sys.stderr,
        )
        return 0
    if corpus is None:
        corpus = get_settings().home / "bench" / "classifier-corpus"
        if not (corpus / "manifest.json").exists():
            from sandbox.corpus import generate_corpus

            print(f"generating a 120-document sample corpus in {corpus}", file=sys.stderr)
            generate_corpus(corpus, 120, 3)
    _documents(corpus, args.limit)  # fill the text-layer cache once, outside every timing
    results = []
    for component in COMPONENTS:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            component,
            "--corpus",
            str(corpus),
            "--models-dir",
            str(models_dir),
        ]
        cmd += ["--threads", str(args.threads), "--repeat", str(args.repeat)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{'component':<12} {'docs':>6} {'docs/s':>9} {'load s':>7} {'peak MB':>8}  version", file=sys.stderr
    )
    for r in results:
        print(
            f"{r['component']:<12} {r['documents']:>6} {r['docs_per_second']:>9} {r['load_seconds']:>7} "
            f"{r['peak_rss_mb']:>8}  {r['version']}",
            file=sys.stderr,
        )
    print(json.dumps({"corpus": str(corpus), "load_average": os.getloadavg(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
