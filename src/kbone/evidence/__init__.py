"""kbone.evidence: the evidence base (records, store, queries, meta-analysis, grading)."""
