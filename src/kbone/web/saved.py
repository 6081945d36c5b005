"""Saved assessments: one user's profiles and reports in the web database.

Every query is scoped to the owner: another user's id behaves exactly like an id that does not exist.
A save is one transaction, committed before the caller acknowledges it (SQLite ``synchronous=FULL``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kbone import __version__
from kbone.assess.profile import Profile
from kbone.output import dumps
from kbone.web.db import SavedAssessment, User

MAX_LIST = 500


class SavedSummary(BaseModel):
    """A saved assessment in a list (no personal data beyond the title the user gave)."""

    id: int
    title: str
    lang: str
    created_at: datetime
    kbone_version: str | None = None


def summary(row: SavedAssessment) -> SavedSummary:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)  # SQLite drops it
    return SavedSummary(id=row.id, title=row.title, lang=row.lang, created_at=created,
                        kbone_version=row.kbone_version)


def save(db: Session, user: User, *, title: str, lang: str, profile: dict, report) -> SavedAssessment:
    """Store a profile (as entered) with its report (a pydantic model or plain JSON data); commit."""
    row = SavedAssessment(user_id=user.id, title=title, lang=lang, kbone_version=__version__,
                          profile_json=dumps(profile, indent=None), report_json=dumps(report, indent=None))
    db.add(row)
    db.commit()
    return row


def list_for(db: Session, user: User, *, limit: int = MAX_LIST, offset: int = 0) -> list[SavedAssessment]:
    q = (select(SavedAssessment).where(SavedAssessment.user_id == user.id)
         .order_by(SavedAssessment.created_at.desc(), SavedAssessment.id.desc()).limit(limit).offset(offset))
    return list(db.execute(q).scalars())


def count_for(db: Session, user: User) -> int:
    return db.execute(select(func.count()).select_from(SavedAssessment)
                      .where(SavedAssessment.user_id == user.id)).scalar_one()


def get_for(db: Session, user: User, assessment_id: int) -> SavedAssessment | None:
    """The user's own assessment, or None (also for another user's id: no hint that it exists)."""
    row = db.get(SavedAssessment, assessment_id)
    if row is None or row.user_id != user.id:
        return None
    return row


def delete_for(db: Session, user: User, assessment_id: int) -> bool:
    row = get_for(db, user, assessment_id)
    if row is None:
        return False
    db.delete(row)
    db.commit()
    return True


def profile_of(row: SavedAssessment) -> dict:
    return json.loads(row.profile_json)


def report_data(row: SavedAssessment) -> dict:
    return json.loads(row.report_json)


class SaveIn(BaseModel):
    """What a client sends to save an assessment; the report is recomputed on the server."""

    title: str = Field(min_length=1, max_length=200, description="a label you will recognise (avoid names)")
    lang: str = Field("en", pattern="^(en|zh)$")
    profile: Profile = Field(description="the profile, as for POST /api/v1/assess")
