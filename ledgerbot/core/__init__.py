"""The core: domain model, error catalogue, settings, store, life cycle and model artifacts.

Everything else stands on it; it imports nothing of the project above it.
"""
