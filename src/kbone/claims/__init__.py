"""kbone.claims."""
