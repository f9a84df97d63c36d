"""Template-free extraction: label/value geometry, line tables, candidate ranking and consistency checks."""

from extractors.generic.extractor import VERSION, GenericExtractor

__all__ = ["VERSION", "GenericExtractor"]
