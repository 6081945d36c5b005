"""Durability: 1 000 saves from a few concurrent clients, the server SIGKILLed in the middle of writing,
restarted — every save the server acknowledged is there, nothing else appears but the requests that were
in flight at the kill, and the database passes its integrity check. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.web.conftest import api_login

TOTAL = 1000
KILL_AFTER = 450        # acknowledged saves before the kill
CLIENTS = 4


def _profile(i: int) -> dict:
    """A light profile; three variants (the server computes each once, then serves repeats from its cache)
    so that a row saved under the wrong title or with another save's data shows up."""
    return {"age": 70 + i % 3, "sex": "female", "weight": 55, "medicines": [{"name": "warfarin"}]}


class Saver:
    """``CLIENTS`` threads saving assessments until told to stop; records what was acknowledged."""

    def __init__(self, base_url: str, start_at: int, stop_at: int):
        self.base_url = base_url
        self.next = start_at
        self.stop_at = stop_at
        self.lock = threading.Lock()
        self.acked: dict[str, int] = {}      # title → id, for 201 answers only
        self.sent: set[str] = set()          # every title sent (acked or not)
        self.errors: list[str] = []
        self.halt = threading.Event()

    def _take(self) -> int | None:
        with self.lock:
            if self.next >= self.stop_at or self.halt.is_set():
                return None
            i = self.next
            self.next += 1
            return i

    def worker(self, user: str) -> None:
        try:
            self._work(user)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(f"{user}: {type(e).__name__}: {e}")

    def _work(self, user: str) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as c:
            csrf = api_login(c, user)
            while (i := self._take()) is not None:
                title = f"save-{i:05d}"
                with self.lock:
                    self.sent.add(title)
                try:
                    r = c.post("/api/v1/assessments", headers={"X-CSRF-Token": csrf},
                               json={"title": title, "lang": "en", "profile": _profile(i)})
                except httpx.HTTPError:
                    if self.halt.is_set():
                        return
                    raise
                if r.status_code != 201:
                    self.errors.append(f"{title}: {r.status_code} {r.text[:200]}")
                    return
                with self.lock:
                    self.acked[title] = r.json()["id"]

    def run(self, users: list[str], kill_when: int | None = None, on_kill=None) -> None:
        threads = [threading.Thread(target=self.worker, args=(u,), daemon=True) for u in users]
        for t in threads:
            t.start()
        if kill_when is not None:
            while len(self.acked) < kill_when and any(t.is_alive() for t in threads):
                time.sleep(0.005)
            self.halt.set()
            on_kill()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)


def _stored(database_url: str) -> dict[str, tuple[int, dict]]:
    """title → (id, profile) straight from the database, not through the server."""
    eng = create_engine(database_url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT id, title, profile_json FROM assessments")).all()
    finally:
        eng.dispose()
    return {t: (i, json.loads(p)) for i, t, p in rows}


def _durability(make_server, database_url: str | None) -> str:
    users = [f"writer{k}" for k in range(CLIENTS)]
    srv = make_server(database_url, users=tuple(users))
    url = srv.database_url
    first = Saver(srv.url, 0, TOTAL)
    first.run(users, kill_when=KILL_AFTER, on_kill=srv.kill)
    assert not first.errors, (first.errors[:3], srv.log()[-3000:])
    assert len(first.acked) >= KILL_AFTER
    assert first.next < TOTAL, "the kill came too late to interrupt the writing"

    # after the crash: every acknowledged save is there, with its own data
    stored = _stored(url)
    missing = sorted(set(first.acked) - set(stored))
    assert not missing, f"{len(missing)} acknowledged saves lost, e.g. {missing[:5]}"
    for title, aid in first.acked.items():
        sid, prof = stored[title]
        assert sid == aid
        sent = _profile(int(title.split("-")[1]))
        assert (prof["age"], prof["sex"], prof["weight"]) == (sent["age"], sent["sex"], sent["weight"])
        assert [m["name"] for m in prof["medicines"]] == ["warfarin"]
    # anything unacknowledged that made it in was in flight at the kill (sent, never answered)
    extra = set(stored) - set(first.acked)
    assert extra <= first.sent - set(first.acked)
    assert len(extra) <= CLIENTS

    # restart on the same database and finish the 1 000
    srv2 = make_server(url, users=(), home=srv.home)
    second = Saver(srv2.url, first.next, TOTAL)
    second.run(users)
    assert not second.errors, second.errors[:3]
    acked = {**first.acked, **second.acked}
    stored = _stored(url)
    assert set(acked) <= set(stored)
    assert len(set(acked) | extra) >= TOTAL - CLIENTS
    assert len(stored) == len(set(acked) | extra)

    # the server shows each writer exactly their own saves
    with httpx.Client(base_url=srv2.url, timeout=30) as c:
        api_login(c, users[0])
        n = c.get("/api/v1/assessments-count").json()["count"]
        assert 0 < n < len(stored)
        some = next(iter(first.acked.items()))
        r = c.get(f"/api/v1/assessments/{some[1]}")
        assert r.status_code in (200, 404)  # 404 when another writer saved it
        if r.status_code == 200:
            assert r.json()["title"] == some[0]
    srv2.stop()
    return url


def test_durability_sqlite(make_server):
    url = _durability(make_server, None)
    path = url.split("sqlite:///", 1)[1]
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


@pytest.mark.postgres
def test_durability_postgres(make_server, postgres):
    _durability(make_server, postgres.url)
    r = postgres.amcheck()
    assert r.returncode == 0, r.stdout + r.stderr
