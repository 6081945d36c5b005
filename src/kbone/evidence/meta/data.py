"""A user's own table (CSV, metafor-style columns) → study inputs.

Columns (names as in metafor's ``escalc``; case-insensitive):

- 2x2 counts: ``ai bi ci di`` or ``ai n1i ci n2i`` (events, non-events / totals; treatment first);
- means: ``m1i sd1i n1i m2i sd2i n2i``;
- effects: ``yi`` with ``vi`` or ``sei`` (log scale for ratios).

Optional: ``study`` (or ``id``/``author``), ``year``, ``group``, ``integrity`` (ok / flagged /
expression_of_concern / retracted), ``measure`` (must be one value for the whole file) and any other column,
usable with ``--by COLUMN``. Bad values stop the run with the row and the fix (exit 2) unless
``drop_incomplete`` is set, in which case such rows are excluded and listed.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from kbone.errors import KboneInputError, Problem, read_text_input
from kbone.evidence.meta.pipeline import StudyInput
from kbone.evidence.meta.results import Excluded

COUNT_COLS = ("ai", "bi", "ci", "di", "n1i", "n2i")
MEAN_COLS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
INTEGRITY = ("ok", "flagged", "expression_of_concern", "retracted")
ID_COLS = ("study", "id", "author", "slab", "trial")


def _num(text: str | None) -> float | None:
    if text is None:
        return None
    t = text.strip()
    if t == "" or t.upper() in ("NA", "NAN", "NULL", "-"):
        return None
    return float(t)


def read_csv(path: str | Path, *, drop_incomplete: bool = False) -> tuple[list[StudyInput], list[Excluded], str | None, str]:
    """Studies from a CSV file; returns (studies, excluded rows, the file's ``measure`` column value, kind).

    ``kind`` is ``counts``, ``means`` or ``effects`` — the data layout found in the header.
    """
    p, text = read_text_input(path, field="data", what="a CSV file", fix_utf8="save the table as UTF-8 CSV",
                              encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    if not rows:
        raise KboneInputError(Problem(field="data", file=str(p), reason="the table has no rows",
                                      fix="one row per study with a header line"))
    header = {h.strip().lower(): h for h in rows[0] if h is not None}
    has = set(header)
    if {"ai", "ci"} <= has and ({"bi", "di"} <= has or {"n1i", "n2i"} <= has):
        kind = "counts"
    elif set(MEAN_COLS) <= has:
        kind = "means"
    elif "yi" in has and ({"vi"} & has or {"sei"} & has):
        kind = "effects"
    else:
        raise KboneInputError(Problem(
            field="columns", file=str(p), reason=f"no known data layout in the header ({', '.join(sorted(has))})",
            fix="use metafor-style columns: ai bi ci di (or ai n1i ci n2i), or m1i sd1i n1i m2i sd2i n2i, or yi vi"))
    measures = {(r.get(header["measure"]) or "").strip().upper() for r in rows} - {""} if "measure" in has else set()
    if len(measures) > 1:
        raise KboneInputError(Problem(field="measure", file=str(p),
                                      reason=f"the table mixes measures ({', '.join(sorted(measures))})",
                                      fix="split the table by measure: one analysis pools one measure"))
    file_measure = measures.pop() if measures else None
    id_col = next((header[c] for c in ID_COLS if c in header), None)
    studies: list[StudyInput] = []
    excluded: list[Excluded] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for line, r in enumerate(rows, start=2):
        def g(col: str, r=r) -> str | None:
            return r.get(header[col]) if col in header else None
        sid = (r.get(id_col) or "").strip() if id_col else ""
        sid = sid or f"row{line - 1}"
        if sid in seen:
            sid = f"{sid} (row {line - 1})"
        seen.add(sid)
        bad: list[str] = []
        vals: dict[str, float | None] = {}
        for col in ("ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "sd1i", "m2i", "sd2i", "yi", "vi", "sei", "year"):
            try:
                vals[col] = _num(g(col))
            except ValueError:
                bad.append(f"{col}={g(col)!r} is not a number")
                vals[col] = None
        for col, v in vals.items():
            if v is not None and not math.isfinite(v):
                bad.append(f"{col} is not finite")
        s = StudyInput(id=sid, label=sid, year=int(vals["year"]) if vals["year"] is not None else None)
        integ = (g("integrity") or "ok").strip().lower() or "ok"
        if integ not in INTEGRITY:
            bad.append(f"integrity {integ!r} is not one of {', '.join(INTEGRITY)}")
        s.integrity = integ if integ in INTEGRITY else "ok"
        for col, h in header.items():
            if col not in (*COUNT_COLS, *MEAN_COLS, "yi", "vi", "sei", "year", "integrity", "measure"):
                val = (r.get(h) or "").strip()
                if val:
                    s.groups[col] = val
        if kind == "counts":
            a, c = vals["ai"], vals["ci"]
            n1 = vals["n1i"] if vals["n1i"] is not None else (None if a is None or vals["bi"] is None else a + vals["bi"])
            n2 = vals["n2i"] if vals["n2i"] is not None else (None if c is None or vals["di"] is None else c + vals["di"])
            if None in (a, c, n1, n2):
                bad.append("missing counts (need ai, ci and bi/di or n1i/n2i)")
            else:
                if min(a, c) < 0 or min(vals["bi"] or 0, vals["di"] or 0) < 0:
                    bad.append("counts must be ≥ 0")
                if a > n1 or c > n2:
                    bad.append("events exceed the group size")
                if n1 <= 0 or n2 <= 0:
                    bad.append("a group has no participants")
                s.ai, s.ci, s.n1i, s.n2i = a, c, n1, n2
        elif kind == "means":
            if None in (vals["m1i"], vals["m2i"], vals["n1i"], vals["n2i"]):
                bad.append("missing mean or n")
            elif vals["sd1i"] is None or vals["sd2i"] is None:
                bad.append("missing SD (sd1i/sd2i)")
            else:
                if vals["sd1i"] <= 0 or vals["sd2i"] <= 0:
                    bad.append("SD must be > 0")
                if vals["n1i"] < 1 or vals["n2i"] < 1:
                    bad.append("n must be ≥ 1")
            s.m1i, s.sd1i, s.n1i, s.m2i, s.sd2i, s.n2i = (vals[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"))
        else:
            v = vals["vi"] if vals["vi"] is not None else (None if vals["sei"] is None else vals["sei"] ** 2)
            if vals["yi"] is None or v is None:
                bad.append("missing yi or vi/sei")
            elif (vals["vi"] is not None and vals["vi"] <= 0) or (vals["sei"] is not None and vals["sei"] <= 0):
                bad.append(f"negative or zero variance (vi={vals['vi']}, sei={vals['sei']})")
            s.yi, s.vi = vals["yi"], v
            s.yi_measure = file_measure
        if bad:
            if drop_incomplete:
                excluded.append(Excluded(id=sid, label=sid, reason="; ".join(bad)))
            else:
                problems.append(Problem(field="; ".join(sorted({b.split('=')[0].split(' ')[0] for b in bad})),
                                        file=str(p), line=line, record=sid, reason="; ".join(bad),
                                        fix="correct the row, delete it, or pass --drop-incomplete to exclude it"))
            continue
        studies.append(s)
    if problems:
        raise KboneInputError(problems)
    return studies, excluded, file_measure, kind
