"""``kbone check`` / ``kbone ingest`` in-process: JSON spans, stdin, HTML, bad input (exit 2, no traceback)."""

from __future__ import annotations

import io
import json
import sys

import pytest


def _json(out: str) -> dict:
    return json.loads(out)


def _flat(s: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(s.split())


def test_check_json_spans_and_fields(cli, seed004_path):
    code, out, err = cli("check", seed004_path, "--json")
    assert code == 0, err
    doc = _json(out)
    text = seed004_path.read_text(encoding="utf-8")
    assert doc["claims"]
    for c in doc["claims"]:
        assert {"text", "verdict", "reason", "records", "start", "end"} <= set(c)
        assert text[c["start"]:c["end"]] == c["text"]
    assert sum(doc["summary"].values()) == len(doc["claims"])
    assert "cockayne2006" in doc["records"] or doc["records"]  # cited records carry their citations


def test_check_reads_stdin(cli, seed004_path, monkeypatch):
    raw = seed004_path.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    code, out, err = cli("check", "-", "--json", "--lang", "zh")
    assert code == 0, err
    doc = _json(out)
    assert doc["source"] == "<stdin>" and doc["lang"] == "zh"
    assert all(c["reason"] == c["reason_zh"] for c in doc["claims"])


def test_check_text_output_bilingual(cli, seed004_path):
    code, out, _ = cli("check", seed004_path, "--lang", "zh")
    assert code == 0 and "缺乏证据" in out and "安全" in out
    code, out, _ = cli("check", seed004_path, "--lang", "en")
    assert code == 0 and "unsupported" in out


def test_check_html_is_self_contained(cli, seed004_path, tmp_path):
    out_file = tmp_path / "r.html"
    code, _, err = cli("check", seed004_path, "--html", out_file)
    assert code == 0, err
    html = out_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<mark class="v-') >= 10
    assert "<script" not in html and "http-equiv" not in html and "<link" not in html
    assert "英国骨代谢学杂志" in html


def test_ingest_json_lists_repairs_and_linked_studies(cli, seed000_path):
    code, out, err = cli("ingest", seed000_path, "--json")
    assert code == 0, err
    doc = _json(out)
    assert "clean_text" in doc and "维生素K2防治骨质疏松症" in doc["clean_text"]
    rules = {r["rule"] for r in doc["repairs"]}
    assert "ocr_subscript_k2" in rules and "ocr_citation_mark" in rules
    linked = {c["study"]["record"] for c in doc["claims"] if c.get("study")}
    assert {"braam2003", "cheung2008", "je2011"} <= linked


def test_gbk_file_decoded_and_named(cli, tmp_path):
    p = tmp_path / "gbk.txt"
    p.write_bytes("特别提醒:抗凝治疗患者应谨慎补充维生素K,需由医生评估后决定剂量。".encode("gbk"))
    code, out, err = cli("check", p, "--json")
    assert code == 0, err
    doc = _json(out)
    assert doc["encoding"] == "GB18030" and any("GB18030" in n for n in doc["notes"])
    assert doc["claims"][0]["verdict"] == "supported"


@pytest.mark.parametrize("content,words", [
    (b"", "empty"),
    (b"\x00\x01\x02\x03" * 100, "binary"),
    (bytes(range(128, 256)) * 50, "not UTF-8"),
])
def test_bad_files_exit_2_with_a_clear_message(cli, tmp_path, content, words):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    code, out, err = cli("check", p)
    assert code == 2
    assert words in _flat(err) and "Traceback" not in err + out
    code, out, _ = cli("check", p, "--json")
    assert code == 2 and _json(out)["error"] == "invalid_input"


def test_huge_file_refused_before_reading(cli, tmp_path):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as fh:
        fh.truncate(5 * 1024 * 1024 + 1)
    code, _, err = cli("check", p)
    assert code == 2 and "5 MB" in _flat(err)


def test_missing_file_and_bad_lang(cli, tmp_path):
    code, _, err = cli("check", tmp_path / "nope.txt")
    assert code == 2 and "does not exist" in _flat(err)
    p = tmp_path / "a.txt"
    p.write_text("维生素K2能降低椎体骨折风险。", encoding="utf-8")
    code, _, err = cli("check", p, "--lang", "fr")
    assert code == 2 and "lang" in _flat(err)


def test_html_into_missing_folder_writes_nothing(cli, tmp_path, seed004_path):
    target = tmp_path / "no" / "r.html"
    code, _, err = cli("check", seed004_path, "--html", target)
    assert code == 2 and not target.exists()


def test_missing_argument_is_a_usage_error_not_a_traceback(cli):
    code, out, err = cli("check")
    assert code == 2 and "Traceback" not in out + err
