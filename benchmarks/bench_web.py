"""Load benchmark of the web app on loopback: p50 / p95 latency and throughput at 50 concurrent clients.

Starts ``uvicorn`` (the app factory) on a free 127.0.0.1 port with a throw-away KBONE_HOME, then sends a fixed
number of requests per endpoint from 50 concurrent httpx clients (each its own session):

- baseline:        GET /healthz (a trivial endpoint; the ratios below are against it)
- evidence list:   GET /evidence?form=MK-4 (cached fragment)
- record page:     GET /evidence/<id> (cached fragment)
- report page:     GET /assessments/<id> (a saved report: the assessment renderer's HTML, kept after the first view)
- assess API:      POST /api/v1/assess (a full assessment, a different person each time: age, sex, weight,
                   medicines and supplements vary, so no simulation is shared), clients back to back
                   (saturation: the server's throughput ceiling; latency is queueing behind 50 others)
- assess API, think: the same with each client pausing between requests (exponential, mean ``--think`` s,
                   seeded), as a locust user with a wait time: 50 clinicians each submitting a patient

GET endpoints are also loaded with ``wrk`` (Debian package wrk; 2 threads, 50 connections, ``--seconds``
each) when it is installed: a C load generator leaves the two cores to the server, where the Python
clients above compete with it (their own overhead shows in the baseline row).

Targets (issue 8): p95 ≤ 200 ms for cached evidence pages, ≤ 500 ms for a full assessment.
Usage: python benchmarks/bench_web.py [--clients 50] [--requests 400] [--assess-requests 50] [--workers 1]
                                      [--think 10] [--seconds 10]
Also printed: one assessment's service time in this process (kbone.assess.assessment.assess, no HTTP), the
floor under the assess API's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.conftest import PASSWORD, Server, add_users, sqlite_url  # noqa: E402

TARGETS = {"evidence list": 0.200, "record page": 0.200, "report page": 0.500, "assess API": 0.500,
           "assess, think": 0.500}


def profile(i: int) -> dict:
    """Assessment inputs that vary (age, weight, medicines) so that nothing is served from a cache."""
    p = {"age": 45 + i % 50, "sex": "female" if i % 2 else "male", "weight": 48 + i % 45, "height": 150 + i % 35}
    if i % 2:
        p["menopause"] = "post"
    if i % 3 == 0:
        p["medicines"] = [{"name": "warfarin", "dose": "3 mg/day", "inr_target": [2.0, 3.0]}]
    if i % 4 == 0:
        p["supplements"] = [{"name": "MK-7", "dose": f"{90 + 10 * (i % 10)} µg/day"}]
    return p


def run_wrk(url: str, clients: int, seconds: float, cookie: str | None = None) -> dict | None:
    """GET ``url`` with wrk (C, 2 threads, ``clients`` connections) for ``seconds``; None without wrk."""
    import json
    import shutil
    import subprocess

    exe = shutil.which("wrk")
    if exe is None:
        return None
    cmd = [exe, "-t2", f"-c{clients}", f"-d{seconds:g}s", "-s", str(ROOT / "benchmarks" / "wrk_report.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("KBONE_WRK "))
    d = json.loads(line.split(" ", 1)[1])
    return {"n": d["n"], "errors": d["errors"], "p50": d["p50_us"] / 1e6, "p95": d["p95_us"] / 1e6,
            "rps": d["n"] / d["seconds"]}


async def _login(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/login", json={"username": "bench", "password": PASSWORD})
    if r.status_code != 200:
        raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
    return r.json()["csrf"]


async def run_load(base: str, clients: int, n: int, make_request, login: bool = False, think: float = 0.0) -> dict:
    """``n`` requests from ``clients`` concurrent clients (logged in first, outside the timing); latency of
    each (s) and the throughput over the wall time. ``think`` > 0: each client pauses an exponential time
    of that mean (s) before each request (seeded per client)."""
    import random

    lat: list[float] = []
    errors = 0
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=base, timeout=900, limits=limits) for _ in range(clients)]

    async def worker(c: httpx.AsyncClient, k: int):
        nonlocal errors
        rng = random.Random(k)
        for i in counter:
            if think > 0:
                await asyncio.sleep(rng.expovariate(1.0 / think))
            t0 = time.perf_counter()
            try:
                r = await make_request(c, i)
                failed = r.status_code >= 400
            except httpx.HTTPError:
                failed = True
            lat.append(time.perf_counter() - t0)
            errors += failed

    try:
        if login:
            await asyncio.gather(*(_login(c) for c in pool))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, k) for k, c in enumerate(pool)))
        wall = time.perf_counter() - t0
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    lat.sort()
    return {"n": len(lat), "errors": errors, "p50": statistics.median(lat),
            "p95": lat[min(len(lat) - 1, int(0.95 * len(lat)))], "rps": len(lat) / wall}


def _table(res: dict, base: dict) -> None:
    print(f"{'endpoint':<15} {'n':>6} {'err':>4} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>8} {'p95/base':>9} "
          f"{'target p95':>11}  ok")
    for name, r in res.items():
        tgt = TARGETS.get(name)
        ok = "" if tgt is None else ("yes" if r["p95"] <= tgt else "NO")
        print(f"{name:<15} {r['n']:>6} {r['errors']:>4} {1000 * r['p50']:>9.1f} {1000 * r['p95']:>9.1f} "
              f"{r['rps']:>8.1f} {r['p95'] / base['p95']:>9.1f} {'' if tgt is None else f'{1000 * tgt:.0f} ms':>11}  {ok}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=400, help="requests per cheap endpoint")
    ap.add_argument("--assess-requests", type=int, default=50, help="requests for the full-assessment endpoints")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--think", type=float, default=10.0, help="mean think time (s) of the second assess run")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk run (s)")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="kbone-bench-"))
    os.environ["KBONE_HOME"] = str(home)
    url = sqlite_url(home)
    add_users(url, "bench")
    srv = Server(home=home, database_url=url)
    if args.workers > 1:
        srv.extra_args = ["--workers", str(args.workers)]
    srv.start()
    try:
        with httpx.Client(base_url=srv.url, timeout=600) as c:  # warm up: stores, caches, first assessment
            c.post("/api/v1/login", json={"username": "bench", "password": PASSWORD}).raise_for_status()
            csrf = c.post("/api/v1/login", json={"username": "bench", "password": PASSWORD}).json()["csrf"]
            rec = c.get("/api/v1/evidence", params={"form": "MK-4"}).json()[0]["id"]
            for path in ("/evidence?form=MK-4", f"/evidence/{rec}"):
                c.get(path).raise_for_status()
            r = c.post("/api/v1/assessments", headers={"X-CSRF-Token": csrf},
                       json={"title": "bench", "profile": profile(3)})
            r.raise_for_status()
            saved = r.json()["id"]
            c.get(f"/assessments/{saved}").raise_for_status()

        async def get(path):
            async def f(c, i):
                return await c.get(path)
            return f

        async def assess(c, i):
            return await c.post("/api/v1/assess", json=profile(i))

        async def run_all():
            # warm every worker process (uvicorn spreads connections over them): stores, page caches, the
            # model and its compiled kernel are loaded once per process, outside the timing
            async def warm(c, i):
                await c.get("/evidence?form=MK-4")
                await c.get(f"/evidence/{rec}")
                return await c.post("/api/v1/assess", json=profile(10_000 + i))
            await run_load(srv.url, 8 * args.workers, 8 * args.workers, warm)
            await run_load(srv.url, 8 * args.workers, 8 * args.workers, await get(f"/assessments/{saved}"), login=True)
            out = {}
            out["baseline"] = await run_load(srv.url, args.clients, args.requests, await get("/healthz"))
            out["evidence list"] = await run_load(srv.url, args.clients, args.requests, await get("/evidence?form=MK-4"))
            out["record page"] = await run_load(srv.url, args.clients, args.requests, await get(f"/evidence/{rec}"))
            out["report page"] = await run_load(srv.url, args.clients, args.requests,
                                                await get(f"/assessments/{saved}"), login=True)
            out["assess API"] = await run_load(srv.url, args.clients, args.assess_requests, assess)
            out["assess, think"] = await run_load(srv.url, args.clients, args.assess_requests,
                                                  lambda c, i: assess(c, 5_000 + i), think=args.think)
            return out

        res = asyncio.run(run_all())
        with httpx.Client(base_url=srv.url, timeout=60) as c2:
            c2.post("/api/v1/login", json={"username": "bench", "password": PASSWORD}).raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in c2.cookies.items())
        wrk: dict[str, dict] = {}
        for name, path, ck in (("baseline", "/healthz", None), ("evidence list", "/evidence?form=MK-4", None),
                               ("record page", f"/evidence/{rec}", None),
                               ("report page", f"/assessments/{saved}", cookie)):
            r = run_wrk(srv.url + path, args.clients, args.seconds, ck)
            if r is not None:
                wrk[name] = r
    finally:
        srv.stop()
    base = res["baseline"]
    from statistics import median

    from kbone.assess.assessment import assess
    from kbone.assess.profile import parse_profile

    assess(parse_profile(profile(99)))       # load the model and its compiled kernel outside the timing
    service = []
    for i in range(5):
        p = parse_profile(profile(100 + i))
        t0 = time.perf_counter()
        assess(p)
        service.append(time.perf_counter() - t0)
    print(f"kbone web load benchmark: {args.clients} concurrent clients, loopback, {args.workers} worker(s), "
          f"{os.cpu_count()} CPUs")
    _table(res, base)
    if wrk:
        print(f"GET endpoints under wrk ({args.clients} connections, {args.seconds:g} s each, C load generator):")
        _table(wrk, wrk["baseline"])
    else:
        print("wrk not installed (Debian package wrk): GET endpoints measured with the Python clients only")
    cores = min(os.cpu_count() or 1, args.workers)
    print(f"one assessment, in process (no HTTP): median {1000 * median(service):.0f} ms over {len(service)} new "
          f"people; capacity about {cores / median(service):.1f} assessments/s on {cores} core(s), so back-to-back "
          f"clients queue: p95 ≈ {args.clients} × service / cores ≈ {args.clients * median(service) / cores:.1f} s")
    print(f"'assess, think': {args.clients} clients pausing {args.think:g} s on average offer about "
          f"{args.clients / (args.think + median(service)):.1f} requests/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
