"""CPU per document with a candidate classifier and ranker in shadow, next to the active ones alone.

The issue's target: shadow evaluation adds at most 50% CPU per document while a candidate is in
shadow, nothing when none is. The same PDFs run through the whole pipeline in this process
(text layer in-process, so ``time.process_time`` covers every stage) three times: with no
trial in the registry (the run every install does), with the newest other cascade version in
shadow, and with it and the newest other ranker version in shadow. Beside the process's CPU time
per run, each run gives the pipeline's own per-stage CPU figures (``ExtractionResult.cpu_seconds``,
what processing stores per document): the trials' share is their ``shadow`` stage over the rest of
the same run. Needs two trained cascade versions under ``--models-dir`` (``ledgerbot train
classifier`` twice), or ``--transformer-candidate``: the candidate is then made from the newest
cascade, its baseline never deciding alone (``accept_baseline`` 1.0), so it sends every document
to the transformer, the costliest candidate a cascade can be (and the ranker's candidate is a copy
of the newest ranker); they are written to a temporary copy of the models folder (links to its
artifacts), nothing under ``--models-dir``. The store is a throw-away one in a temporary home.

    python benchmarks/bench_shadow.py [--models-dir $LEDGERBOT_HOME/models] [--pdfs FOLDER] [--limit 40]
                                      [--make-candidate copy|transformer]

The PDFs default to the committed template samples (every ``*.pdf`` under ``templates/samples``,
seven documents: the short run where one costly document weighs most).

Models in shadow are held to ``LEDGERBOT_MODELOPS_SHADOW_CPU_BUDGET`` (default 0.5) of the
pipeline's own CPU; set it high (``1000``) to see what the candidates cost unbounded.

Prints one JSON object on stdout; never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from ledgerbot.core.settings import get_settings

    parser.add_argument("--models-dir", type=Path, default=get_settings().models_dir)
    parser.add_argument(
        "--pdfs", type=Path, default=Path(__file__).resolve().parents[1] / "templates" / "samples"
    )
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument(
        "--make-candidate",
        choices=("copy", "transformer"),
        help="Make the candidates (in a temporary copy of the models folder): the newest cascade as "
        "it is or sending every document to its transformer, and a copy of the newest ranker",
    )
    args = parser.parse_args()
    get_settings.cache_clear()
    os.environ["LEDGERBOT_HOME"] = tempfile.mkdtemp(prefix="bench-shadow-")
    if args.make_candidate:
        args.models_dir = _with_candidates(args.models_dir.resolve(), args.make_candidate == "transformer")
    os.environ["LEDGERBOT_MODELS"] = str(args.models_dir.resolve())

    from ledgerbot.core.artifacts import ArtifactStore
    from ledgerbot.core.modelops import promote, register
    from ledgerbot.core.store import get_store
    from ledgerbot.pipeline import Extractor

    root = args.models_dir.resolve()
    artifacts = ArtifactStore(root)
    cascades = artifacts.versions("cascade")
    if len(cascades) < 2:
        print(json.dumps({"skipped": f"needs two trained cascade versions under {root}"}))
        return
    rankers = artifacts.versions("extractor-ranker")
    with get_store().session() as session:
        for name, versions in (("cascade", cascades), ("extractor-ranker", rankers)):
            if versions:
                register(session, root, artifacts.resolve_exact(name, versions[0]), state="active")
            for version in versions[1:]:
                register(session, root, artifacts.resolve_exact(name, version), state="candidate")
    pdfs = sorted(args.pdfs.rglob("*.pdf"))[: args.limit]

    def run(label: str) -> dict[str, Any]:
        extractor = Extractor(in_process=True).prepare()
        started = time.process_time()
        results = list(extractor.extract_paths(pdfs))
        cpu = time.process_time() - started
        # The pipeline's own cost meters (what processing stores per document): the trials' work is
        # their ``shadow`` stage, measured in the same run as the rest, so load on the machine
        # moves both alike.
        stages: dict[str, float] = {}
        for result in results:
            for stage, seconds in result.cpu_seconds.items():
                stages[stage] = stages.get(stage, 0.0) + seconds
        shadow = stages.pop("shadow", 0.0)
        rest = sum(stages.values())
        shadowed = sum(any(k.endswith("arm") for k in r.lineage) for r in results)
        print(f"{label}: {cpu:.2f} s CPU for {len(results)} documents", file=sys.stderr)
        return {
            "cpu_seconds": round(cpu, 3),
            "cpu_per_document": round(cpu / max(len(results), 1), 4),
            "stage_cpu_seconds": {stage: round(seconds, 3) for stage, seconds in stages.items()},
            "shadow_cpu_seconds": round(shadow, 3),
            "shadow_share_of_the_rest": round(shadow / rest, 3) if rest else None,
            "documents_read_in_shadow": shadowed,
        }

    run("warm-up")  # imports and model loads happen once per process, outside the figures
    figures = {"no_trial": run("no trial")}
    with get_store().session() as session:
        promote(session, root, "cascade", cascades[-1], actor="bench", reason="bench", to="shadow")
    # Its models load with it, outside the figures. This first run is the candidate's first ever:
    # with nothing measured of it yet, the budget expects what its probe at load measured (its
    # transformer route) plus the active model's cost on the same document, with a margin.
    figures["classifier_shadow_first_run"] = run("classifier in shadow, first run")
    figures["classifier_shadow"] = run("classifier in shadow")
    if len(rankers) > 1:
        with get_store().session() as session:
            promote(
                session, root, "extractor-ranker", rankers[-1], actor="bench", reason="bench", to="shadow"
            )
        figures["classifier_and_ranker_shadow_first_run"] = run("classifier and ranker in shadow, first run")
        figures["classifier_and_ranker_shadow"] = run("classifier and ranker in shadow")
    base = figures["no_trial"]["cpu_seconds"]
    for value in figures.values():
        cpu = value["cpu_seconds"]
        value["extra_vs_no_trial"] = round(cpu / base - 1, 3) if base and cpu is not None else None
    print(json.dumps({"documents": len(pdfs), "active": cascades[0], "shadow": cascades[-1], **figures}))


def _with_candidates(models: Path, transformer: bool) -> Path:
    """A temporary models folder linking to every artifact of ``models``, plus a copy of the newest
    cascade (with ``transformer``, one whose baseline never decides alone) and of the newest ranker,
    as the newest versions."""
    import shutil

    from ledgerbot.core.artifacts import ArtifactStore

    root = Path(tempfile.mkdtemp(prefix="bench-shadow-models-"))
    for kind in (p for p in models.iterdir() if p.is_dir()):
        (root / kind.name).mkdir()
        for entry in kind.iterdir():
            (root / kind.name / entry.name).symlink_to(entry)
    store = ArtifactStore(root)
    for name in ("cascade", "extractor-ranker"):
        versions = store.versions(name)
        if not versions:
            continue
        newest = store.resolve_exact(name, versions[-1])
        meta = {k: v for k, v in newest.meta.items() if k not in ("name", "version", "created_at")}
        if name == "cascade" and transformer:
            meta["thresholds"] = {**meta["thresholds"], "accept_baseline": 1.0}
        version = store.new_version(name, str(meta.get("data_sha256") or "0" * 64))
        store.save(
            name,
            version,
            lambda folder, src=newest.path: _copy_files(src, folder, shutil),
            meta,
            make_latest=False,  # the registry, not the folder's pointer, names which version runs
        )
    return root


def _copy_files(source: Path, folder: Path, shutil: Any) -> None:
    for item in source.iterdir():
        if item.name != "meta.json":
            (shutil.copytree if item.is_dir() else shutil.copyfile)(item, folder / item.name)


if __name__ == "__main__":
    main()
