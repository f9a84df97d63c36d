"""The ``ledgerbot`` command groups, one module each, and the table that names them for ``ledgerbot.cli.app``.

A command's module is imported only when that command runs: ``ledgerbot --help`` lists the
commands from ``COMMANDS`` (name, the modules that define it, its one-paragraph help) without
importing any of them, and ``ledgerbot status`` imports ``core`` alone. Every command also imports
the libraries it needs inside its own function, so a module stays cheap to load. A test checks
that this table and the commands the modules define agree, name for name and word for word.
"""

from __future__ import annotations

from typing import NamedTuple


class CommandEntry(NamedTuple):
    """Where a top-level command (or command group) is defined, and its help in the command list."""

    modules: tuple[str, ...]  # every module of this package adding to it (a group may span several)
    help: str

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(f"{__name__}.{module}" for module in self.modules)


COMMANDS: dict[str, CommandEntry] = {
    "classify": CommandEntry(
        ("classify",),
        "Document type of each file: one JSON line per file (doc_type, confidence, route, model@version).",
    ),
    "eval-classifier": CommandEntry(
        ("classify",),
        "Accuracy, per-class precision / recall, confusion and ECE of baseline, transformer and cascade.",
    ),
    "db-upgrade": CommandEntry(("core",), "Create or migrate the store's schema to the newest revision."),
    "ingest": CommandEntry(
        ("core",),
        "Receive files from disk into the store (the folder intake). One JSON line per file.",
    ),
    "status": CommandEntry(("core",), "Counts of documents per life-cycle state, as one JSON object."),
    "show": CommandEntry(
        ("core",),
        "One document's state, extraction, exceptions and full audit history, as JSON.",
    ),
    "extract": CommandEntry(
        ("extract",),
        "Extract header fields and line items: one JSON line per file (per document with --split), in order.",
    ),
    "eval": CommandEntry(
        ("extract",),
        "Accuracy of extraction over a labelled folder, and pages per second. One JSON object on stdout.",
    ),
    "match": CommandEntry(
        ("match",),
        "Match invoices against orders and receipts: one JSON line per case (matched, exception or error).",
    ),
    "retry": CommandEntry(
        ("reliability",),
        "Send failed documents back for another try: one JSON line per document retried.",
    ),
    "report": CommandEntry(
        ("report",),
        "Processed invoices, open exceptions with ageing, straight-through rate, exceptions and spend"
        " by vendor, with charts. Prints one JSON object naming the file and its figures.",
    ),
    "review": CommandEntry(("review",), "Serve the review app on the configured store."),
    "run": CommandEntry(("robots",), "Intake -> processing -> posting, once. One JSON summary on stdout."),
    "schedule": CommandEntry(
        ("robots",),
        "Run the robots on their cadences on this worker until stopped (Ctrl-C / SIGTERM).",
    ),
    "resplit": CommandEntry(
        ("split",),
        "Correct where a file's documents begin: its documents are re-created from these page ranges.",
    ),
    "train": CommandEntry(("classify", "split", "extract"), "Train models from a labelled corpus."),
    "template": CommandEntry(
        ("extract",),
        "Vendor templates: draft one from a sample, test all against goldens.",
    ),
    "models": CommandEntry(
        ("models",),
        "The model registry: versions, states (candidate, shadow, canary, active, retired).",
    ),
    "audit": CommandEntry(("reliability",), "The audit trail: verify its hash chain."),
    "users": CommandEntry(("review",), "Users of the review app (clerks, approvers, admins)."),
    "labels": CommandEntry(("review",), "Labelled examples from clerks' corrections."),
    "worker": CommandEntry(
        ("worker",),
        "Scale-out workers on PostgreSQL (procrastinate). Without a sub-command: run a worker.",
    ),
}
