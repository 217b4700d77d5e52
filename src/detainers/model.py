"""Domain vocabulary: the closed value sets every module shares (DESIGN §2, §5)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What became of a detainer (DESIGN §4)."""

    IN_CUSTODY = "in_custody"
    HONORED = "honored"
    DECLINED = "declined"
    TRANSFERRED = "transferred"
    LIFTED = "lifted"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


#: Column order used by every outcome table (stats, reports).
OUTCOME_ORDER: tuple[str, ...] = (
    "honored",
    "declined",
    "transferred",
    "lifted",
    "cancelled",
    "in_custody",
    "unknown",
)


class Stance(StrEnum):
    """A jurisdiction's stance on detainers over an interval."""

    HONORS = "honors"
    LIMITED = "limited"
    DECLINES = "declines"


class Agreement(StrEnum):
    """A 287(g) agreement model, or none."""

    NONE = "none"
    JEM = "287g-jem"
    WSO = "287g-wso"
    TFM = "287g-tfm"


class JurisdictionKind(StrEnum):
    COUNTY = "county"
    CITY = "city"
    STATE = "state"
    FEDERAL = "federal"


class FacilityKind(StrEnum):
    COUNTY_JAIL = "county_jail"
    CITY_JAIL = "city_jail"
    STATE_PRISON = "state_prison"
    FEDERAL_PRISON = "federal_prison"
    ICE_DETENTION = "ice_detention"
    OTHER = "other"


class ReleaseReason(StrEnum):
    """Why a booking ended, in the canonical vocabulary."""

    TO_ICE = "to_ice"
    TO_OTHER_CUSTODY = "to_other_custody"
    BOND = "bond"
    SENTENCE_SERVED = "sentence_served"
    DISMISSED = "dismissed"
    RECOGNIZANCE = "recognizance"
    OTHER_RELEASE = "other_release"


class Level(StrEnum):
    FELONY = "felony"
    MISDEMEANOR = "misdemeanor"
    INFRACTION = "infraction"
    UNKNOWN = "unknown"


class Stage(StrEnum):
    """Where a charge stands. Only `convicted` may be called a conviction."""

    PENDING = "pending"
    CONVICTED = "convicted"
    DISMISSED = "dismissed"
    UNKNOWN = "unknown"


class Audience(StrEnum):
    """Who a report is for: `public` never carries identity fields."""

    PUBLIC = "public"
    RESTRICTED = "restricted"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The allowed string values of an enum, in declaration order."""
    return tuple(member.value for member in enum)
