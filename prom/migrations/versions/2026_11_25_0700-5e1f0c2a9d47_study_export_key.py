"""a per-study key for pseudonymised participant codes in research exports

Revision ID: 5e1f0c2a9d47
Revises: b278300f0714
Create Date: 2026-11-25 07:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0c2a9d47"
down_revision: str | Sequence[str] | None = "b278300f0714"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("export_key", sa.String(length=64), nullable=True))
    # Each existing study gets its own random key, as new ones do (`Study.export_key`).
    # The id is read and matched as stored, untyped: the back-fill needs no UUID conversion.
    studies = sa.table("studies", sa.column("id"), sa.column("export_key", sa.String(64)))
    connection = op.get_bind()
    for (study_id,) in connection.execute(sa.select(studies.c.id)).all():
        connection.execute(studies.update().where(studies.c.id == study_id)
                           .values(export_key=secrets.token_hex(32)))
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.alter_column("export_key", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_column("export_key")
