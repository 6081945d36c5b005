"""Intake chart: written atomically, Chinese labels with a CJK font, graceful English fallback without one."""

from __future__ import annotations

import pytest

from kbone.diet import compute_intake, plots
from kbone.errors import KboneInputError
from tests.conftest import require

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def result():
    return compute_intake(EXAMPLES / "diary_zh_3days.csv")


def test_chinese_chart_uses_a_cjk_font(result, tmp_path):
    require(plots.cjk_font() is not None, "no CJK font (Debian fonts-noto-cjk)")
    path, warnings = plots.plot_intake(result, tmp_path / "zh.svg", "zh")
    svg = path.read_text(encoding="utf-8")
    assert not warnings and "<svg" in svg


def test_fallback_to_english_without_cjk_font(result, tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    path, warnings = plots.plot_intake(result, tmp_path / "zh.png", "zh")
    assert path.exists() and warnings and "fonts-noto-cjk" in warnings[0]


def test_bad_extension_writes_nothing(result, tmp_path):
    with pytest.raises(KboneInputError):
        plots.plot_intake(result, tmp_path / "chart.doc", "en")
    assert not list(tmp_path.iterdir())
