"""NONMEM-style event tables and command-line quantities."""

from __future__ import annotations

import numpy as np
import pytest

from kbone.errors import KboneInputError
from kbone.model.events import DoseEvent, EventTable, parse_quantity


def fields(err: KboneInputError) -> set[str]:
    return {p.field for p in err.problems}


def test_addl_ii_expand_to_regular_doses():
    t = EventTable(events=[DoseEvent(time=8, amt=180, addl=3, ii=24)]).expand()
    assert t.time.tolist() == [8, 32, 56, 80]
    assert t.amt.tolist() == [180] * 4


def test_regular_and_single_dose():
    assert len(EventTable.regular(100, every_h=24, duration_h=90 * 24).expand()) == 90
    assert EventTable.regular(100, every_h=None, duration_h=96).expand().time.tolist() == [0.0]
    with pytest.raises(KboneInputError) as e:
        EventTable.regular(100, every_h=0, duration_h=48)
    assert "every" in fields(e.value)


def test_csv_with_missed_doses_and_observation_rows(tmp_path):
    p = tmp_path / "ev.csv"
    p.write_text("TIME,AMT,ADDL,II,EVID\n0,180,6,24,1\n# day 7 missed\n192,180,5,24,1\n36,.,,,0\n", encoding="utf-8")
    t = EventTable.from_csv(p)
    ex = t.expand()
    assert 168.0 not in ex.time and ex.time.tolist()[:8] == [0, 24, 48, 72, 96, 120, 144, 192]
    assert t.observation_times().tolist() == [36.0]


@pytest.mark.parametrize("rows,field", [
    ("TIME,AMT,ADDL,II\n0,180,5,0\n", "II"),          # additional doses without an interval
    ("TIME,AMT,ADDL,II\n0,180,0,24\n", "ADDL"),       # interval without additional doses
    ("TIME,AMT\n0,-5\n", "AMT"),                      # negative amount
    ("TIME,AMT\n-1,100\n", "TIME"),                   # negative time
    ("TIME,AMT,EVID\n0,100,3\n", "EVID"),             # unsupported event type
    ("TIME,AMT,DOSE\n0,100,1\n", "DOSE"),             # unknown column
    ("TIME,AMT\n0,abc\n", "AMT"),                     # not a number
    ("TIME,AMT\n0,100,5\n", "row"),                   # wrong number of values
])
def test_inconsistent_tables_name_the_field(tmp_path, rows, field):
    p = tmp_path / "bad.csv"
    p.write_text(rows, encoding="utf-8")
    with pytest.raises(KboneInputError) as e:
        EventTable.from_csv(p)
    assert field in fields(e.value)
    assert all(pr.file for pr in e.value.problems)


def test_absurd_amount_is_refused():
    t = EventTable(events=[DoseEvent(time=0, amt=5e6)])
    with pytest.raises(KboneInputError) as e:
        t.validate_rows(amt_max=50_000)
    assert "AMT" in fields(e.value)


def test_quantities_convert_units():
    assert parse_quantity("1mg", field="dose", default_unit="ug", dimension="mass") == pytest.approx(1000)
    assert parse_quantity("180 µg", field="dose", default_unit="ug", dimension="mass") == pytest.approx(180)
    assert parse_quantity("1.5d", field="every", default_unit="h", dimension="time") == pytest.approx(36)
    assert parse_quantity("12", field="every", default_unit="h", dimension="time") == pytest.approx(12)
    for bad, dim in (("abc", "mass"), ("24kg", "time"), ("5h", "mass")):
        with pytest.raises(KboneInputError):
            parse_quantity(bad, field="x", default_unit="ug" if dim == "mass" else "h", dimension=dim)
    assert np.isfinite(parse_quantity("20g", field="fat", default_unit="g", dimension="mass"))
