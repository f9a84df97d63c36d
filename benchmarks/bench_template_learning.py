"""One-shot vendor learning next to the generic extractor alone, on generated vendors and a real pair.

For every vendor of a generated corpus (sandbox generator, development layouts, scans included):
learn a template from the vendor's first born-digital invoice and its truth, then read the
vendor's other documents (other values, other numbers of lines, scans, multi-page tables) with
all learned templates in one folder. Prints, side by side with the generic extractor alone on the
same documents: header-field accuracy, line F1, how many documents a template read, the time to
learn one document, and the time to read a document with 0 and with 1,000 unrelated learned
templates in the folder. Then the same on the real-world documents where one vendor has two
invoices (learn on one, read the other, the visible page only). It never asserts a figure.

    python benchmarks/bench_template_learning.py [--n 120] [--seed 7] [--corpus DIR] [--no-scans]
        [--realworld DIR] [--receipts | --only-receipts] [--split dev|val|all] [--layers DIR]
        [--misses] [--learn-each]

Receipts are grouped by shop within one part of the real-world split (``--split``): the shop's
first receipt of that part is learned, its other receipts of that part are read, so a run on the
development part never reads a validation receipt. ``--misses`` lists what was misread (only
for the development part). ``--learn-each`` learns every receipt of a shop in turn and reads the
shop's others after each (more pairs from the same receipts: a shop of n receipts gives n(n-1)).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from extractors.evaluation import Evaluation, same_value, vendor_key
from extractors.realworld import realworld_split
from extractors.templates.learn import dump_template, learn_template, parse_truth
from ledgerbot.core.domain import DocType
from ledgerbot.pipeline import Extractor
from textlayer import TextLayerReader
from textlayer.model import Document

REALWORLD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "realworld"
NOISE_TEMPLATES = 1000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def corpus(folder: Path | None, n: int, seed: int, scans: bool) -> Path:
    if folder is not None and (folder / "manifest.json").is_file():
        return folder
    from sandbox.corpus import generate_corpus

    out = folder or Path(tempfile.mkdtemp(prefix="bench-learn-")) / "corpus"
    log(f"generating {n} invoices (seed {seed}) into {out}")
    generate_corpus(
        out, n, seed, split="dev", scans=scans, einvoices=False, doc_types=["invoice"], mismatch_rate=0.0
    )
    return out


def vendor_groups(
    folder: Path,
) -> list[tuple[tuple[Path, dict[str, Any]], list[tuple[Path, dict[str, Any]]]]]:
    """(first born-digital document, the vendor's later documents) per vendor with two or more."""
    by_vendor: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for truth_path in sorted(folder.glob("doc-*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("doc_type") not in ("invoice", "credit_note") or not truth.get("fields"):
            continue
        doc = next(p for p in folder.glob(truth_path.stem + ".*") if p.suffix != ".json")
        by_vendor[truth["vendor_id"]].append((doc, truth))
    out = []
    for docs in by_vendor.values():
        docs.sort(key=lambda d: (d[1]["sequence"], d[1]["variant"] != "digital"))
        first = next((d for d in docs if d[1]["variant"] == "digital"), None)
        if first is None:
            continue
        # The scan of the learned document is the same invoice: reading it says nothing new.
        rest = [d for d in docs if d is not first and d[1].get("source_stem") != first[0].stem]
        if rest:
            out.append((first, rest))
    return out


def read_all(paths: list[Path]) -> dict[Path, Document]:
    log(f"reading the text layer of {len(paths)} documents")
    with TextLayerReader() as reader:
        outcomes = reader.read_many([(p.name, p.read_bytes()) for p in paths])
    return {p: d for p, d in zip(paths, outcomes, strict=True) if isinstance(d, Document)}


def noise_folder(learned: Path, out: Path, count: int) -> Path:
    """``learned`` plus ``count`` learned templates of vendors that appear on none of the documents."""
    import yaml

    shutil.copytree(learned, out)
    source = yaml.safe_load(next(learned.glob("*.yml")).read_text(encoding="utf-8"))
    rng = random.Random(1)
    for i in range(count):
        data = dict(source)
        data["id"] = f"noise-{i:04d}"
        data["samples"] = []
        data["match"] = {
            **source["match"],
            "tax_ids": [f"DE{rng.randrange(10**8, 10**9)}"],
            "ibans": [f"DE{rng.randrange(10, 99)}{rng.randrange(10**17, 10**18)}"],
            "names": [f"Noise Vendor {i} Handelsgesellschaft"],
        }
        (out / f"noise-{i:04d}.yml").write_text(dump_template(data), encoding="utf-8")
    return out


def timed_reads(
    extractors: list[Extractor], documents: list[tuple[Document, str]], rounds: int = 5
) -> list[float]:
    """Seconds per document for each extractor, the best of ``rounds`` interleaved passes (the
    machine is shared: interleaving gives every extractor the same share of quiet moments)."""
    best = [float("inf")] * len(extractors)
    for _ in range(rounds):
        for i, extractor in enumerate(extractors):
            started = time.perf_counter()
            for document, doc_type in documents:
                extractor.extract_document(document, DocType(doc_type))
            best[i] = min(best[i], (time.perf_counter() - started) / len(documents))
    return best


def timed_matches(extractors: list[Extractor], documents: list[Document], rounds: int = 20) -> list[float]:
    """Seconds per document to pick the template (identity lookup and checks) for each extractor,
    best of ``rounds`` interleaved passes over views built once."""
    from extractors.templates.locate import DocumentView

    views = [DocumentView(document) for document in documents]
    engines = [extractor.stages[0] for extractor in extractors]
    best = [float("inf")] * len(engines)
    for _ in range(rounds):
        for i, engine in enumerate(engines):
            started = time.perf_counter()
            for view in views:
                view._tokens = None  # the document's word set is part of the lookup's cost
                engine.match_evidence(view)  # type: ignore[attr-defined]
            best[i] = min(best[i], (time.perf_counter() - started) / len(views))
    return best


def evaluate(
    extractor: Extractor, docs: list[tuple[Path, dict[str, Any]]], layers: dict[Path, Document]
) -> dict[str, Any]:
    evaluation = Evaluation()
    by_template = 0
    for path, truth in docs:
        if path not in layers:
            continue
        result = extractor.extract_document(layers[path], DocType(truth["doc_type"]))
        result.source = path.name
        by_template += bool(result.method and result.method.startswith("template:"))
        evaluation.add(truth, result)
    report = evaluation.report(pages=1, seconds=1.0)
    return {
        "documents": report["documents"],
        "read_by_template": by_template,
        "header_field_accuracy": report["header_field_accuracy"],
        "line_f1": report["lines"]["f1"],
        "field_accuracy": report["field_accuracy"],
        "by_variant": {k: v["header_field_accuracy"] for k, v in report["by_variant"].items()},
        "misses": evaluation.details[:40],
    }


def generated(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = corpus(args.corpus, args.n, args.seed, not args.no_scans)
    groups = vendor_groups(folder)
    paths = [first[0] for first, _ in groups] + [d[0] for _, rest in groups for d in rest]
    layers = read_all(paths)
    learned = work / "learned"
    learn_seconds, learn_cpu = [], []
    outcomes = []
    for (path, truth), _ in groups:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = learn_template(
            path, parse_truth(truth, path.name), learned, document=layers[path], today=None
        )
        learn_seconds.append(time.perf_counter() - started)
        learn_cpu.append(time.process_time() - cpu)
        outcomes.append(outcome.as_json())
    log(f"learned {len(outcomes)} vendors")
    reads = [d for _, rest in groups for d in rest]
    with_templates = Extractor(stages=("template", "generic"), extra_templates=(learned,), classify=False)
    generic = Extractor(stages=("generic",), classify=False)
    out: dict[str, Any] = {
        "vendors": len(groups),
        "documents_read": len(reads),
        # The first learn loads the label matcher and the generic extractor: shown apart.
        "learn_seconds_per_document": {
            "first": round(learn_seconds[0], 3),
            "mean_after_first": round(sum(learn_seconds[1:]) / max(1, len(learn_seconds) - 1), 3),
            "median_after_first": round(statistics.median(learn_seconds[1:] or [0.0]), 3),
            "max_after_first": round(max(learn_seconds[1:], default=0.0), 3),
            "cpu_mean_after_first": round(sum(learn_cpu[1:]) / max(1, len(learn_cpu) - 1), 3),
        },
        "samples_read_back": sum(1 for o in outcomes if o["sample_reads_back"]),
        "learned_template": evaluate(with_templates, reads, layers),
        "generic_alone": evaluate(generic, reads, layers),
    }
    sample = [(layers[p], t["doc_type"]) for p, t in reads if p in layers and "scan" not in t["variant"]][:20]
    noisy = noise_folder(learned, work / "noisy", NOISE_TEMPLATES)
    loads = []
    for _ in range(2):  # the first load indexes the folder (.index.json), the next ones read the index
        started = time.perf_counter()
        with_noise = Extractor(stages=("template", "generic"), extra_templates=(noisy,), classify=False)
        loads.append(time.perf_counter() - started)
    quiet, loud = timed_reads([with_templates, with_noise], sample)
    match_quiet, match_loud = timed_matches([with_templates, with_noise], [d for d, _ in sample])
    out["read_seconds_per_document"] = {
        "learned_templates_only": round(quiet, 4),
        f"plus_{NOISE_TEMPLATES}_templates": round(loud, 4),
        "extra": f"{100 * (loud - quiet) / quiet:+.1f}%",
        f"load_{NOISE_TEMPLATES}_templates_seconds": {
            "first": round(loads[0], 2),
            "next": round(loads[1], 2),
        },
        "documents_timed": len(sample),
        "template_choice_seconds_per_document": {
            "learned_templates_only": round(match_quiet, 5),
            f"plus_{NOISE_TEMPLATES}_templates": round(match_loud, 5),
        },
    }
    return out


def realworld(work: Path, folder: Path) -> dict[str, Any]:
    """Vendors with two or more real documents: learn on the first, read the others."""
    from textlayer import read_document

    by_vendor: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for truth_path in sorted(folder.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        name = (truth.get("fields") or {}).get("vendor_name")
        if truth.get("doc_type") in ("invoice", "credit_note") and name:
            by_vendor[vendor_key(name)].append((truth_path.with_suffix(".pdf"), truth))
    pairs = [docs for docs in by_vendor.values() if len(docs) > 1]
    learned = work / "realworld"
    reads: list[tuple[Path, dict[str, Any]]] = []
    for docs in pairs:
        (first, truth), rest = docs[0], docs[1:]
        learn_template(first, parse_truth(truth, first.name), learned, document=read_document(first))
        reads.extend(rest)
    layers = {path: read_document(path, name=path.name) for path, _ in reads}
    splits = sorted({realworld_split(p.stem) for p, _ in reads})
    return {
        "vendors": len(pairs),
        "documents_read": len(reads),
        "splits": splits,
        "learned_template": evaluate(
            Extractor(stages=("template", "generic"), extra_templates=(learned,), classify=False),
            reads,
            layers,
        ),
        "generic_alone": evaluate(Extractor(stages=("generic",), classify=False), reads, layers),
    }


def cached_layer(path: Path, cache: Path | None) -> Document:
    """The text layer of ``path``, kept in ``cache`` (by content and text-layer version) when given:
    OCR of a photographed receipt takes seconds, and a figure is read many times while tuning."""
    import hashlib
    import pickle

    from textlayer import TEXT_LAYER_VERSION, read_document

    if cache is None:
        return read_document(path, name=path.name)
    key = hashlib.sha256(path.read_bytes() + TEXT_LAYER_VERSION.encode()).hexdigest()[:24]
    stored = cache / f"{key}.pickle"
    if stored.is_file():
        document: Document = pickle.loads(stored.read_bytes())
        return document
    document = read_document(path, name=path.name)
    cache.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(pickle.dumps(document))
    return document


def shop_groups(folder: Path, split: str) -> list[list[tuple[Path, dict[str, Any]]]]:
    """Receipts of one part of the split grouped by shop, for shops with two or more there."""
    from extractors.values import parse_amount, parse_date

    by_shop: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for label in sorted(folder.glob("*.json")):
        if split != "all" and realworld_split(label.stem) != split:
            continue
        data = json.loads(label.read_text(encoding="utf-8"))
        day = parse_date(str(data.get("date") or ""), "DMY")
        amount = parse_amount(str(data.get("total") or ""), ".")
        if not data.get("company") or day is None or amount is None:
            continue
        fields = {"vendor_name": data["company"], "invoice_date": day.isoformat(), "total": str(amount)}
        by_shop[vendor_key(data["company"])].append((label.with_suffix(".jpg"), {"fields": fields}))
    return [docs for docs in by_shop.values() if len(docs) > 1]


def receipts(
    work: Path, folder: Path, split: str, cache: Path | None, misses: bool, each: bool = False
) -> dict[str, Any]:
    """Shops with two or more photographed receipts: learn the shop's name, date and total from its
    first receipt, read the others (header accuracy over those three fields, both ways). With
    ``each``, every receipt of a shop is learned in turn (into a folder of its own round, with the
    other shops' receipts of that round) and the shop's other receipts are read after it."""
    shops = shop_groups(folder, split)
    rounds = max((len(docs) for docs in shops), default=0) if each else 1
    reads: list[tuple[Path, dict[str, Any], Path]] = []  # receipt, truth, the round's templates
    not_learned = 0
    for k in range(rounds):
        learned = work / f"receipts-{split}-{k}"
        learned.mkdir(parents=True, exist_ok=True)
        for docs in shops:
            if k >= len(docs):
                continue
            first, truth = docs[k]
            try:
                learn_template(
                    first, parse_truth(truth, first.name), learned, document=cached_layer(first, cache)
                )
            except Exception as error:  # a receipt learning cannot use is counted, the rest goes on
                log(f"{first.name}: {error}")
                not_learned += 1
                continue
            reads.extend((path, data, learned) for path, data in docs if path != first)
    layers = {path: cached_layer(path, cache) for path, _, _ in reads}
    out: dict[str, Any] = {
        "split": split,
        "shops": len(shops),
        "rounds": rounds,
        "shops_not_learned": not_learned,
        "receipts_read": len(reads),
    }
    generic = Extractor(stages=("generic",), classify=False)
    by_folder = {
        learned: Extractor(stages=("template", "generic"), extra_templates=(learned,), classify=False)
        for learned in {learned for _, _, learned in reads}
    }
    for name, pick in (
        ("learned_template", lambda learned: by_folder[learned]),
        ("generic_alone", lambda learned: generic),
    ):
        right = total = by_template = 0
        by_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        wrong: list[dict[str, Any]] = []
        for path, truth, learned in reads:
            result = pick(learned).extract_document(layers[path], DocType.INVOICE)
            by_template += bool(result.method and result.method.startswith("template:"))
            got = result.model_dump(mode="json")["fields"]
            for field_name, value in truth["fields"].items():
                ok = same_value(field_name, value, got.get(field_name))
                total += 1
                right += ok
                by_field[field_name][0] += ok
                by_field[field_name][1] += 1
                if not ok:
                    wrong.append(
                        {
                            "receipt": path.name,
                            "field": field_name,
                            "method": result.method,
                            "fallback": result.lineage.get("template_fallback"),
                        }
                    )
        out[name] = {
            "header_field_accuracy": round(right / total, 4) if total else None,
            "by_field": {k: round(v[0] / v[1], 4) for k, v in sorted(by_field.items())},
            "by_template": by_template,
        }
        if misses and split == "dev":
            out[name]["misses"] = wrong
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--no-scans", action="store_true")
    parser.add_argument("--skip-realworld", action="store_true")
    parser.add_argument("--receipts", action="store_true", help="also photographed receipts (slow: OCR)")
    parser.add_argument("--only-receipts", action="store_true")
    parser.add_argument("--realworld", type=Path, default=REALWORLD, help="shared/data/realworld")
    parser.add_argument("--split", choices=("dev", "val", "all"), default="all", help="receipts of this part")
    parser.add_argument("--layers", type=Path, default=None, help="keep receipts' text layers here")
    parser.add_argument("--misses", action="store_true", help="list misread receipts (dev part only)")
    parser.add_argument(
        "--learn-each", action="store_true", help="learn every receipt of a shop in turn, read its others"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-learn-") as tmp:
        work = Path(tmp)
        report: dict[str, Any] = {}
        if not args.only_receipts:
            report["generated"] = generated(args, work)
            if not args.skip_realworld and (args.realworld / "pdf").is_dir():
                report["realworld"] = realworld(work, args.realworld / "pdf")
        if (args.receipts or args.only_receipts) and (args.realworld / "sroie").is_dir():
            report["receipts"] = receipts(
                work, args.realworld / "sroie", args.split, args.layers, args.misses, args.learn_each
            )
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
