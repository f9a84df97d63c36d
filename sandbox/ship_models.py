"""Build the classifier and splitter shipped with the code: ``make models``.

Trains them exactly as ``make demo`` does on a fresh machine (the demo's corpora, seed and
commands, ``demo.ensure_models``) into ``WORK/shipped-build/models``, then ships them into
``classifiers/model/`` with their provenance: training seed, corpus sizes, the code version
(commit, and whether the tree had uncommitted changes) and the feature versions. Corpora and the
text-layer cache live in ``WORK`` (default ``var/``, the demo's), so a machine that ran the demo
re-reads nothing. Progress on stderr; one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from classifiers.shipped import SHIPPED_MODELS, ship
from sandbox.demo import CLASSIFIER_RANDOM_DOCS, SPLITTER_BUNDLES, TRAINING_SEED, ensure_models

REPO = Path(__file__).resolve().parent.parent


def code_version() -> dict[str, object]:
    """The commit the models were built from, and whether the tree differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "HEAD") or "unknown"
    # The shipped folder itself is what this run rewrites: its changes do not count.
    dirty = [line for line in git("status", "--porcelain").splitlines() if "classifiers/model/" not in line]
    return {"code_version": commit, "code_dirty": bool(dirty)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / "var", help="corpora and text-layer cache")
    parser.add_argument("--out", type=Path, default=SHIPPED_MODELS, help="where the models are shipped")
    args = parser.parse_args(argv)
    from classifiers.features import FEATURE_VERSION
    from classifiers.splitter import SPLIT_FEATURE_VERSION

    work = args.work.resolve()
    models = work / "shipped-build" / "models"
    if models.exists():
        shutil.rmtree(models)  # always from scratch: a shipped model is never a leftover
    env = {**os.environ, "LEDGERBOT_HOME": str(work)}
    ensure_models(models, work, env, shipped=False)
    record = {
        "command": "make models",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": TRAINING_SEED,
        "corpora": {
            "training-corpus": "420 documents, the generator's development layouts",
            "training-random": f"{CLASSIFIER_RANDOM_DOCS} documents in drawn layouts, receipts included",
            "training-bundles": f"{SPLITTER_BUNDLES} multi-page bills (splitter only)",
        },
        "classifier_feature_version": FEATURE_VERSION,
        "splitter_feature_version": SPLIT_FEATURE_VERSION,
        **code_version(),
    }
    shipped = ship(models, record, args.out)
    print(
        f"shipped {', '.join(shipped.refs)} ({shipped.bytes / 1e6:.1f} MB) into {args.out}", file=sys.stderr
    )
    print(json.dumps({"shipped": shipped.refs, "bytes": shipped.bytes, "out": str(args.out), **record}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
