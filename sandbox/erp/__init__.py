"""The sandbox "legacy ERP": server-rendered screens over its own SQLite database, for robots to drive."""

from sandbox.erp.app import create_app
from sandbox.erp.server import serve_in_thread

__all__ = ["create_app", "serve_in_thread"]
