"""The web app's own database: users and saved assessments (SQLAlchemy; schema managed by Alembic).

SQLite by default (``$KBONE_HOME/app.sqlite``, WAL mode, ``synchronous=FULL`` so that every acknowledged
save survives a crash), PostgreSQL when ``KBONE_DATABASE_URL`` (or ``KBONE_WEB_DATABASE_URL``) names one.
The evidence store lives apart
(``kbone.store``) because it is rebuilt from YAML; user data never is.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from kbone.paths import state_dir


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)  # bumped at logout: old cookies stop working
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SavedAssessment(Base):
    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    profile_json: Mapped[str] = mapped_column(Text)
    report_json: Mapped[str] = mapped_column(Text)
    kbone_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def app_database_url() -> str:
    """``KBONE_WEB_DATABASE_URL``; else ``KBONE_DATABASE_URL`` when it is a server database (PostgreSQL: the
    web tables sit beside the evidence store's); else ``$KBONE_HOME/app.sqlite``.

    A SQLite ``KBONE_DATABASE_URL`` is the evidence store's own file, which is replaced whole when the store
    is rebuilt from the YAML, so user data never goes there.
    """
    web = os.environ.get("KBONE_WEB_DATABASE_URL")
    if web:
        return web
    shared = os.environ.get("KBONE_DATABASE_URL")
    if shared and not shared.startswith("sqlite"):
        return shared
    return f"sqlite:///{state_dir() / 'app.sqlite'}"


# requests run in a thread pool of 40: enough connections that they rarely wait for one
POOL_SIZE = 10
POOL_OVERFLOW = 30


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    url = url or app_database_url()
    if url.startswith("sqlite"):
        Path(url.split("sqlite:///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                            pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def migrate(url: str | None = None) -> None:
    """Bring the database schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or app_database_url()).replace("%", "%%"))
    command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_user(db: Session, username: str) -> User | None:
    return db.execute(select(User).where(User.username == username)).scalar_one_or_none()
