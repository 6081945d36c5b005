"""kbone.model."""
