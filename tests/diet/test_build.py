"""scripts/build_foods.py rebuilds the committed tables byte for byte (needs ../shared beside the repo)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "foods"


def _load_script():
    spec = importlib.util.spec_from_file_location("build_foods", REPO / "scripts" / "build_foods.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_tables_match_a_rebuild(tmp_path):
    require((SHARED / "usda_sr28_vitamin_k.csv").exists(), "../shared/data/foods not present")
    build = _load_script()
    info = build.build(SHARED, tmp_path)
    for name in build.OUTPUTS:
        assert (tmp_path / name).read_bytes() == (REPO / "src/kbone/data/foods" / name).read_bytes(), name
    assert info["counts"]["sr28_foods"] == 8789
    assert info["counts"]["sr28_portions"] == 15438


def test_build_refuses_a_name_naming_two_foods(tmp_path, monkeypatch):
    require((SHARED / "usda_sr28_vitamin_k.csv").exists(), "../shared/data/foods not present")
    build = _load_script()
    data = tmp_path / "data"
    data.mkdir()
    for f in (REPO / "src/kbone/data/foods").iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    # give 菠菜's alias to kale as well
    extra = data / "name_aliases.csv"
    extra.write_text(extra.read_text(encoding="utf-8") + "羽衣甘蓝,菠薐菜,,,,\n", encoding="utf-8")
    monkeypatch.setattr(build, "DATA", data)
    try:
        build.build(SHARED, tmp_path / "out")
    except build.BuildError as e:
        assert "菠薐菜" in str(e)
    else:
        raise AssertionError("build accepted an alias naming two foods")
