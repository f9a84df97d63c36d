"""The sample corpus generator: invoices, credit notes, scans, e-invoices and other papers with truth.

See README.md in this folder for the layouts, the dev/held-out split, the truth format and the
injected mismatch types.
"""

from sandbox.corpus.cases import build_cases, write_cases
from sandbox.corpus.generator import CorpusError, CorpusStats, generate_corpus
from sandbox.corpus.layouts import ALL_LAYOUTS, LAYOUTS, Layout, layout_for_vendor

__all__ = [
    "ALL_LAYOUTS",
    "LAYOUTS",
    "CorpusError",
    "CorpusStats",
    "Layout",
    "build_cases",
    "generate_corpus",
    "layout_for_vendor",
    "write_cases",
]
