"""Prometheus ``/metrics`` for the review app: pipeline gauges from the store, and histograms."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ledgerbot.core.store import Store
from ledgerbot.observability import REGISTRY, register_store


def mount_metrics(app: FastAPI, store: Store) -> None:
    """Serve ``/metrics`` (no sign-in: scrapers do not log in; it shows counts, never documents)."""
    register_store(store)

    # A plain (sync) route: the store gauges run queries, so FastAPI runs it in its thread pool.
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
