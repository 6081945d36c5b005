"""The web app in a real browser: Playwright driving Debian's chromium against a live server.

Log in, fill the assessment form in Chinese and in English, see the report with the anticoagulant warning,
save it, log out; log in as another user and fail to open the first user's report; paste seed 004 into the
article checker and see its 68 % claim marked unsupported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import chromium_path, require
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SEED_004 = Path(__file__).resolve().parents[1] / "fixtures" / "004_b3322f997f30f3e4.txt"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PERSONAL = "Wang-Ayi-1956"   # typed into the form; must never reach the server's log


@pytest.fixture(scope="module")
def browser():
    require(chromium_path() is not None, "Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.web.conftest import Server, add_users, sqlite_url

    home = tmp_path_factory.mktemp("browserhome")
    add_users(sqlite_url(home), "doctor_li", "doctor_smith")
    s = Server(home=home, database_url=sqlite_url(home)).start()
    yield s
    s.stop()
    assert PERSONAL not in s.log()


def login(page, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.get_by_label(re.compile("User name|用户名")).fill(user)
    page.get_by_label(re.compile("^(Password|密码)$")).fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url(base + "/")


def logout(page) -> None:
    page.locator("#logout").click()
    page.wait_for_url(re.compile(r"/login$"))


def fill_assessment(page, lang: str) -> None:
    """The form through its visible labels, in the page's language."""
    zh = lang == "zh"

    def field(en: str, zh_: str):
        return page.get_by_label(zh_ if zh else en, exact=True)

    field("Label for the report (no names needed)", "报告标签（无需姓名）").fill(PERSONAL)
    field("Age (years)", "年龄（岁）").fill("71")
    field("female", "女").check()
    field("Weight (kg)", "体重（千克）").fill("54")
    field("Menopause", "绝经状态").select_option("post")
    field("Medicine 1", "药物 1").fill("warfarin" if not zh else "华法林")
    field("Dose of medicine 1", "药物剂量 1").fill("3 mg/day" if not zh else "3 mg/天")
    field("INR target of medicine 1", "药物 INR 目标 1").fill("2.0-3.0")
    field("Supplement 1", "补充剂 1").fill("MK-7" if not zh else "维生素K2")
    field("Dose of supplement 1", "补充剂剂量 1").fill("180 µg/day" if not zh else "180 微克/天")
    field("knee osteoarthritis", "膝骨关节炎").check()
    page.locator("#assess-submit").click()


def report_frame(page):
    page.wait_for_selector("#report-frame")
    return page.frame_locator("#report-frame")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_assess_save_and_privacy(browser, server, lang):
    ctx = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    base = server.url
    page.goto(f"{base}/?lang={lang}")
    login(page, base, "doctor_li")
    page.goto(base + "/assess")
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    fill_assessment(page, lang)
    frame = report_frame(page)
    major = frame.locator(".alert.major").first
    major.wait_for(timeout=120_000)
    text = major.inner_text()
    assert re.search("华法林|抗凝|warfarin|anticoagul|vitamin K antagonist", text, re.I), text
    # safety first: the most severe alert leads, and the summary opens with it
    assert "major" in frame.locator(".alert").first.get_attribute("class")
    assert re.search("重要|Important", frame.locator(".summary li").first.inner_text())

    page.get_by_label("保存为" if lang == "zh" else "Save as").fill(f"Report {lang} <b>bold</b>")
    page.locator("#save-submit").click()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    saved_url = page.url
    assert page.locator("#saved-title").inner_text() == f"Report {lang} <b>bold</b>"  # escaped, not markup
    assert report_frame(page).locator(".alert.major").first.is_visible()
    page.goto(base + "/assessments")
    assert page.locator("#saved-table").get_by_text(f"Report {lang}").count() == 1
    logout(page)

    login(page, base, "doctor_smith")
    resp = page.goto(saved_url)
    assert resp.status in (403, 404)
    assert page.locator("#report-frame").count() == 0
    assert page.get_by_text(f"Report {lang}").count() == 0
    resp = page.goto(saved_url + "/report.html")
    assert resp.status in (403, 404)
    logout(page)
    ctx.close()


def test_checker_marks_the_68_percent_claim_unsupported(browser, server):
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(server.url + f"/evidence?q={PERSONAL}")  # a query string never reaches the access log
    page.goto(server.url + "/check?lang=zh")
    page.get_by_label("粘贴文章（中文或英文）").fill(SEED_004.read_text(encoding="utf-8"))
    page.locator("#check-submit").click()
    frame = report_frame(page)
    claim = frame.locator("mark", has_text="68%").first
    claim.wait_for(timeout=60_000)
    assert "v-unsupported" in claim.get_attribute("class")
    assert "超过68%的骨关节炎患者" in claim.inner_text()
    # and the summary above the frame counts it
    assert page.locator("#check-summary mark.v-unsupported").count() == 1
    ctx.close()
