"""Model aliases: a name a client app uses, mapped to a catalog model per client or for every
client; usage records and journal rows note the alias a call went through (existing rows: none).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "name", name="pk_model_aliases"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_model_aliases_model_id_models"
        ),
    )
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("alias", sa.String(128), nullable=True))
    with op.batch_alter_table("call_journal") as batch:
        batch.add_column(sa.Column("alias", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_journal") as batch:
        batch.drop_column("alias")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("alias")
    op.drop_table("model_aliases")
