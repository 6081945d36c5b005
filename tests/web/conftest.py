"""Fixtures for the web tests: a live server (uvicorn in a subprocess on a free loopback port, private
KBONE_HOME), users, and a throw-away PostgreSQL server started from the Debian binaries."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse 42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_users(database_url: str, *names: str) -> None:
    """Create users directly in the web database (migrating it first)."""
    from kbone.web.auth import add_user
    from kbone.web.db import make_engine, migrate, session_factory

    migrate(database_url)
    eng = make_engine(database_url)
    try:
        with session_factory(eng)() as db:
            for n in names:
                add_user(db, n, PASSWORD)
    finally:
        eng.dispose()


@dataclass
class Server:
    """A ``kbone`` web server in a subprocess."""

    home: Path
    database_url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.pop("KBONE_DATABASE_URL", None)
        env.update(KBONE_HOME=str(self.home), KBONE_LANG="en", KBONE_SECRET_KEY="test-secret-" + self.home.name,
                   PYTHONUNBUFFERED="1")
        if self.database_url.startswith("sqlite"):
            env["KBONE_WEB_DATABASE_URL"] = self.database_url
        else:  # PostgreSQL: the evidence store and the web tables share the server, as in production
            env["KBONE_DATABASE_URL"] = self.database_url
        return env

    def start(self, timeout: float = 60.0) -> Server:
        self.log_path = self.home / f"server-{self.port}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "kbone.web.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "info", *self.extra_args],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=str(self.home), preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing — as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


@contextmanager
def app_with_users(tmp_path_factory, prefix: str, *users: str):
    """A web app (``create_app``) over a fresh SQLite database in a fresh KBONE_HOME, with ``users`` added."""
    from kbone.web.app import create_app

    home = tmp_path_factory.mktemp(prefix)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KBONE_HOME", str(home))
        mp.delenv("KBONE_DATABASE_URL", raising=False)
        url = sqlite_url(home)
        add_users(url, *users)
        yield create_app(url)


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process ends, so that no server outlives a killed test run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{home / 'app.sqlite'}"


@pytest.fixture
def make_server(tmp_path):
    """Factory: ``make_server(database_url=None, users=('alice', 'bob'))`` → a started :class:`Server`."""
    servers: list[Server] = []

    def _make(database_url: str | None = None, users: tuple[str, ...] = ("alice", "bob"), home: Path | None = None):
        h = home or (tmp_path / f"home{len(servers)}")
        h.mkdir(exist_ok=True)
        url = database_url or sqlite_url(h)
        if users:
            add_users(url, *users)
        s = Server(home=h, database_url=url).start()
        servers.append(s)
        return s

    yield _make
    for s in servers:
        s.stop()


def api_login(client: httpx.Client, username: str) -> str:
    r = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["csrf"]


# ---- PostgreSQL -----------------------------------------------------------------------------------

def pg_bindir() -> Path | None:
    """The newest Debian PostgreSQL server binaries (``/usr/lib/postgresql/N/bin``), or None."""
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(cands[-1]).parent if cands else None


class Postgres:
    """A private PostgreSQL cluster on 127.0.0.1 in a temporary folder (stopped and removed afterwards).

    Run as the ``postgres`` system user when the tests run as root (PostgreSQL refuses to run as root).
    """

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kbone-pg-"))
        self.data = self.dir / "data"
        self.as_user = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = "postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd=str(self.dir), timeout=120)

    def start(self) -> Postgres:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "kbone", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                "-c fsync=on -c synchronous_commit=on -c shared_buffers=16MB -c max_connections=60")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"),
                  "-w", "-t", "60", "start")
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "kbone", "kbone")
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://kbone@127.0.0.1:{self.port}/kbone"

    def amcheck(self) -> subprocess.CompletedProcess:
        """``pg_amcheck`` over every table and index of the database (installs the amcheck extension)."""
        return self._run(str(self.bindir / "pg_amcheck"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "kbone",
                         "--install-missing", "--heapallindexed", "kbone", check=False)

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_available() -> tuple[bool, str]:
    b = pg_bindir()
    if b is None:
        return False, "PostgreSQL server binaries not found (Debian package 'postgresql')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False, "running as root but there is no 'postgres' user to run the server"
        if not shutil.which("runuser"):
            return False, "runuser not found"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False, "psycopg (PostgreSQL driver) not installed"
    return True, ""


@pytest.fixture(scope="module")
def postgres():
    ok, why = postgres_available()
    require(ok, why)
    pg = Postgres(pg_bindir()).start()
    yield pg
    pg.stop()
