"""kbone.assess."""
