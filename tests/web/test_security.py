"""Hostile input: oversized bodies, malformed JSON, script injection, path traversal in upload names,
forms without a CSRF token — each rejected or neutralised."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kbone.web.forms import safe_filename
from tests.web.conftest import app_with_users
from tests.web.test_app import csrf_of, page_login

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with app_with_users(tmp_path_factory, "sechome", "mallory") as a:
        yield a


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


# ---- size and syntax ------------------------------------------------------------------------------

def test_oversized_bodies_get_413(client):
    big = b"x" * 1_000_001
    r = client.post("/api/v1/assess", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    # no Content-Length (chunked): the limit is counted while reading
    r = client.post("/api/v1/assess", content=iter([b"{" + b" " * 600_000, b" " * 600_000 + b"}"]),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    tok = csrf_of(client.get("/diary").text)
    r = client.post("/diary", data={"csrf": tok, "diary_text": "a" * 1_100_000})
    assert r.status_code == 413
    # just under the limit is read normally (and then judged on its content)
    r = client.post("/api/v1/assess", content=b'{"age": 50' + b" " * 900_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize("body", [b"{", b'{"age": 50,', b"\xff\xfe", b"[1, 2", b'{"age": NaN}', b"null"])
def test_malformed_json_is_a_4xx(client, body):
    for path in ("/api/v1/assess", "/api/v1/login", "/api/v1/diet"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (path, body, r.status_code)
        assert "Traceback" not in r.text


def test_wrong_types_name_the_field(client):
    r = client.post("/api/v1/assess", json={"age": "old", "sex": "female", "weight": 60})
    assert r.status_code == 422
    assert any(e["loc"][-1] == "age" for e in r.json()["detail"])
    assert "old" not in r.text  # the input is not echoed back


# ---- script injection -----------------------------------------------------------------------------

def test_script_in_search_and_forms_is_escaped(client):
    r = client.get("/evidence", params={"q": SCRIPT})
    assert SCRIPT not in r.text and "&lt;script&gt;" in r.text
    r = client.get("/food", params={"q": SCRIPT})
    assert SCRIPT not in r.text
    tok = csrf_of(client.get("/assess").text)
    r = client.post("/assess", data={"csrf": tok, "label": SCRIPT, "age": "60", "sex": "female", "weight": "60",
                                     "conditions_other": SCRIPT})
    assert r.status_code == 422 and SCRIPT not in r.text and "&lt;script&gt;" in r.text
    r = client.post("/diary", data={"csrf": tok, "date_0": "2024-01-01", "food_0": SCRIPT, "amount_0": "1 g"})
    assert SCRIPT not in r.text


def test_csp_forbids_inline_scripts(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # only <script src=…> files


@pytest.mark.slow
def test_script_in_profile_label_is_escaped_in_the_report(client):
    tok = csrf_of(client.get("/assess").text)
    r = client.post("/assess", data={"csrf": tok, "label": SCRIPT, "age": "70", "sex": "female", "weight": "55",
                                     "med_name_0": "warfarin"})
    assert r.status_code == 200
    assert SCRIPT not in r.text
    # inside the frame document the label is escaped too (escaped once more for the srcdoc attribute)
    srcdoc = re.search(r'srcdoc="([^"]*)"', r.text).group(1)
    import html

    doc = html.unescape(srcdoc)
    assert SCRIPT not in doc and "&lt;script&gt;" in doc


# ---- uploads ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd.yaml", "passwd.yaml"), ("..\\..\\windows\\win.ini.csv", "win.ini.csv"),
    ("/abs/path/diary.csv", "diary.csv"), ("....//..//x.yaml", "x.yaml"), ("..", "upload"),
    ("a\x00b<c>.csv", "abc.csv"), ("", "upload"), ("％２ｅ％２ｅ／x.csv", "x.csv"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_path_traversal_in_upload_names_is_neutralised(client, tmp_path):
    target = tmp_path / "evil.csv"
    tok = csrf_of(client.get("/diary").text)
    files = {"diary_file": (f"../../../../{tmp_path}/evil.csv", b"date,meal,food,amount\n2024-01-01,lunch,zzqqxx,1 g\n",
                            "text/csv")}
    r = client.post("/diary", data={"csrf": tok}, files=files)
    assert r.status_code == 422
    assert not target.exists()
    assert f"{tmp_path}" not in r.text and "../" not in r.text
    files = {"profile_file": ("../../../etc/shadow.yaml", b"age: [\n", "application/yaml")}
    r = client.post("/assess", data={"csrf": tok}, files=files)
    assert r.status_code == 422 and "shadow.yaml" in r.text and "../" not in r.text and "/etc/" not in r.text


def test_profile_cannot_read_server_files(client):
    r = client.post("/api/v1/assess", json={"age": 60, "sex": "male", "weight": 70,
                                            "diet": {"diary": "/etc/passwd"}})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "diet.diary"
    assert "root:" not in r.text


# ---- CSRF ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,data", [
    ("/login", {"username": "mallory", "password": "x"}), ("/logout", {}),
    ("/assess", {"age": "60", "sex": "male", "weight": "70"}), ("/diary", {"food_0": "egg", "amount_0": "1"}),
    ("/assessments", {"title": "t", "profile": "{}"}), ("/assessments/1/delete", {}),
])
def test_form_posts_without_csrf_are_refused(client, path, data):
    page_login(client, "mallory")
    r = client.post(path, data=data, follow_redirects=False)
    assert r.status_code == 403, (path, r.status_code)
    r = client.post(path, data={**data, "csrf": "not-the-token"}, follow_redirects=False)
    assert r.status_code == 403


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_bad_assessment_slot_setting_names_the_variable(monkeypatch, value):
    from kbone.errors import KboneInputError
    from kbone.web.routes.assess import _slots

    monkeypatch.setenv("KBONE_WEB_ASSESS_SLOTS", value)
    with pytest.raises(KboneInputError) as e:
        _slots()
    assert e.value.problems[0].field == "KBONE_WEB_ASSESS_SLOTS" and e.value.problems[0].fix
    monkeypatch.setenv("KBONE_WEB_ASSESS_SLOTS", "3")
    assert _slots() == 3
