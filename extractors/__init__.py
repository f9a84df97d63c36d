"""Text layer, e-invoice readers, vendor templates and the template-free extractor."""
