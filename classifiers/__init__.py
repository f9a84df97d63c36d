"""Document-type classifiers: a scikit-learn baseline and a fine-tuned transformer."""
