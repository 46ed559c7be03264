"""Cluster views: the scorecard, attack paths and RBAC objects of each full evaluation (the dashboard's);
and the index the dashboard's findings pages read in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stages", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_views_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_views")),
    )
    op.create_index(op.f("ix_cluster_views_cluster_id_at"), "cluster_views", ["cluster_id", "at"])
    op.create_index(op.f("ix_findings_severity_last_seen_id"), "findings", ["severity", "last_seen", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_findings_severity_last_seen_id"), table_name="findings")
    op.drop_table("cluster_views")
