"""A batch extracted in forked copies of the process reads as one process reads it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from invoice_fixtures import Invoice  # type: ignore[import-not-found]

from classifiers.cascade import Classification
from ledgerbot import pipeline
from ledgerbot.core.domain import DocType
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.settings import get_settings
from ledgerbot.parallel import fork_map
from ledgerbot.pipeline import Extractor, Source
from tests.fresh import in_fresh_process


def test_a_forked_batch_reads_as_one_process_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    invoices = [
        Invoice(),
        Invoice(lang="de", number="RE-77", lines=(("Schraube", "3", "2.00", "6.00"),)),
        Invoice(lang="fr", number="F-2026-9", credit=True),
        Invoice(number="INV-5", vendor="Brightline Supplies Ltd"),
    ]

    def read(processes: str) -> list[str]:
        monkeypatch.setenv("LEDGERBOT_EXTRACT_PROCESSES", processes)
        get_settings.cache_clear()
        sources = [Source(name=f"{n}.pdf", data=inv.pdf()) for n, inv in enumerate(invoices)]
        results = list(Extractor(classify=False).extract_sources(sources))
        assert all(r.cpu_seconds["extract"] > 0 for r in results)
        return [r.to_json_line() for r in results]

    asked: list[int] = []

    def spy(*args: Any, processes: int, **kwargs: Any) -> Any:
        asked.append(processes)
        return fork_map(*args, processes=processes, **kwargs)

    monkeypatch.setattr(pipeline, "fork_map", spy)
    alone, forked = read("1"), read("2")
    assert asked == [1, 2]
    assert forked == alone
    assert [json.loads(line)["fields"]["invoice_number"] for line in forked] == [i.number for i in invoices]


class _PidClassifier:
    """Calls every document an invoice, and names the process that typed it in its model."""

    loads: ClassVar[list[int]] = []  # the processes that opened one, as this process sees them

    @classmethod
    def load(cls, models_dir: object, version: object = None) -> _PidClassifier:
        cls.loads.append(os.getpid())
        return cls()

    def classify(self, documents: list[object]) -> list[Classification]:
        model = f"baseline@pid{os.getpid()}"
        typed = Classification(DocType.INVOICE, 0.99, "baseline", False, model, "cascade@t", 0.99)
        return [typed for _ in documents]


def _mixed_batch() -> list[Source]:
    import facturx
    from pypdf import PdfWriter
    from test_einvoice_pdf import facturx_xml, visible_pdf

    attached = facturx.generate_from_binary(visible_pdf(), facturx_xml(), check_xsd=False)
    writer = PdfWriter(clone_from=io.BytesIO(Invoice(number="B-9").pdf()))
    writer.add_attachment("factur-x.xml", b"<rsm:CrossIndustryInvoice><unclosed>")
    out = io.BytesIO()
    writer.write(out)
    broken = out.getvalue()
    return [
        Source(name="0.pdf", data=Invoice().pdf()),
        Source(name="fx1.pdf", data=attached),
        Source(name="1.pdf", data=Invoice(lang="de", number="RE-77").pdf()),
        Source(name="fx2.pdf", data=attached),
        Source(name="broken.pdf", data=broken),
    ]


_pids: list[tuple[str, int | None]] = []


def _started_children(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every ``ForkedCall`` and ``ForkedTask`` the pipeline starts from now on, in order (their
    process ids as they started are in ``_pids``)."""
    import ledgerbot.parallel

    started: list[tuple[str, Any]] = []
    _pids.clear()

    def spy(kind: str, base: type) -> type:
        def __init__(self: Any, *args: Any) -> None:
            base.__init__(self, *args)
            started.append((kind, self))
            _pids.append((kind, self.pid))

        return type(base.__name__, (base,), {"__init__": __init__})

    monkeypatch.setattr(ledgerbot.parallel, "ForkedCall", spy("call", ledgerbot.parallel.ForkedCall))
    monkeypatch.setattr(ledgerbot.parallel, "ForkedTask", spy("task", ledgerbot.parallel.ForkedTask))
    return started


