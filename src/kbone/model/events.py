"""Dose event tables in the NONMEM style: TIME, AMT, CMT, ADDL, II (and optional EVID, RATE).

One row says "give AMT into compartment CMT at TIME, then ADDL more times every II hours". Daily
dosing is one row (``ADDL=89, II=24``); irregular or missed doses are several rows. ``EVID`` 1 is a dose
and 0 an observation time (added to the output grid); ``RATE`` > 0 makes the dose a zero-order input
(duration AMT / RATE). Optional columns ``FORM`` (vitamin K form of the row) and ``FAT`` (grams of fat
eaten with the dose) are used by :mod:`kbone.model.pk`; the table itself is model-agnostic.

Units: TIME and II in hours, AMT in the unit the caller states (µg for vitamin K, mg for warfarin),
RATE in AMT units per hour. Everything is validated; a bad row raises :class:`KboneInputError`
naming the column, the line and the fix.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kbone.errors import KboneInputError, Problem

MAX_TIME_H = 200 * 365.25 * 24  # two centuries: beyond any simulation anyone needs
MAX_EVENTS = 2_000_000


class DoseEvent(BaseModel):
    """One row of an event table (see module docstring for units)."""

    model_config = ConfigDict(extra="forbid")

    time: float = Field(ge=0, le=MAX_TIME_H)
    amt: float = Field(default=0.0, ge=0)
    cmt: str | None = None
    addl: int = Field(default=0, ge=0)
    ii: float = Field(default=0.0, ge=0)
    evid: int = 1
    rate: float = Field(default=0.0, ge=0)
    form: str | None = None
    fat_g: float | None = Field(default=None, ge=0, le=500)
    line: int | None = None

    def problems(self) -> list[Problem]:
        """Inconsistencies within the row (each names its column)."""
        out: list[Problem] = []
        rec = None if self.line is None else str(self.line)

        def bad(field: str, reason: str, fix: str) -> None:
            out.append(Problem(field=field, reason=reason, fix=fix, line=self.line, record=rec))

        if self.evid not in (0, 1):
            bad("EVID", f"EVID {self.evid} is not supported", "use EVID 1 for a dose or 0 for an observation time")
        if self.evid == 1 and not self.amt > 0:
            bad("AMT", "a dose (EVID 1) needs AMT > 0", "give the dose amount, or set EVID 0 for an observation row")
        if self.evid == 0 and (self.amt or self.addl or self.rate):
            bad("AMT", "an observation row (EVID 0) cannot carry AMT, ADDL or RATE", "remove them or set EVID 1")
        if self.addl > 0 and not self.ii > 0:
            bad("II", f"ADDL={self.addl} additional doses need an interval II > 0",
                "give II in hours, e.g. 24 for daily dosing")
        if self.ii > 0 and self.addl == 0:
            bad("ADDL", f"II={self.ii:g} is given but ADDL is 0 (steady-state dosing is not supported)",
                "set ADDL to the number of additional doses, or drop II")
        if self.rate > 0 and self.addl > 0 and self.amt / self.rate > self.ii:
            bad("RATE", "each infusion lasts longer than the dosing interval II",
                "raise RATE or lengthen II so that infusions do not overlap")
        if self.time + self.addl * self.ii > MAX_TIME_H:
            bad("ADDL", "the dosing runs beyond 200 years", "shorten ADDL or II")
        return out


@dataclass(frozen=True)
class ExpandedDoses:
    """Doses as parallel arrays, sorted by time (hours)."""

    time: np.ndarray
    amt: np.ndarray
    cmt: list[str | None]
    rate: np.ndarray
    form: list[str | None]
    fat_g: list[float | None]

    def __len__(self) -> int:
        return len(self.time)


class EventTable(BaseModel):
    """An ordered list of :class:`DoseEvent` rows."""

    events: list[DoseEvent]

    def validate_rows(self, *, amt_max: float | None = None, amt_unit: str = "µg") -> None:
        """Raise one :class:`KboneInputError` listing every problem in the table."""
        probs: list[Problem] = []
        if not self.events:
            probs.append(Problem(field="events", reason="the event table has no rows",
                                 fix="add at least one dose row (TIME, AMT)"))
        n_doses = 0
        for ev in self.events:
            probs.extend(ev.problems())
            if amt_max is not None and ev.amt > amt_max:
                probs.append(Problem(field="AMT", line=ev.line, record=None if ev.line is None else str(ev.line),
                                     reason=f"dose {ev.amt:g} {amt_unit} is above the plausible maximum "
                                            f"{amt_max:g} {amt_unit} per dose",
                                     fix=f"check the unit: AMT is in {amt_unit}"))
            n_doses += (ev.addl + 1) if ev.evid == 1 else 0
        if n_doses > MAX_EVENTS:
            probs.append(Problem(field="ADDL", reason=f"{n_doses} doses is more than {MAX_EVENTS}",
                                 fix="simulate fewer doses"))
        if probs:
            raise KboneInputError(probs)

    def expand(self) -> ExpandedDoses:
        """All doses (ADDL expanded), sorted by time."""
        t, a, c, r, f, fat = [], [], [], [], [], []
        for ev in self.events:
            if ev.evid != 1:
                continue
            k = ev.addl + 1
            t.append(ev.time + ev.ii * np.arange(k))
            a.append(np.full(k, ev.amt))
            r.append(np.full(k, ev.rate))
            c.extend([ev.cmt] * k)
            f.extend([ev.form] * k)
            fat.extend([ev.fat_g] * k)
        if not t:
            return ExpandedDoses(np.zeros(0), np.zeros(0), [], np.zeros(0), [], [])
        tt = np.concatenate(t)
        order = np.argsort(tt, kind="stable")
        return ExpandedDoses(tt[order], np.concatenate(a)[order], [c[i] for i in order],
                             np.concatenate(r)[order], [f[i] for i in order], [fat[i] for i in order])

    def observation_times(self) -> np.ndarray:
        return np.array(sorted(ev.time for ev in self.events if ev.evid == 0), dtype=float)

    def end_time(self) -> float:
        """Time of the last dose (hours), or 0."""
        ends = [ev.time + ev.addl * ev.ii for ev in self.events if ev.evid == 1]
        return max(ends, default=0.0)

    @classmethod
    def regular(cls, amt: float, *, every_h: float | None, duration_h: float, start_h: float = 0.0,
                cmt: str | None = None, form: str | None = None, fat_g: float | None = None) -> EventTable:
        """One dose, or doses every ``every_h`` hours from ``start_h`` until before ``duration_h``."""
        if every_h is None:
            return cls(events=[DoseEvent(time=start_h, amt=amt, cmt=cmt, form=form, fat_g=fat_g)])
        if not every_h > 0:
            raise KboneInputError(Problem(field="every", reason="the dosing interval must be > 0",
                                          fix="give an interval such as 24h or 12h"))
        addl = max(0, int(math.ceil((duration_h - start_h) / every_h - 1e-9)) - 1)
        return cls(events=[DoseEvent(time=start_h, amt=amt, cmt=cmt, addl=addl, ii=every_h if addl else 0.0,
                                     form=form, fat_g=fat_g)])

    @classmethod
    def from_rows(cls, rows: list[dict], *, file: str | None = None) -> EventTable:
        """Build from dicts with NONMEM column names (case-insensitive); ``line`` keys give CSV lines."""
        events, probs = [], []
        colmap = {"time": "time", "amt": "amt", "cmt": "cmt", "addl": "addl", "ii": "ii", "evid": "evid",
                  "rate": "rate", "form": "form", "fat": "fat_g", "fat_g": "fat_g"}
        for row in rows:
            line = row.get("line")
            data: dict = {"line": line}
            for key, val in row.items():
                if key == "line":
                    continue
                k = str(key).strip().lower()
                if k not in colmap:
                    probs.append(Problem(field=str(key), file=file, line=line,
                                         reason=f"unknown column {key!r}",
                                         fix="use TIME, AMT, CMT, ADDL, II, EVID, RATE, FORM, FAT"))
                    continue
                if val is None or str(val).strip() in ("", "."):
                    continue
                data[colmap[k]] = str(val).strip()
            if "time" not in data:
                probs.append(Problem(field="TIME", file=file, line=line, reason="TIME is missing",
                                     fix="give the time of the row in hours"))
                continue
            try:
                ev = DoseEvent.model_validate(data)
            except ValidationError as e:
                for err in e.errors():
                    col = str(err["loc"][0]).upper().replace("FAT_G", "FAT") if err["loc"] else "row"
                    probs.append(Problem(field=col, file=file, line=line, reason=err["msg"],
                                         fix="give a number in the documented unit"))
                continue
            events.append(ev)
        if probs:
            raise KboneInputError(probs)
        table = cls(events=events)
        for ev in events:
            for p in ev.problems():
                p.file = file
                probs.append(p)
        if probs:
            raise KboneInputError(probs)
        return table

    @classmethod
    def from_csv(cls, path: str | Path) -> EventTable:
        """Read a CSV event table (header row with NONMEM column names; ``#`` starts a comment)."""
        p = Path(path)
        if not p.exists():
            raise KboneInputError(Problem(field="events", reason=f"file {p} not found", file=str(p),
                                          fix="give the path of a CSV event table"))
        text = p.read_text(encoding="utf-8-sig")
        lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
                 if ln.strip() and not ln.lstrip().startswith("#")]
        if len(lines) < 2:
            raise KboneInputError(Problem(field="events", file=str(p), reason="no header and data rows found",
                                          fix="first row: TIME,AMT[,CMT,ADDL,II,EVID,RATE,FORM,FAT]"))
        reader = csv.reader(io.StringIO("\n".join(ln.split("#")[0] for _, ln in lines)))
        rows = list(reader)
        header = [h.strip() for h in rows[0]]
        out = []
        for (lineno, _), vals in zip(lines[1:], rows[1:], strict=True):
            if len(vals) != len(header):
                raise KboneInputError(Problem(field="row", file=str(p), line=lineno,
                                              reason=f"{len(vals)} values for {len(header)} columns",
                                              fix="give one value per column (empty or '.' for none)"))
            d = dict(zip(header, vals, strict=True))
            d["line"] = lineno
            out.append(d)
        return cls.from_rows(out, file=str(p))


