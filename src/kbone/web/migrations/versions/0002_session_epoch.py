"""session epoch (logout invalidates old cookies); kbone version of a saved report

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("assessments") as b:
        b.add_column(sa.Column("kbone_version", sa.String(32), nullable=True))
    op.create_index("ix_assessments_user_created", "assessments", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_assessments_user_created", "assessments")
    with op.batch_alter_table("assessments") as b:
        b.drop_column("kbone_version")
    with op.batch_alter_table("users") as b:
        b.drop_column("session_epoch")
