"""free text columns, source indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.alter_column('code',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_charges_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.alter_column('form',
               existing_type=sa.VARCHAR(length=16),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('threat_level',
               existing_type=sa.VARCHAR(length=16),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_detainers_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.alter_column('code',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_facilities_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('jurisdictions', schema=None) as batch_op:
        batch_op.alter_column('ori',
               existing_type=sa.VARCHAR(length=9),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('aor',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_jurisdictions_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.alter_column('sex',
               existing_type=sa.VARCHAR(length=16),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_people_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('person_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_identities_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policies_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entries_source_id'), ['source_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_entries_source_id'))

    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_source_id'))

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policies_source_id'))

    with op.batch_alter_table('person_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_identities_source_id'))

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_source_id'))
        batch_op.alter_column('sex',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=16),
               existing_nullable=True)

    with op.batch_alter_table('jurisdictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurisdictions_source_id'))
        batch_op.alter_column('aor',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=64),
               existing_nullable=True)
        batch_op.alter_column('ori',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=9),
               existing_nullable=True)

    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facilities_source_id'))
        batch_op.alter_column('code',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=32),
               existing_nullable=True)

    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_detainers_source_id'))
        batch_op.alter_column('threat_level',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=16),
               existing_nullable=True)
        batch_op.alter_column('form',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=16),
               existing_nullable=True)

    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charges_source_id'))
        batch_op.alter_column('code',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=32),
               existing_nullable=True)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_source_id'))

