"""``ledgerbot train splitter``: the page-boundary model that finds several documents in one file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import emit, fail, stderr
from ledgerbot.cli.commands.classify import train_app


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
) -> None:
    """Learn where documents begin from stacks of the corpus's dev documents; one JSON object on stdout."""
    from dataclasses import replace

    from classifiers.split_training import STACKS
    from classifiers.split_training import train_splitter as train
    from ledgerbot.core.settings import get_settings

    for folder in corpus_dirs:
        if not folder.is_dir():
            raise fail(f"corpus folder {folder} does not exist", "E502", exit_code=2)
    settings = get_settings()
    report = train(
        corpus_dirs,
        models_dir or settings.models_dir,
        settings.home / "cache" / "textlayer",
        seed=seed,
        settings=replace(STACKS, stacks=stacks) if stacks else STACKS,
        log=lambda m: stderr.print(m, highlight=False, markup=False),
    )
    emit(report)
