"""outcome counts per facility and fiscal year; composite indexes for per-jurisdiction periods

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OUTCOMES = ('honored', 'declined', 'transferred', 'lifted', 'cancelled', 'in_custody', 'unknown')


def upgrade() -> None:
    op.create_table(
        'outcome_counts',
        sa.Column('cohort', sa.String(length=8), nullable=False),
        sa.Column('facility_id', sa.String(length=128), nullable=False),
        sa.Column('fy', sa.Integer(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=False),
        *(sa.Column(o, sa.Integer(), nullable=False) for o in OUTCOMES),
    )
    op.create_index('ix_outcome_counts_cohort_fy', 'outcome_counts', ['cohort', 'fy'], unique=False)
    op.create_index('ix_detainers_facility_ended', 'detainers', ['facility_id', 'ended_on'], unique=False)
    op.create_index('ix_detainers_facility_lodged', 'detainers', ['facility_id', 'lodged_on'], unique=False)
    # Count what is already stored, so that an upgraded database answers as a new one would.
    per_outcome = ", ".join(f"SUM(CASE WHEN outcome = '{o}' THEN 1 ELSE 0 END)" for o in OUTCOMES)
    for cohort, day, fy in (('lodged', 'lodged_on', 'lodged_fy'), ('ended', 'ended_on', 'ended_fy')):
        op.execute(
            f"INSERT INTO outcome_counts (cohort, facility_id, fy, n, {', '.join(OUTCOMES)}) "
            f"SELECT '{cohort}', facility_id, {fy}, COUNT(*), {per_outcome} FROM detainers "
            f"WHERE {day} IS NOT NULL GROUP BY facility_id, {fy}")


def downgrade() -> None:
    op.drop_index('ix_detainers_facility_lodged', table_name='detainers')
    op.drop_index('ix_detainers_facility_ended', table_name='detainers')
    op.drop_index('ix_outcome_counts_cohort_fy', table_name='outcome_counts')
    op.drop_table('outcome_counts')
