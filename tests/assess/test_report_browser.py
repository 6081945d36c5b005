"""The HTML report opens in headless Chromium: zh and en versions render their sections (DOM and pixels)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from kbone.assess.report import render_html
from tests.assess.conftest import assessed
from tests.conftest import chromium_path, require

pytestmark = pytest.mark.browser

SECTIONS = ("summary", "alerts", "screening", "intake", "status", "options", "clinician", "sources")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium(args: list[str], tmp_path, name: str) -> subprocess.CompletedProcess:
    exe = chromium_path()
    return subprocess.run([exe, *FLAGS, f"--user-data-dir={tmp_path / ('profile_' + name)}", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("lang, marker", [("zh", "写给您的要点"), ("en", "Summary for you")])
def test_report_renders_in_chromium(tmp_path, lang, marker):
    require(chromium_path() is not None, "Debian chromium (apt-get install chromium)")
    html = tmp_path / f"report_{lang}.html"
    html.write_text(render_html(assessed("warfarin_asks_mk7.yaml"), lang), encoding="utf-8")
    url = html.as_uri()

    dom = _chromium(["--dump-dom", url], tmp_path, f"dom_{lang}")
    assert dom.returncode == 0, dom.stderr[-500:]
    for s in SECTIONS:
        assert f'id="{s}"' in dom.stdout, f"section {s} missing from the rendered DOM ({lang})"
    assert marker in dom.stdout
    assert 'data-severity="major"' in dom.stdout

    png = tmp_path / f"shot_{lang}.png"
    shot = _chromium(["--window-size=1000,2600", f"--screenshot={png}", url], tmp_path, f"shot_{lang}")
    assert shot.returncode == 0 and png.exists(), shot.stderr[-500:]
    from PIL import Image

    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.shape[0] >= 2000 and img.shape[1] >= 900
    # every 200-px band of the page down to the options carries ink (text, alerts, plots), none is blank
    bands = [img[y:y + 200] for y in range(0, 2400, 200)]
    inked = [float((b < 200).mean()) for b in bands]
    assert all(x > 0.002 for x in inked), inked
    # the major alerts near the top are drawn in their pink boxes (#fcefef) with a red border (#b22222)
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=float)[:1400]
    box = (np.abs(rgb - np.array([252, 239, 239])) <= 4).all(axis=-1)
    border = (np.abs(rgb - np.array([178, 34, 34])) <= 10).all(axis=-1)
    assert box.mean() > 0.02 and border.sum() > 500, (box.mean(), border.sum())
