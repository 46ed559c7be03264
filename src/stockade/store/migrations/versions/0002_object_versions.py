"""Object versions: the timeline of every object version a watcher observed (and deletions), for replay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "object_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(253), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=True),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource_version", sa.String(64), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("object_state_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_object_versions_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["object_state_id"],
            ["object_states.id"],
            name=op.f("fk_object_versions_object_state_id_object_states"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_versions")),
    )
    op.create_index(op.f("ix_object_versions_cluster_id_at"), "object_versions", ["cluster_id", "at"])
    op.create_index(op.f("ix_object_versions_cluster_id_name"), "object_versions", ["cluster_id", "name"])
    op.create_index(op.f("ix_object_versions_object_state_id"), "object_versions", ["object_state_id"])


def downgrade() -> None:
    op.drop_table("object_versions")
