"""Shadow and canary runs of a candidate document-type classifier beside the active one.

The pipeline asks ``ClassifierTrial.load`` once per run: with no version in shadow or canary that
is one registry query and nothing else runs per document. With one, the candidate classifies the
same text layers; in shadow its answer is only written to the lineage (``modelops.*``) and stored
by processing, in canary it decides the documents its stable hash picks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.modelops import Trial, check_canary, record_run, trial_for
from ledgerbot.core.store.models import DocumentRow

TRIAL = "modelops.trial"
MODEL_ID = "modelops.model_id"
ARM = "modelops.arm"
CANDIDATE = "modelops.candidate"
ACTIVE = "modelops.active"


def _output(classification: Any) -> dict[str, Any]:
    if classification is None:
        return {"doc_type": None, "confidence": None}
    return {
        "doc_type": classification.doc_type.value,
        "confidence": round(float(classification.confidence), 4),
    }


class ClassifierTrial:
    """A cascade version in shadow or canary, loaded beside the active cascade."""

    def __init__(self, trial: Trial, cascade: Any) -> None:
        self.trial = trial
        self.cascade = cascade

    @classmethod
    def load(cls, models_dir: Path) -> ClassifierTrial | None:
        trial = trial_for(models_dir, "cascade")
        if trial is None:
            return None
        from classifiers.cascade import Cascade

        return cls(trial, Cascade.load(models_dir, trial.version))

    def decide(
        self, data: Sequence[bytes | None], documents: Sequence[Any], active: list[Any]
    ) -> tuple[list[Any], list[dict[str, str]]]:
        """The classification each document goes on with, and the lineage notes of the trial."""
        try:
            candidate = list(self.cascade.classify(documents))
        except Exception:  # a broken candidate never costs the active model's decisions
            candidate = [None] * len(documents)
        chosen, notes = [], []
        for blob, ours, theirs in zip(data, candidate, active, strict=True):
            sha = hashlib.sha256(blob).hexdigest() if blob is not None else ""
            if self.trial.state == "shadow":
                arm = "shadow"
            else:
                arm = "canary" if ours is not None and self.trial.decides(sha) else "active"
            chosen.append(ours if arm == "canary" else theirs)
            notes.append(
                {
                    TRIAL: self.trial.ref,
                    MODEL_ID: str(self.trial.model_id),
                    ARM: arm,
                    CANDIDATE: json.dumps(_output(ours), sort_keys=True),
                    ACTIVE: json.dumps(_output(theirs), sort_keys=True),
                }
            )
        return chosen, notes


def record_trial(session: Session, document: DocumentRow, result: ExtractionResult) -> None:
    """Store a trial's outputs on ``document`` and, for a canary, apply the rollback rule at once."""
    lineage = result.lineage
    if ARM not in lineage:
        return
    model_id = int(lineage[MODEL_ID])
    arm = lineage[ARM]
    record_run(
        session,
        model_id=model_id,
        document_id=document.id,
        arm=arm,
        outputs=json.loads(lineage[CANDIDATE]),
        active_outputs=json.loads(lineage[ACTIVE]),
        active_ref=lineage.get("classifier") if arm != "canary" else None,
        vendor_id=document.vendor_id,
        exception=bool(result.errors),
    )
    if arm != "shadow":
        check_canary(session, model_id)