# ---- quantities on the command line ----------------------------------------------------------
_QTY = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+)\s*([^\d\s].*)?$")


def parse_quantity(text: str | float, *, field: str, default_unit: str, dimension: str) -> float:
    """``"180ug"``, ``"1 mg"``, ``"24h"``, ``"2d"``, ``"20g"`` → number in ``default_unit``.

    Units come from the shared vocabulary; the unit must have the given ``dimension`` (mass, time).
    """
    from kbone.vocab import vocab

    if isinstance(text, (int, float)):
        value, unit = float(text), default_unit
    else:
        m = _QTY.match(str(text))
        if not m:
            raise KboneInputError(Problem(field=field, reason=f"cannot read {text!r} as a number with a unit",
                                          fix=f"write it like 180ug, 1mg, 24h (default unit {default_unit})"))
        value = float(m.group(1))
        unit = (m.group(2) or default_unit).strip()
    v = vocab()
    term = v.resolve("unit", unit)
    if term is None or term.get("dimension") != dimension:
        raise KboneInputError(Problem(field=field, reason=f"{unit!r} is not a unit of {dimension}",
                                      fix=f"use a {dimension} unit such as {default_unit}",
                                      suggestions=[s for s in v.suggest("unit", unit)
                                                   if v.get("unit", s).get("dimension") == dimension]))
    if not math.isfinite(value):
        raise KboneInputError(Problem(field=field, reason=f"{text!r} is not a finite number", fix="give a number"))
    return v.convert(value, term.id, default_unit)
