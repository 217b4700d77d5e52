"""detainers: drop the index on facility_id alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Two indexes already begin with facility_id ((facility_id, lodged_on) and (facility_id, ended_on)),
and either answers what the index on facility_id alone answered. Every detainer written kept it up to
date for nothing: a large first load builds one index fewer (about a second per million detainers).
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_detainers_facility_id', table_name='detainers')


def downgrade() -> None:
    op.create_index('ix_detainers_facility_id', 'detainers', ['facility_id'], unique=False)
