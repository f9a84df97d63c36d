"""Benchmark: the rules engine over a generated corpus, against its injected-mismatch truth.

Generates a corpus of digital invoices and credit notes (or reads one already written), builds
the match cases, evaluates each under the default policy and prints the confusion table
(injected mismatch type x raised reason code), recall, the clean documents that got an
exception (with why), and cases per second. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_rules_corpus.py [--n 600] [--seed 1] [--master-seed S]
                                                      [--mismatch-rate 0.3] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rules.case import parse_case
from rules.engine import evaluate
from rules.evaluation import confusion_table, score
from rules.policy import load_policy
from sandbox.corpus import build_cases, generate_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master-seed", type=int, default=None)
    parser.add_argument("--mismatch-rate", type=float, default=0.3)
    parser.add_argument("--corpus", type=Path, default=None, help="an existing corpus folder to read instead")
    args = parser.parse_args()
    policy = load_policy()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(scratch) / "corpus"
            started = time.perf_counter()
            generate_corpus(
                corpus,
                args.n,
                args.seed,
                mismatch_rate=args.mismatch_rate,
                master_seed=args.master_seed,
                scans=False,
                einvoices=False,
                doc_types=["invoice", "credit_note"],
            )
            print(f"generated {args.n} documents in {time.perf_counter() - started:.1f} s")
        results = []
        reasons: dict[str, list[str]] = {}
        started, cpu = time.perf_counter(), time.process_time()
        for stem, case in build_cases(corpus):
            truth = json.loads((corpus / f"{stem}.json").read_text(encoding="utf-8"))
            decision = evaluate(parse_case(case), policy)
            results.append((stem, [m["type"] for m in truth["mismatches"]], decision.codes))
            reasons[stem] = [e.message for e in decision.exceptions]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    result = score(results)
    print(confusion_table(result))
    for stem, kind, codes in result.missed:
        print(f"MISSED {stem}: injected {kind}, raised {codes or 'nothing'}")
    for stem, _ in result.false_positives:
        print(f"clean but flagged {stem}: {'; '.join(reasons[stem])}")
    print(
        f"{len(results)} cases (build + parse + evaluate) in {elapsed:.2f} s wall, {cpu:.2f} s CPU: "
        f"{len(results) / cpu:.0f} cases per CPU second; policy {policy.version_tag}"
    )


if __name__ == "__main__":
    main()
