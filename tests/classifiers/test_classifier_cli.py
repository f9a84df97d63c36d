"""The classifier commands as a user runs them: JSON on stdout, coded one-line errors on stderr."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.train import TrainReport
from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.domain import DocType

LEDGERBOT = Path(sys.executable).parent / "ledgerbot"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _load_commands()
    return CliRunner()


def test_classify_without_a_model_says_how_to_train_one(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    done = subprocess.run(
        [str(LEDGERBOT), "classify", str(pdf), "--models-dir", str(tmp_path / "models")],
        capture_output=True,
        text=True,
        env={**os.environ, "LEDGERBOT_HOME": str(tmp_path / "var")},
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "[E501]" in done.stderr and "ledgerbot train classifier" in done.stderr
    assert "Traceback" not in done.stderr


def test_classify_with_a_model_of_older_features_is_one_coded_line(tmp_path: Path) -> None:
    from ledgerbot.core.artifacts import ArtifactStore

    models = tmp_path / "models"
    ArtifactStore(models).save(
        "cascade", "2026-01-01T0000-aaaaaa", lambda _folder: None, {"feature_version": 1}
    )
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    done = subprocess.run(
        [str(LEDGERBOT), "classify", str(pdf), "--models-dir", str(models)],
        capture_output=True,
        text=True,
        env={**os.environ, "LEDGERBOT_HOME": str(tmp_path / "var")},
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "[E506]" in done.stderr and "ledgerbot train classifier" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_classify_prints_one_json_line_per_file_in_order(
    runner: CliRunner, trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path, tmp_path: Path
) -> None:
    report, models = trained
    files = sorted(tiny_pdf_corpus.glob("*.pdf"))[:3]
    missing = tmp_path / "missing.pdf"
    result = runner.invoke(app, ["classify", *map(str, files), str(missing), "--models-dir", str(models)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [*map(str, files), str(missing)]
    for line in lines[:3]:
        assert line["doc_type"] in {t.value for t in DocType}
        assert line["version"] == report.cascade
        assert line["route"] in ("baseline", "combined")
        assert line["model"].startswith(report.baseline)
        assert line["lineage"]["classifier"] == report.cascade
        assert 0.0 <= line["confidence"] <= 1.0
    assert lines[3]["doc_type"] is None and lines[3]["errors"]


@pytest.mark.slow
def test_train_if_missing_keeps_the_existing_model(
    runner: CliRunner, trained: tuple[TrainReport, Path]
) -> None:
    _, models = trained
    latest = (models / "cascade" / "LATEST").read_text().strip()
    result = runner.invoke(
        app, ["train", "classifier", "/nonexistent", "--models-dir", str(models), "--if-missing"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["trained"] is False
    assert out["cascade"] == f"cascade@{latest}"


def test_train_if_missing_replaces_a_model_of_older_features(runner: CliRunner, tmp_path: Path) -> None:
    from ledgerbot.core.artifacts import ArtifactStore

    models = tmp_path / "models"
    ArtifactStore(models).save("cascade", "2026-01-01T0000-aaaaaa", lambda _folder: None, {})
    result = runner.invoke(
        app, ["train", "classifier", str(tmp_path / "no-corpus"), "--models-dir", str(models), "--if-missing"]
    )
    # It did not stop at the stale model: it went on to train, and found no corpus to train on.
    assert result.exit_code == 2
    assert "[E506]" in result.output and "[E502]" in result.output


@pytest.mark.slow
def test_extracting_what_the_baseline_is_sure_of_loads_no_transformer_scikit_learn_or_pdfplumber(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path
) -> None:
    _, models = trained
    # A process of its own: what extraction imports is seen only there.
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ledgerbot.pipeline import Extractor\n"
        "extractor = Extractor(models_dir=Path(sys.argv[1]), in_process=True, warn=lambda _: None)\n"
        "for path in sys.argv[2:]:\n"
        "    [result] = extractor.extract_paths([Path(path)])\n"
        "    heavy = {'torch', 'transformers', 'sklearn', 'scipy', 'pdfplumber'}\n"
        "    heavy &= {m.split('.')[0] for m in sys.modules}\n"
        "    print(json.dumps({'route': result.lineage.get('classifier_route'), 'heavy': sorted(heavy)}))\n"
    )
    files = [str(p) for p in sorted(tiny_pdf_corpus.glob("*.pdf"))[:6]]
    command = [sys.executable, "-c", code, str(models), *files]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    sure = list(itertools.takewhile(lambda line: line["route"] == "baseline", lines))
    assert sure, lines  # the baseline is sure of the first documents of the tiny corpus
    assert all(line["heavy"] == [] for line in sure), sure
