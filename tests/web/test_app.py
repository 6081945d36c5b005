"""The web app in-process (FastAPI TestClient): log-in, sessions, CSRF, ownership of saved assessments,
language switch, evidence and meta-analysis pages against the library, foods and diary."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, add_users

PROFILE = {"age": 71, "sex": "female", "weight": 54, "menopause": "post",
           "medicines": [{"name": "华法林", "dose": "3 mg/day", "inr_target": [2.0, 3.0]}],
           "supplements": [{"name": "MK-7", "dose": "180 µg/day"}]}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from kbone.web.app import create_app

    home = tmp_path_factory.mktemp("webhome")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KBONE_HOME", str(home))
        mp.delenv("KBONE_DATABASE_URL", raising=False)
        url = f"sqlite:///{home / 'app.sqlite'}"
        add_users(url, "alice", "bob")
        yield create_app(url)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def page_login(c: TestClient, user: str) -> None:
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf": tok}, follow_redirects=False)
    assert r.status_code == 303


def api_login(c: TestClient, user: str) -> str:
    r = c.post("/api/v1/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200
    return r.json()["csrf"]


# ---- log-in, sessions, CSRF -------------------------------------------------------------------------

def test_login_wrong_password_and_missing_csrf(client):
    tok = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "alice", "password": "nope-nope", "csrf": tok})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 403
    r = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403
    assert client.post("/api/v1/login", json={"username": "alice", "password": "x"}).status_code == 401


def test_pages_need_login_and_next_is_same_site(client):
    r = client.get("/assessments", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/assessments"
    tok = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": tok,
                                    "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_logout_invalidates_the_old_cookie(client):
    page_login(client, "alice")
    stolen = client.cookies.get("kbone_session")
    assert client.get("/assessments").status_code == 200
    tok = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf": tok}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set("kbone_session", stolen)
    r = client.get("/assessments", follow_redirects=False)
    assert r.status_code == 303  # the copied cookie no longer logs anyone in


def test_api_writes_need_csrf_header(client):
    api_login(client, "bob")
    r = client.post("/api/v1/assessments", json={"title": "t", "profile": {"age": 50, "sex": "male", "weight": 70}})
    assert r.status_code == 403
    client.cookies.clear()
    r = client.post("/api/v1/assessments", json={"title": "t", "profile": {"age": 50, "sex": "male", "weight": 70}})
    assert r.status_code == 401


# ---- saved assessments belong to their owner ----------------------------------------------------------

@pytest.mark.slow
def test_saved_assessments_are_private(app):
    with TestClient(app) as alice, TestClient(app) as bob:
        tok = api_login(alice, "alice")
        r = alice.post("/api/v1/assessments", headers={"X-CSRF-Token": tok},
                       json={"title": "Mrs W <script>alert(1)</script>", "lang": "zh", "profile": PROFILE})
        assert r.status_code == 201, r.text
        aid = r.json()["id"]
        got = alice.get(f"/api/v1/assessments/{aid}").json()
        assert got["profile"]["age"] == 71
        assert [a["id"] for a in got["report"]["alerts"]][:1] == ["vka_vitamin_k_intake"]
        assert got["report"]["alerts"][0]["severity"] == "major"
        # the saved report is the one computed on the server, from the saved profile
        assert got["report"]["profile"]["medicines"][0]["drug"] == "warfarin"

        btok = api_login(bob, "bob")
        assert bob.get(f"/api/v1/assessments/{aid}").status_code == 404
        assert bob.delete(f"/api/v1/assessments/{aid}", headers={"X-CSRF-Token": btok}).status_code == 404
        assert all(x["id"] != aid for x in bob.get("/api/v1/assessments").json())
        assert bob.get(f"/api/v1/assessments/{aid + 10_000}").status_code == 404  # same answer as missing
        page_login(bob, "bob")
        r = bob.get(f"/assessments/{aid}")
        assert r.status_code == 404 and "Mrs W" not in r.text
        assert bob.get(f"/assessments/{aid}/report.html").status_code == 404

        page_login(alice, "alice")
        listing = alice.get("/assessments").text
        assert "Mrs W &lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert(1)" not in listing
        view = alice.get(f"/assessments/{aid}?lang=zh")
        assert view.status_code == 200 and 'id="report-frame"' in view.text
        assert "<script>alert(1)" not in view.text
        doc = alice.get(f"/assessments/{aid}/report.html?lang=zh").text
        assert "华法林" in doc and 'lang="zh-CN"' in doc

        assert alice.delete(f"/api/v1/assessments/{aid}", headers={"X-CSRF-Token": tok}).status_code == 403
        tok = csrf_of(alice.get("/").text)  # the page log-in started a new session with a new token
        assert alice.delete(f"/api/v1/assessments/{aid}", headers={"X-CSRF-Token": tok}).status_code == 204
        assert alice.get(f"/api/v1/assessments/{aid}").status_code == 404


# ---- language, evidence, meta-analysis ----------------------------------------------------------------

def test_language_switch_is_remembered(client):
    r = client.get("/evidence?lang=zh")
    assert '<html lang="zh-CN">' in r.text and "证据库" in r.text
    r = client.get("/")
    assert '<html lang="zh-CN">' in r.text
    r = client.get("/?lang=en")
    assert '<html lang="en">' in r.text and "Evidence" in r.text


def test_evidence_filters_match_the_records(client):
    from kbone.evidence.loader import load_records

    recs = load_records()
    want = {r.id for r in recs if "MK-4" in r.forms and r.integrity.status == "ok"}
    html = client.get("/evidence?form=menatetrenone&integrity=ok").text
    shown = set(re.findall(r'<a href="/evidence/([a-z0-9_]+)">', html))
    assert shown == want and want
    retracted = {r.id for r in recs if r.integrity.status == "retracted"}
    html = client.get("/evidence?integrity=retracted").text
    assert set(re.findall(r'<a href="/evidence/([a-z0-9_]+)">', html)) == retracted
    one = next(r for r in recs if r.outcomes)
    page = client.get(f"/evidence/{one.id}").text
    assert one.citation.short() in page and one.outcomes[0].source.cite().split(" (")[0] in page
    assert client.get("/evidence/no_such_record").status_code == 404
    assert client.get("/api/v1/evidence?form=nonsense-form").status_code == 422


def _poolable(cli):
    """An outcome the evidence base can pool (k ≥ 2), found through the CLI."""
    from kbone.web.routes.meta import poolable_outcomes

    for oid, _, _ in poolable_outcomes():
        code, out, _ = cli("meta", "--outcome", oid, "--json")
        if code == 0:
            return oid, json.loads(out)
    pytest.skip("no outcome with two poolable trials in the evidence base")


def test_meta_page_matches_the_cli_and_toggles_integrity(client, cli):
    oid, rep = _poolable(cli)
    r = client.get(f"/meta?outcome={oid}")
    assert r.status_code == 200
    assert f"{rep['back']['estimate']:.3f} [{rep['back']['ci_lower']:.3f}, {rep['back']['ci_upper']:.3f}]" in r.text
    assert 'src="data:image/svg+xml;base64,' in r.text and 'id="integrity-table"' in r.text
    api = client.get(f"/api/v1/meta?outcome={oid}").json()
    assert api["estimate"] == pytest.approx(rep["estimate"]) and api["k"] == rep["k"]
    svg = client.get(f"/api/v1/meta/forest.svg?outcome={oid}")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content[:500]
    # the toggle: the same analysis without retracted or flagged trials, as the CLI computes it
    code, out, _ = cli("meta", "--outcome", oid, "--exclude-flagged", "--json")
    page = client.get(f"/meta?outcome={oid}&scenario=no_retracted_or_flagged")
    if code == 0:
        flt = json.loads(out)
        assert page.status_code == 200
        assert f"{flt['back']['estimate']:.3f} [{flt['back']['ci_lower']:.3f}" in page.text
        assert all(s["integrity"] == "ok" for s in flt["studies"])
    else:
        assert page.status_code == 422 and 'role="alert"' in page.text
    assert client.get("/meta?outcome=no-such-outcome").status_code == 422


# ---- foods and diary ----------------------------------------------------------------------------------

def test_food_search_page_and_api(client, cli):
    code, out, _ = cli("food", "search", "菠菜", "--json")
    first = json.loads(out)["candidates"][0]
    html = client.get("/food?q=菠菜").text
    assert first["name_zh"] in html and f"{first['per_100g']['total_known']:.1f}" in html
    api = client.get("/api/v1/foods", params={"q": "菠菜", "limit": 3}).json()
    assert api["candidates"][0]["food_id"] == first["food_id"]


def test_diary_entry_computes_intake(client):
    tok = csrf_of(client.get("/diary").text)
    form = {"csrf": tok, "sex": "female", "age": "60", "date_0": "2024-05-01", "meal_0": "lunch",
            "food_0": "spinach, raw", "amount_0": "100 g"}
    r = client.post("/diary", data=form)
    assert r.status_code == 200, r.text[:2000]
    # USDA SR28 NDB 11457 Spinach, raw: phylloquinone 482.9 µg/100 g
    assert re.search(r'id="intake-total"><strong>482\.9 µg', r.text)
    r = client.post("/diary", data={"csrf": tok, "date_0": "2024-05-01", "food_0": "zzqqxx", "amount_0": "1 g"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    # the API: two days, 100 g and 50 g of raw spinach → mean (482.9 + 241.45) / 2 µg/day
    diary = "date,meal,food,amount\n2024-05-01,lunch,\"spinach, raw\",100 g\n2024-05-02,dinner,\"spinach, raw\",50 g\n"
    res = client.post("/api/v1/diet", json={"diary": diary, "profile": {"sex": "female", "age": 60}})
    assert res.status_code == 200
    body = res.json()
    assert body["n_days"] == 2 and body["mean"]["k1"] == pytest.approx((482.9 + 241.45) / 2, abs=0.05)
    assert any(ref["reference"]["authority"] for ref in body["reference"])
    bad = client.post("/api/v1/diet", json={"diary": "date,meal,food,amount\n2024-05-01,lunch,zzqqxx,1 g\n"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["line"] == 2


# ---- personal data stay out of the logs ---------------------------------------------------------------

@pytest.mark.slow
def test_personal_data_not_logged(client, caplog):
    marker = "Zhang-Sanfeng-1957"
    caplog.set_level(logging.DEBUG)
    tok = csrf_of(client.get("/assess").text)
    client.post("/assess", data={"csrf": tok, "label": marker, "age": "66", "sex": "male", "weight": "71",
                                 "conditions_other": marker})
    client.post("/api/v1/assess", json={"id": marker, "age": 66, "sex": "male", "weight": "heavy"})
    client.get(f"/evidence?q={marker}")
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test client
    assert all(marker not in r.getMessage() for r in server_side)


def test_web_data_never_go_into_the_evidence_store_file(monkeypatch, tmp_path):
    """The evidence store replaces its SQLite file whole on a rebuild: user data must live elsewhere."""
    from kbone.web.db import app_database_url

    monkeypatch.setenv("KBONE_HOME", str(tmp_path))
    monkeypatch.setenv("KBONE_DATABASE_URL", f"sqlite:///{tmp_path / 'evidence.sqlite'}")
    assert app_database_url() == f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("KBONE_DATABASE_URL", "postgresql+psycopg://kbone@127.0.0.1:5432/kbone")
    assert app_database_url() == "postgresql+psycopg://kbone@127.0.0.1:5432/kbone"
    monkeypatch.setenv("KBONE_WEB_DATABASE_URL", f"sqlite:///{tmp_path / 'web.sqlite'}")
    assert app_database_url().endswith("web.sqlite")


# ---- article checker ------------------------------------------------------------------------------------

SEED_004 = Path(__file__).resolve().parents[1] / "fixtures" / "004_b3322f997f30f3e4.txt"


def test_checker_page_and_api_agree_with_the_cli(client, cli):
    code, out, _ = cli("check", str(SEED_004), "--json", "--lang", "zh")
    assert code == 0
    want = json.loads(out)
    text = SEED_004.read_text(encoding="utf-8")
    api = client.post("/api/v1/check", json={"text": text, "lang": "zh"}).json()
    assert api["summary"] == want["summary"]
    assert [(c["start"], c["end"], c["verdict"]) for c in api["claims"]] == \
           [(c["start"], c["end"], c["verdict"]) for c in want["claims"]]
    # an upload in GB18030 is decoded to the same text and the same verdicts
    up = client.post("/api/v1/check/file?lang=zh", files={"file": ("文章.txt", text.encode("gb18030"))}).json()
    assert up["encoding"].lower() == "gb18030" and up["summary"] == want["summary"]
    tok = csrf_of(client.get("/check").text)
    page = client.post("/check?lang=zh", data={"csrf": tok, "text": text})
    assert page.status_code == 200
    import html as h

    doc = h.unescape(re.search(r'srcdoc="([^"]*)"', page.text).group(1))
    c68 = next(c for c in want["claims"] if "68%" in c["text"])
    assert f'<mark class="v-{c68["verdict"]}" id="t-{c68["id"]}"' in doc
    assert c68["verdict"] == "unsupported"


# ---- trial simulator ------------------------------------------------------------------------------------

DESIGN = {"name": "MK-7 two-year trial", "population": {"terms": ["postmenopausal"]}, "n_per_arm": 150,
          "duration_weeks": 104, "intervention": {"form": "MK-7", "amount": 180, "unit": "ug", "per": "day"},
          "outcome": "bmd", "site": "lumbar_spine"}


@pytest.mark.slow
def test_trial_page_and_api_agree_with_the_library(client):
    from kbone.model import trial
    from kbone.web.routes.trial import FitOptions, fitted

    api = client.post("/api/v1/trial/power", json={"design": DESIGN, "target": 0.8}).json()
    records, fit = fitted(FitOptions())  # the model as `kbone trial power` fits it (kept by the web cache)
    want = trial.result(fit, trial.predict(fit, trial.load_design(DESIGN), records), target=0.8, curve=True)
    assert api["effect"] == pytest.approx(want.effect) and api["n_for_target"] == want.n_for_target
    assert api["pi_lower"] < api["effect"] < api["pi_upper"]
    assert [p["n_per_arm"] for p in api["power_curve"]] == [p.n_per_arm for p in want.power_curve]
    powers = [p["power"] for p in api["power_curve"]]
    assert powers == sorted(powers)  # power grows with n
    page = client.get("/trial", params={"run": "1", "name": DESIGN["name"], "terms": "postmenopausal",
                                        "n_per_arm": "150", "duration_weeks": "104", "form": "MK-7",
                                        "amount": "180", "unit": "ug", "per": "day", "outcome": "bmd",
                                        "site": "lumbar_spine", "target": "0.8"})
    assert page.status_code == 200
    assert f'id="effect"><strong>{want.effect:.2f}</strong>' in page.text
    assert f'id="power">{100 * want.power:.1f}%' in page.text
    assert 'id="power-plot"' in page.text and 'id="power-table"' in page.text
    bad = client.get("/trial", params={"run": "1", "outcome": "fracture_hip", "terms": "postmenopausal"})
    assert bad.status_code == 422 and "control_risk" in bad.text


# ---- admin creates users from the CLI ---------------------------------------------------------------

def test_user_add_cli(cli, monkeypatch, tmp_path):
    import io

    from kbone.web.auth import authenticate
    from kbone.web.db import make_engine, session_factory

    url = f"sqlite:///{tmp_path / 'users.sqlite'}"
    monkeypatch.setenv("KBONE_WEB_DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    code, out, _ = cli("user", "add", "dr_wang", "--password-stdin", "--json")
    assert code == 0 and json.loads(out) == {"username": "dr_wang", "admin": False}
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    code, out, _ = cli("user", "add", "dr_wang", "--password-stdin", "--json")
    assert code == 2 and "exists" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, _ = cli("user", "add", "dr_li", "--password-stdin", "--json")
    assert code == 2 and "password" in out
    with session_factory(make_engine(url))() as db:
        assert authenticate(db, "dr_wang", "s3cret-pass") is not None
        assert authenticate(db, "dr_wang", "wrong-pass") is None


# ---- PK/PD ------------------------------------------------------------------------------------------------

def test_pk_page_and_api_agree_with_the_cli(client, cli):
    code, out, _ = cli("pk", "--form", "K1", "--dose", "1mg", "--every", "24h", "--days", "20",
                       "--warfarin", "5mg", "--json")
    assert code == 0
    want = json.loads(out)
    api = client.post("/api/v1/pk", json={"form": "K1", "dose": "1mg", "every": "24h", "days": 20,
                                          "warfarin": "5mg"}).json()
    assert api["time_h"] == want["time_h"]
    assert api["summary"]["inr"]["change_end"]["median"] == pytest.approx(want["summary"]["inr"]["change_end"]["median"])
    page = client.get("/pk", params={"run": "1", "form": "K1", "dose": "1mg", "every": "24h", "days": "20",
                                     "warfarin": "5mg"})
    assert page.status_code == 200
    # warfarin: the anticoagulant warning comes before the results
    assert page.text.index('id="anticoagulant-warning"') < page.text.index('id="pk-table"')
    inr = want["summary"]["inr"]["change_end"]["median"]
    assert f"<td>{inr:.2f}</td></tr>" in page.text
    assert client.get("/pk", params={"run": "1", "form": "K9"}).status_code == 422
    assert client.post("/api/v1/pk", json={"form": "MK-7", "n": 100000}).status_code == 422


# ---- accessibility: every form field has a label ---------------------------------------------------------

class _Fields(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.label_for: set[str] = set()
        self.in_label = 0
        self.fields: list[tuple[str, str | None, bool, bool]] = []   # (tag, id, wrapped, aria)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append((tag, a.get("id"), self.in_label > 0, bool(a.get("aria-label"))))

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


@pytest.mark.parametrize("path", ["/", "/login", "/assess", "/evidence", "/meta", "/trial", "/pk", "/check", "/food",
                                  "/diary"])
def test_every_field_has_a_label_in_both_languages(client, path):
    for lang in ("zh", "en"):
        r = client.get(f"{path}?lang={lang}")
        assert r.status_code == 200
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in r.text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in r.text
        p = _Fields()
        p.feed(r.text)
        unlabelled = [f for f in p.fields if not (f[2] or f[3] or (f[1] and f[1] in p.label_for))]
        assert not unlabelled, unlabelled
