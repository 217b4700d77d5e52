"""sources families, facility codes, ICE fields, charges on detainers, 287g lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('roster_entries',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('list_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('agency', sa.Text(), nullable=False),
    sa.Column('agency_key', sa.Text(), nullable=False),
    sa.Column('agency_type', sa.Text(), nullable=True),
    sa.Column('county', sa.Text(), nullable=True),
    sa.Column('county_fips', sa.String(length=5), nullable=True),
    sa.Column('model', sa.String(length=8), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('moa', sa.Text(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_roster_entries_source_id_sources')),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_roster_entries'))
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entries_list_date'), ['list_date'], unique=False)

    op.create_table('agreements',
    sa.Column('agreement_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('agency', sa.Text(), nullable=False),
    sa.Column('agency_key', sa.Text(), nullable=False),
    sa.Column('agency_type', sa.Text(), nullable=True),
    sa.Column('county', sa.Text(), nullable=True),
    sa.Column('county_fips', sa.String(length=5), nullable=True),
    sa.Column('jurisdiction_id', sa.String(length=128), nullable=True),
    sa.Column('model', sa.String(length=8), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('first_list', sa.Date(), nullable=False),
    sa.Column('last_list', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.jurisdiction_id'], name=op.f('fk_agreements_jurisdiction_id_jurisdictions')),
    sa.PrimaryKeyConstraint('agreement_id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('state', 'agency_key', 'model', 'active_from', name=op.f('uq_agreements_state_agency_key_model_active_from'))
    )
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detainer_id', sa.String(length=128), nullable=True))
        batch_op.alter_column('booking_id',
               existing_type=sa.VARCHAR(length=128),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_charges_detainer_id'), ['detainer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_charges_detainer_id_detainers'), 'detainers', ['detainer_id'], ['detainer_id'])

    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('criminality', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('threat_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('redacted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.String(length=128), nullable=True))

    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_facilities_code'), ['code'], unique=False)

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), server_default='package', nullable=False))

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sheet', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('quality', sa.Text(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('as_of', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('as_of')
        batch_op.drop_column('quality')
        batch_op.drop_column('sheet')
        batch_op.drop_column('family')

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_column('origin')

    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facilities_code'))
        batch_op.drop_column('code')

    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('redacted')
        batch_op.drop_column('threat_level')
        batch_op.drop_column('criminality')

    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_charges_detainer_id_detainers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_charges_detainer_id'))
        batch_op.alter_column('booking_id',
               existing_type=sa.VARCHAR(length=128),
               nullable=False)
        batch_op.drop_column('detainer_id')

    op.drop_table('agreements')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_entries_list_date'))

    op.drop_table('roster_entries')
