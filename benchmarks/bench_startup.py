"""Start-up and small-batch speed of ``ledgerbot`` next to invoice2data, whole process each.

Times, as a user sees them (a fresh process per run, median of ``--runs``):

1. ``ledgerbot --help`` and ``ledgerbot status`` (targets: under 0.5 s);
2. ``ledgerbot extract`` of one born-digital PDF (target: under 1.5 s): the first real-world
   invoice, and a committed template sample, which has no embedded e-invoice, so it is read from
   its page, typed by the classifier and read by the templates and the generic extractor;
3. ``ledgerbot extract`` of 11 born-digital invoices in one call (the real-world invoice PDFs beside
   the checkout, topped up with the committed template samples) next to
   ``invoice2data --input-reader pdftotext`` on the same files, with its bundled templates,
   installed in the benchmark's own virtual environment (``--i2d-venv``, created on first use).
   The two run in turns, so a drift in the machine's speed weighs on both alike.
   Target: ledgerbot no slower than invoice2data while it also types each document and reads
   its line items.

The models are those under ``$LEDGERBOT_HOME/models`` (``make demo`` trains them); the output says
whether a classifier was loaded. Each figure has the median CPU seconds of the command and the
workers it waited for beside its wall time, which a shared machine's load inflates. The
project's modules are compiled to bytecode first, as an installed package has them (with
``PYTHONDONTWRITEBYTECODE`` set, every run would otherwise compile every module from source).
Prints one JSON object on stdout, with the load average before and after; never asserts timings.

    python benchmarks/bench_startup.py [--runs 5] [--i2d-venv var/bench/invoice2data] [--realworld DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALWORLD = REPO.parent / "shared" / "data" / "realworld" / "pdf"
LEDGERBOT = [sys.executable, "-m", "ledgerbot"]
# Compiled to bytecode before timing (see the module's docstring).
PACKAGES = ("ledgerbot", "textlayer", "extractors", "classifiers", "rules", "adapters", "sandbox")
INVOICE2DATA_VERSION = "1.0.1"


def born_digital_invoices(realworld: Path, n: int = 11) -> list[Path]:
    """Real invoices first (orders are not invoices), then the committed template samples."""
    files: list[Path] = []
    for truth in sorted(realworld.glob("*.json")):
        if json.loads(truth.read_text()).get("doc_type") == "invoice" and truth.with_suffix(".pdf").is_file():
            files.append(truth.with_suffix(".pdf"))
    files += sorted((REPO / "templates" / "samples").glob("*/*.pdf"))
    return files[:n]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], *, env: dict[str, str], runs: int) -> dict[str, float | int]:
    """Wall seconds, and CPU seconds of the process and the workers it waited for (``cpu_s``):
    on a shared machine wall time grows with the others' load, CPU time much less."""
    seconds, cpu = [], []
    status = 0
    for _ in range(runs):
        started, cpu_before = time.perf_counter(), _children_cpu()
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_before)
        status = status or done.returncode
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "cpu_s": round(statistics.median(cpu), 3),
        "exit": status,
    }


def timed_side_by_side(
    commands: dict[str, list[str]], *, env: dict[str, str], runs: int
) -> dict[str, dict[str, float | int]]:
    """``timed`` for several commands run in turns (one of each per round, the order alternating),
    so that a machine whose speed drifts during the benchmark slows each of them alike."""
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(runs):
        for name in names if round_ % 2 == 0 else names[::-1]:
            started, cpu_before = time.perf_counter(), _children_cpu()
            code = subprocess.run(
                commands[name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode
            samples[name].append((time.perf_counter() - started, _children_cpu() - cpu_before, code))
    return {
        name: {
            "median_s": round(statistics.median(s for s, _, _ in got), 3),
            "min_s": round(min(s for s, _, _ in got), 3),
            "cpu_s": round(statistics.median(c for _, c, _ in got), 3),
            "exit": next((code for _, _, code in got if code), 0),
        }
        for name, got in samples.items()
    }


def invoice2data(venv: Path) -> Path:
    """The invoice2data command in its own environment, installed from PyPI on first use."""
    command = venv / "bin" / "invoice2data"
    if not command.exists():
        print(f"installing invoice2data {INVOICE2DATA_VERSION} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"invoice2data=={INVOICE2DATA_VERSION}"], check=True
        )
    return command


def classifier_loaded(env: dict[str, str], sample: Path) -> bool:
    """Whether extraction found a trained classifier (it warns with E501 when it did not).

    ``sample`` must be read from its pages: an e-invoice never asks for the classifier."""
    out = subprocess.run([*LEDGERBOT, "extract", str(sample)], env=env, capture_output=True, text=True)
    return out.returncode == 0 and "[E501]" not in out.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--i2d-venv", type=Path, default=REPO / "var" / "bench" / "invoice2data")
    parser.add_argument(
        "--realworld",
        type=Path,
        default=REALWORLD,
        help="real-world PDFs with their truth (a git worktree's checkout is elsewhere)",
    )
    args = parser.parse_args()

    files = born_digital_invoices(args.realworld)
    env = {**os.environ}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(REPO / p) for p in PACKAGES)],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        # status on a store of its own (created by a first, untimed call), so no real store is touched
        status_env = {**env, "LEDGERBOT_DATABASE_URL": f"sqlite:///{scratch}/status.db"}
        subprocess.run([*LEDGERBOT, "status"], env=status_env, stdout=subprocess.DEVNULL, check=True)
        print("timing ledgerbot --help / status ...", file=sys.stderr)
        figures: dict[str, object] = {
            "help": timed([*LEDGERBOT, "--help"], env=env, runs=args.runs),
            "status": timed([*LEDGERBOT, "status"], env=status_env, runs=args.runs),
        }
    print("timing ledgerbot extract ...", file=sys.stderr)
    page_read = sorted((REPO / "templates" / "samples").glob("*/*.pdf"))[0]
    figures["classifier_loaded"] = classifier_loaded(env, page_read)
    figures["extract_one"] = timed([*LEDGERBOT, "extract", str(files[0])], env=env, runs=args.runs)
    figures["extract_one_from_page"] = timed([*LEDGERBOT, "extract", str(page_read)], env=env, runs=args.runs)
    batch = [str(f) for f in files]
    figures["files"] = len(batch)
    i2d = invoice2data(args.i2d_venv)
    print("timing ledgerbot extract and invoice2data on the batch, in turns ...", file=sys.stderr)
    figures.update(
        timed_side_by_side(
            {
                "ledgerbot_extract_batch": [*LEDGERBOT, "extract", *batch],
                "invoice2data_batch": [str(i2d), "--input-reader", "pdftotext", *batch],
            },
            env=env,
            runs=args.runs,
        )
    )
    ours = figures["ledgerbot_extract_batch"]["median_s"]  # type: ignore[index]
    theirs = figures["invoice2data_batch"]["median_s"]  # type: ignore[index]
    figures["ledgerbot_over_invoice2data"] = round(ours / theirs, 2)
    figures["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
