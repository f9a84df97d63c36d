"""Adapters: one package per outside system (target ERPs), behind interfaces defined in the core."""
