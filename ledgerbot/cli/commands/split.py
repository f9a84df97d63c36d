"""``ledgerbot train splitter`` (where documents begin in a file), ``ledgerbot resplit`` (its correction)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, fail, stderr
from ledgerbot.cli.commands.classify import train_app
from ledgerbot.core.settings import get_settings


@train_app.command("splitter")
def train_splitter(
    corpus_dirs: Annotated[
        list[Path], typer.Argument(help="Labelled corpus folders (<stem>.json beside each file)")
    ],
    models_dir: Annotated[
        Path | None,
        typer.Option("--models-dir", help="Model artifacts folder (default: <LEDGERBOT_HOME>/models)"),
    ] = None,
    stacks: Annotated[int | None, typer.Option("--stacks", min=10, help="Training stacks to draw")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for stacking and the validation layouts")] = 0,
    include_corrections: Annotated[
        bool,
        typer.Option("--include-corrections", help="Also learn from the files whose split clerks corrected"),
    ] = False,
) -> None:
    """Learn where documents begin from stacks of the corpus's dev documents; one JSON object on stdout."""
    from dataclasses import replace

    from classifiers.split_training import STACKS, load_corrected_stacks
    from classifiers.split_training import train_splitter as train

    for folder in corpus_dirs:
        if not folder.is_dir():
            raise fail(f"corpus folder {folder} does not exist", "E502", exit_code=2)
    settings = get_settings()
    cache_dir = settings.home / "cache" / "textlayer"

    def log(message: str) -> None:
        stderr.print(message, highlight=False, markup=False)

    report = train(
        corpus_dirs,
        models_dir or settings.models_dir,
        cache_dir,
        seed=seed,
        settings=replace(STACKS, stacks=stacks) if stacks else STACKS,
        log=log,
        corrections=load_corrected_stacks(cache_dir=cache_dir, log=log) if include_corrections else (),
    )
    emit(report)


def _range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a page range like 3-5 or 6") from None


@app.command("resplit")
def resplit_command(
    document_id: Annotated[int, typer.Argument(help="Any document cut out of the file")],
    pages: Annotated[
        list[str], typer.Option("--pages", help="One document's pages, e.g. 1-2 (repeat, in page order)")
    ],
    clerk: Annotated[str, typer.Option("--clerk", help="Who corrects the split (on the audit trail)")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the split was wrong (on the audit trail)")
    ] = "",
) -> None:
    """Correct where a file's documents begin: its documents are re-created from these page ranges."""
    from ledgerbot.core.errors import LedgerbotError
    from ledgerbot.core.store import FileStore, get_store
    from ledgerbot.splitting import resplit

    settings = get_settings()
    try:
        done = resplit(
            get_store(),
            FileStore(settings.files_dir),
            document_id,
            [_range(p) for p in pages],
            clerk=clerk,
            reason=" ".join(reason.split()),
        )
    except LedgerbotError as error:
        raise fail(error.message, error.code, exit_code=1) from None
    emit(
        {
            "document_id": document_id,
            "documents": done.created,
            "replaced": done.replaced,
            "pages": pages,
            "changed": done.changed,
        }
    )
