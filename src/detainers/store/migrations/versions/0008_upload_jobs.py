"""upload jobs in the database, so that several server processes show the same jobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Upload jobs were kept in the memory of the server process that took the upload, so a job's page
could only be answered by that process. On SQLite the table in the database itself stays empty: the
jobs are written to a companion file (web/jobs.py), because an ingest holds the database's one write
lock while it runs.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'upload_jobs',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('job_id', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('file_name', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('stage', sa.Text(), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_kind', sa.String(length=16), nullable=True),
        sa.Column('changed', sa.Text(), nullable=True),
        sa.Column('worker', sa.String(length=32), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_upload_jobs')),
        sa.UniqueConstraint('job_id', name=op.f('uq_upload_jobs_job_id')),
    )
    op.create_index(op.f('ix_upload_jobs_state'), 'upload_jobs', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_upload_jobs_state'), table_name='upload_jobs')
    op.drop_table('upload_jobs')
