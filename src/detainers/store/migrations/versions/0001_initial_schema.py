"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_audit_log'))
    )
    op.create_table('installation',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_installation'))
    )
    op.create_table('sources',
    sa.Column('source_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('row_counts', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_sources')),
    sa.UniqueConstraint('kind', 'sha256', name=op.f('uq_sources_kind_sha256'))
    )
    op.create_table('jurisdictions',
    sa.Column('jurisdiction_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fips', sa.String(length=5), nullable=True),
    sa.Column('ori', sa.String(length=9), nullable=True),
    sa.Column('aor', sa.String(length=64), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_jurisdictions_source_id_sources')),
    sa.PrimaryKeyConstraint('jurisdiction_id', name=op.f('pk_jurisdictions'))
    )
    op.create_table('people',
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('citizenship', sa.Text(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_people_source_id_sources')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_people'))
    )
    op.create_table('facilities',
    sa.Column('facility_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('jurisdiction_id', sa.String(length=128), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.jurisdiction_id'], name=op.f('fk_facilities_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_facilities_source_id_sources')),
    sa.PrimaryKeyConstraint('facility_id', name=op.f('pk_facilities'))
    )
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facilities_jurisdiction_id'), ['jurisdiction_id'], unique=False)

    op.create_table('person_identities',
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.person_id'], name=op.f('fk_person_identities_person_id_people')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_person_identities_source_id_sources')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_identities'))
    )
    op.create_table('policies',
    sa.Column('policy_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('jurisdiction_id', sa.String(length=128), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('stance', sa.String(length=16), nullable=False),
    sa.Column('agreement', sa.String(length=16), nullable=False),
    sa.Column('criteria', sa.Text(), nullable=True),
    sa.Column('citation', sa.Text(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.jurisdiction_id'], name=op.f('fk_policies_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_policies_source_id_sources')),
    sa.PrimaryKeyConstraint('policy_id', name=op.f('pk_policies')),
    sa.UniqueConstraint('jurisdiction_id', 'effective_from', name=op.f('uq_policies_jurisdiction_id_effective_from'))
    )
    op.create_table('regions',
    sa.Column('region', sa.String(length=128), nullable=False),
    sa.Column('jurisdiction_id', sa.String(length=128), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.jurisdiction_id'], name=op.f('fk_regions_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_regions_source_id_sources')),
    sa.PrimaryKeyConstraint('region', 'jurisdiction_id', name=op.f('pk_regions'))
    )
    op.create_table('bookings',
    sa.Column('booking_id', sa.String(length=128), nullable=False),
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('facility_id', sa.String(length=128), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('released_on', sa.Date(), nullable=True),
    sa.Column('release_reason', sa.String(length=24), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.facility_id'], name=op.f('fk_bookings_facility_id_facilities')),
    sa.ForeignKeyConstraint(['person_id'], ['people.person_id'], name=op.f('fk_bookings_person_id_people')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_bookings_source_id_sources')),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_facility_booked', ['facility_id', 'booked_on'], unique=False)
        batch_op.create_index('ix_bookings_person_facility', ['person_id', 'facility_id'], unique=False)

    op.create_table('charges',
    sa.Column('charge_id', sa.String(length=128), nullable=False),
    sa.Column('booking_id', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('category_origin', sa.String(length=16), nullable=False),
    sa.Column('classifier_rule', sa.Text(), nullable=True),
    sa.Column('classifier_version', sa.String(length=32), nullable=True),
    sa.Column('is_detainer_line', sa.Boolean(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.booking_id'], name=op.f('fk_charges_booking_id_bookings')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_charges_source_id_sources')),
    sa.PrimaryKeyConstraint('charge_id', name=op.f('pk_charges'))
    )
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charges_booking_id'), ['booking_id'], unique=False)

    op.create_table('detainers',
    sa.Column('detainer_id', sa.String(length=128), nullable=False),
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('facility_id', sa.String(length=128), nullable=False),
    sa.Column('lodged_on', sa.Date(), nullable=False),
    sa.Column('booking_id', sa.String(length=128), nullable=True),
    sa.Column('booking_link', sa.String(length=8), nullable=False),
    sa.Column('form', sa.String(length=16), nullable=True),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.Column('outcome_claimed', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('outcome_rule', sa.Text(), nullable=True),
    sa.Column('lodged_fy', sa.Integer(), nullable=True),
    sa.Column('ended_fy', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.booking_id'], name=op.f('fk_detainers_booking_id_bookings')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.facility_id'], name=op.f('fk_detainers_facility_id_facilities')),
    sa.ForeignKeyConstraint(['person_id'], ['people.person_id'], name=op.f('fk_detainers_person_id_people')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], name=op.f('fk_detainers_source_id_sources')),
    sa.PrimaryKeyConstraint('detainer_id', name=op.f('pk_detainers'))
    )
    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_detainers_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_detainers_ended_on'), ['ended_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_detainers_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_detainers_lodged_on'), ['lodged_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_detainers_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('detainers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_detainers_person_id'))
        batch_op.drop_index(batch_op.f('ix_detainers_lodged_on'))
        batch_op.drop_index(batch_op.f('ix_detainers_facility_id'))
        batch_op.drop_index(batch_op.f('ix_detainers_ended_on'))
        batch_op.drop_index(batch_op.f('ix_detainers_booking_id'))

    op.drop_table('detainers')
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charges_booking_id'))

    op.drop_table('charges')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_person_facility')
        batch_op.drop_index('ix_bookings_facility_booked')

    op.drop_table('bookings')
    op.drop_table('regions')
    op.drop_table('policies')
    op.drop_table('person_identities')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facilities_jurisdiction_id'))

    op.drop_table('facilities')
    op.drop_table('people')
    op.drop_table('jurisdictions')
    op.drop_table('sources')
    op.drop_table('installation')
    op.drop_table('audit_log')