@in_fresh_process
def test_a_batchs_einvoices_and_doc_types_come_from_forked_children_as_they_would_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While this process loads the extraction stages, one child parses the e-invoices and another
    opens the cascade and types the documents the text layer read; the lines are those of a batch
    read in one process, and a PDF whose attachment is broken is read from its page after all."""
    import classifiers.cascade

    monkeypatch.setattr(classifiers.cascade.Cascade, "load", _PidClassifier.load)
    _PidClassifier.loads.clear()
    _started_children(monkeypatch)
    warnings: list[str] = []
    results = list(Extractor(warn=warnings.append).extract_sources(_mixed_batch()))
    forked = [f"{kind}:{pid is not None}" for kind, pid in _pids]
    assert forked[:2] == ["call:True", "task:True"]  # then the extraction's shares (``fork_map``)
    assert [r.method for r in results] == ["generic", "einvoice", "generic", "einvoice", "generic"]
    typed_by = [r.lineage.get("classifier_model") for r in results if r.method == "generic"]
    here_ = f"baseline@pid{os.getpid()}"
    # The files read at once are typed in the child; the one read from its page once its
    # attachment failed to parse came later, and this process opened the cascade for it.
    assert typed_by[0] == typed_by[1] != here_ and typed_by[2] == here_
    assert _PidClassifier.loads == [os.getpid()]
    assert results[4].errors and results[4].errors[0].code.startswith("E3")  # why its page was read
    here = list(Extractor(in_process=True, warn=warnings.append).extract_sources(_mixed_batch()))

    def without_process(result: Any) -> str:
        line = json.loads(result.to_json_line())
        line.get("lineage", {}).pop("classifier_model", None)
        line.pop("cpu_seconds", None)
        return json.dumps(line, sort_keys=True)

    assert [without_process(r) for r in results] == [without_process(r) for r in here]
    assert all(r.cpu_seconds.get("extract", 0.0) > 0 for r in results)
    assert all(r.cpu_seconds.get("classify", 0.0) > 0 for r in results if r.method == "generic")
    assert warnings == []


def test_a_cascade_the_child_cannot_open_or_run_warns_once_and_later_batches_are_typed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import classifiers.cascade

    monkeypatch.setattr(pipeline, "CHUNK", 2)

    def missing(cls: object, models_dir: object, version: object = None) -> None:
        raise LedgerbotError("no active cascade in the registry", code="E501")

    monkeypatch.setattr(classifiers.cascade.Cascade, "load", classmethod(missing))
    warnings: list[str] = []

    def sources() -> list[Source]:
        return [Source(name=f"{n}.pdf", data=Invoice().pdf()) for n in range(3)]

    results = list(Extractor(warn=warnings.append).extract_sources(sources()))
    assert [r.doc_type for r in results] == [None, None, None]
    assert len(warnings) == 1 and "E501" in warnings[0]  # the child's, said once
    assert all(r.errors and r.errors[-1].code == "E501" for r in results)

    class Broken(_PidClassifier):
        def classify(self, documents: list[object]) -> list[Classification]:
            raise ValueError("X has 11421 features, but the model expects 11414")

    monkeypatch.setattr(classifiers.cascade.Cascade, "load", Broken.load)
    _PidClassifier.loads.clear()
    warnings.clear()
    results = list(Extractor(warn=warnings.append).extract_sources(sources()))
    assert [r.doc_type for r in results] == [None, None, None]
    assert len(warnings) == 1 and "E505" in warnings[0]
    # The third document is in the second batch: this process opens the cascade for it.
    assert _PidClassifier.loads == [os.getpid()]


# A fresh interpreter: numpy not imported yet, and no thread but the main one (pytest-xdist runs
# threads of its own, and the text layer forks its workers only from a process with one thread).
_FORKS = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from invoice_fixtures import Invoice
import textlayer.reader
from ledgerbot.pipeline import Extractor, Source

kinds = []
start = textlayer.reader._Worker.__init__

def recording(self, memory_mb, fork=False):
    kinds.append("fork" if fork else "spawn")
    start(self, memory_mb, fork=fork)

textlayer.reader._Worker.__init__ = recording
sources = [Source(name=f"{n}.pdf", data=Invoice().pdf()) for n in range(2)]
results = list(Extractor().extract_sources(sources))
print(json.dumps({"workers": kinds, "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "read": [r.fields.invoice_number is not None for r in results]}))
"""


def test_numpy_imports_before_the_forks_without_a_blas_thread_that_would_stop_them(tmp_path: Path) -> None:
    """numpy loads before the pipeline's children fork (once for the stages here and the cascade
    there); its BLAS starts no thread, so the text layer still forks its workers."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["LEDGERBOT_HOME"] = str(tmp_path)
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-c", _FORKS, str(here)],
        capture_output=True,
        text=True,
        env=env,
        cwd=here.parents[1],
        check=True,
        timeout=120,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["blas"] == "1" and seen["read"] == [True, True]
    assert seen["workers"] and set(seen["workers"]) == {"fork"}


@in_fresh_process
def test_a_batch_left_midway_leaves_no_forked_child_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Extractor) -> None:
        raise KeyboardInterrupt

    children = _started_children(monkeypatch)
    monkeypatch.setattr(Extractor, "_load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(Extractor().extract_sources(_mixed_batch()))
    started = [pid for _, pid in _pids]
    assert [kind for kind, _ in children] == ["call", "task"] and len(started) == 2 and all(started)
    for pid in started:  # the e-invoices' and the cascade's children were stopped and reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
