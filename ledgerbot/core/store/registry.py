"""The model registry's tables: model versions and their states, state changes, shadow and canary runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbot.core.store.models import Base, utcnow


class ModelVersionRow(Base):
    """One trained model version (``name@version`` under one models folder) and its state."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("root", "name", "version", name="uq_model_versions_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The models folder the artifact lives in: one install has one, tests and trials have their own.
    root: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))  # classifier | ranker | template
    data_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    # A template version's YAML as registered, so a rollback can put that very file back.
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelEventRow(Base):
    """One state change of a model version: who, when, why. Rows are only ever added."""

    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelRunRow(Base):
    """What a shadow or canary model and the active model said about one document.

    ``arm`` is ``shadow`` (stored, never acted on), ``canary`` (the candidate decided the document)
    or ``active`` (a document of the canary's comparison arm, decided by the active model).
    """

    __tablename__ = "model_runs"
    __table_args__ = (Index("ix_model_runs_model_arm", "model_id", "arm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    arm: Mapped[str] = mapped_column(String(10))
    active_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    vendor_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # field -> value as text, for the candidate and for the active model on the same document.
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active_outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    exception: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
