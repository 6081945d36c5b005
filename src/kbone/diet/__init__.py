"""kbone.diet."""
