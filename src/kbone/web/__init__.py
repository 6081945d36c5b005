"""kbone.web."""
