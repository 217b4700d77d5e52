"""The tables. Every record keeps the source it came from and its row number there.

Identity fields (names, dates of birth) live in `person_identities`, apart from
everything else, so that public queries never have to remember to leave them out:
they simply never join that table.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(128)


def _provenance() -> list[Column]:
    """Columns every loaded record carries: which source, which row of it, and a
    fingerprint of the values the source gave (to tell changed rows from unchanged)."""
    return [
        Column("source_id", Integer, ForeignKey("sources.source_id"), nullable=True, index=True),
        Column("source_row", Integer, nullable=True),
        Column("row_hash", String(32), nullable=True),
    ]


sources = Table(
    "sources",
    metadata,
    Column("source_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("row_counts", Text, nullable=False, default="{}"),
    Column("synthetic", Boolean, nullable=False, default=False),
    Column("notes", Text, nullable=False, default="[]"),
    # Releases of the same series share a family; a newer one is reconciled against the last.
    Column("family", Text),
    Column("sheet", Text),
    # Data-quality counts: {"column: problem": cells nulled}.
    Column("quality", Text, nullable=False, default="{}", server_default="{}"),
    # The date a list or snapshot describes (287(g) lists, roster snapshots).
    Column("as_of", DateTime(timezone=False)),
    UniqueConstraint("kind", "sha256"),
)

installation = Table(
    "installation",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

jurisdictions = Table(
    "jurisdictions",
    metadata,
    Column("jurisdiction_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("state", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("fips", String(5)),
    Column("ori", Text),
    Column("aor", Text),
    *_provenance(),
)

regions = Table(
    "regions",
    metadata,
    Column("region", String(128), primary_key=True),
    Column("jurisdiction_id", ID, ForeignKey("jurisdictions.jurisdiction_id"), primary_key=True),
    *_provenance(),
)

policies = Table(
    "policies",
    metadata,
    Column("policy_id", Integer, primary_key=True, autoincrement=True),
    Column("jurisdiction_id", ID, ForeignKey("jurisdictions.jurisdiction_id"), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date),
    Column("stance", String(16), nullable=False),
    Column("agreement", String(16), nullable=False, default="none"),
    Column("criteria", Text),
    Column("citation", Text),
    # "package" for policies users entered; "287g-roster" for policies derived from 287(g) lists.
    Column("origin", String(16), nullable=False, default="package", server_default="package"),
    *_provenance(),
    UniqueConstraint("jurisdiction_id", "effective_from"),
)

facilities = Table(
    "facilities",
    metadata,
    Column("facility_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("jurisdiction_id", ID, ForeignKey("jurisdictions.jurisdiction_id"), index=True),
    Column("kind", String(24)),
    Column("city", Text),
    Column("state", String(8)),
    # The agency's own facility code (ICE's "Detention Facility Code"), for matching sources.
    Column("code", Text, index=True),
    *_provenance(),
)

people = Table(
    "people",
    metadata,
    Column("person_id", ID, primary_key=True),
    Column("birth_year", Integer),
    Column("sex", Text),
    Column("citizenship", Text),
    *_provenance(),
)

# Restricted: never joined by a public query.
person_identities = Table(
    "person_identities",
    metadata,
    Column("person_id", ID, ForeignKey("people.person_id"), primary_key=True),
    Column("name", Text),
    Column("date_of_birth", Date),
    *_provenance(),
)

bookings = Table(
    "bookings",
    metadata,
    Column("booking_id", ID, primary_key=True),
    Column("person_id", ID, ForeignKey("people.person_id"), nullable=False),
    Column("facility_id", ID, ForeignKey("facilities.facility_id"), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("released_on", Date),
    Column("release_reason", String(24)),
    *_provenance(),
    Index("ix_bookings_person_facility", "person_id", "facility_id"),
    Index("ix_bookings_facility_booked_released", "facility_id", "booked_on", "released_on"),  # held on a day
)

charges = Table(
    "charges",
    metadata,
    Column("charge_id", ID, primary_key=True),
    # A charge belongs to a booking, or (ICE releases: the most serious conviction) to a detainer.
    Column("booking_id", ID, ForeignKey("bookings.booking_id"), index=True),
    Column("detainer_id", ID, ForeignKey("detainers.detainer_id"), index=True),
    Column("description", Text, nullable=False),
    Column("code", Text),
    Column("level", String(16), nullable=False, default="unknown"),
    Column("stage", String(16), nullable=False, default="unknown"),
    Column("category", String(32), nullable=False),
    # "source" when the package gave the category, "classifier" when we derived it.
    Column("category_origin", String(16), nullable=False),
    Column("classifier_rule", Text),
    Column("classifier_version", String(32)),
    # An immigration detainer entered as a charge line: the detainer itself, not a charge.
    Column("is_detainer_line", Boolean, nullable=False, default=False),
    *_provenance(),
)

detainers = Table(
    "detainers",
    metadata,
    Column("detainer_id", ID, primary_key=True),
    Column("person_id", ID, ForeignKey("people.person_id"), nullable=False, index=True),
    # Indexed by the two indexes below that begin with it (migration 0007).
    Column("facility_id", ID, ForeignKey("facilities.facility_id"), nullable=False),
    Column("lodged_on", Date, nullable=False, index=True),
    Column("booking_id", ID, ForeignKey("bookings.booking_id"), index=True),
    # "given" by the source, "matched" by person+facility+date, or "none".
    Column("booking_link", String(8), nullable=False, default="none"),
    Column("form", Text),
    Column("lifted_on", Date),
    Column("lift_reason", Text),
    Column("outcome_claimed", String(16)),
    # Derived by detainers.outcomes; recomputed whenever inputs change.
    Column("outcome", String(16), nullable=False, default="unknown"),
    Column("ended_on", Date, index=True),
    Column("outcome_rule", Text),
    Column("lodged_fy", Integer),
    Column("ended_fy", Integer),
    # ICE's own fields, where a source has them.
    Column("criminality", Text),
    Column("threat_level", Text),
    # Columns the source withheld (FOIA exemption markers), comma-separated.
    Column("redacted", Text),
    # A likely duplicate (same person, facility and day) points at the first such detainer.
    Column("duplicate_of", ID),
    *_provenance(),
    # A jurisdiction's detainers over a period (declined, transfers, monthly charts) without a scan.
    Index("ix_detainers_facility_ended", "facility_id", "ended_on"),
    Index("ix_detainers_facility_lodged", "facility_id", "lodged_on"),
)

# Detainers counted per cohort, facility and fiscal year, in all and per outcome (store/summary.py). Rebuilt in the
# transaction of every write that changes detainers, so it always matches them.
outcome_counts = Table(
    "outcome_counts",
    metadata,
    Column("cohort", String(8), nullable=False),
    Column("facility_id", ID, nullable=False),
    Column("fy", Integer),
    Column("n", Integer, nullable=False),
    # One column per outcome (model.OUTCOME_ORDER).
    *(Column(o, Integer, nullable=False) for o in
      ("honored", "declined", "transferred", "lifted", "cancelled", "in_custody", "unknown")),
    Index("ix_outcome_counts_cohort_fy", "cohort", "fy"),
)

# One row per agency × model per 287(g) list, as published.
roster_entries = Table(
    "roster_entries",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("list_date", Date, nullable=False, index=True),
    Column("state", String(8), nullable=False),
    Column("agency", Text, nullable=False),
    Column("agency_key", Text, nullable=False),
    Column("agency_type", Text),
    Column("county", Text),
    Column("county_fips", String(5)),
    Column("model", String(8), nullable=False),
    Column("signed_on", Date),
    Column("moa", Text),
    *_provenance(),
)

# Derived from all lists: when each agency × model agreement was active.
agreements = Table(
    "agreements",
    metadata,
    Column("agreement_id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(8), nullable=False),
    Column("agency", Text, nullable=False),
    Column("agency_key", Text, nullable=False),
    Column("agency_type", Text),
    Column("county", Text),
    Column("county_fips", String(5)),
    Column("jurisdiction_id", ID, ForeignKey("jurisdictions.jurisdiction_id")),
    Column("model", String(8), nullable=False),
    Column("signed_on", Date),
    Column("active_from", Date, nullable=False),
    Column("active_to", Date),
    Column("first_list", Date, nullable=False),
    Column("last_list", Date, nullable=False),
    UniqueConstraint("state", "agency_key", "model", "active_from"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Tables in the order they can be filled (parents before children).
LOAD_ORDER = (
    jurisdictions,
    regions,
    policies,
    facilities,
    people,
    person_identities,
    bookings,
    detainers,
    charges,
)

# Web accounts. Passwords are argon2 hashes; nothing here is ever deleted (accounts are disabled).
users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A signed-in browser: the cookie carries a random id, stored here only as its hash,
# so signing out (or disabling the account) ends the session at once.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("address", Text),
)

# Failed sign-ins, for rate limiting across processes (pruned as they age out).
login_failures = Table(
    "login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64), nullable=False, index=True),
    Column("address", Text, nullable=False),
)


# Upload jobs of the web process: what each upload's page shows (its state, stage and summary), so that
# any server process can show any job. They are written outside the upload's own transaction (on
# SQLite in a companion file beside the database, whose write lock the ingest does not hold; see
# web/jobs.py), and only the newest finished ones are kept.
upload_jobs = Table(
    "upload_jobs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # the order jobs run in
    Column("job_id", String(32), nullable=False, unique=True),
    Column("owner", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("stage", Text, nullable=False),
    Column("records", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("summary", Text),  # JSON
    Column("error", Text),
    Column("error_kind", String(16)),
    Column("changed", Text),
    # The server process running the job, and when it last said it was alive.
    Column("worker", String(32), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)
