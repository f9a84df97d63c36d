"""Vendor templates: the YAML schema, the engine that applies them, drafting and golden tests."""
