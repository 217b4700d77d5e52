"""Response models of the JSON API, so that the OpenAPI document says exactly what comes back.

Fields marked "restricted" are present only in answers to analysts and admins (the
restricted audience); answers to viewers and anonymous callers do not carry those keys.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from detainers.model import Outcome

StanceValue = Literal["honors", "limited", "declines"]


class ApiError(BaseModel):
    """Every error: a message a person can act on, and the HTTP status."""

    error: str
    status: int
    problems: list[str] | None = Field(None, description="Each invalid parameter (422 only).")


class Labelled(BaseModel):
    """Every answer that carries data says whether the data is synthetic."""

    synthetic: bool = Field(description="True when any loaded source is synthetic (invented) data.")
    data_label: str | None = Field(description="The label to show with synthetic data; null for real data.")


class Paged(Labelled):
    total: int = Field(description="Items matching the filters, on all pages.")
    limit: int
    offset: int


# --- jurisdictions -------------------------------------------------------------------------

class JurisdictionItem(BaseModel):
    """A jurisdiction with its stance on the day asked about and its detainer count."""

    jurisdiction_id: str
    name: str
    state: str
    kind: str
    fips: str | None
    stance: StanceValue | None = Field(description="The policy in force on `on`; null when none is recorded.")
    agreement: str | None = Field(description="The 287(g) model of that policy, or 'none'.")
    policy_from: date | None = Field(description="The day that policy took effect.")
    detainers: int = Field(description="Detainers lodged with the jurisdiction's facilities, all time.")
    facilities: int


class JurisdictionList(Paged):
    on: date
    items: list[JurisdictionItem]


class Policy(BaseModel):
    """A stance over [effective_from, effective_to)."""

    effective_from: date
    effective_to: date | None
    stance: StanceValue
    agreement: str
    criteria: str | None
    citation: str | None
    origin: str


class FacilitySummary(BaseModel):
    facility_id: str
    name: str
    kind: str | None
    city: str | None
    state: str | None
    detainers: int


class OutcomeTotals(BaseModel):
    """Detainers lodged (the denominator) and what became of them."""

    lodged: int
    honored: int
    declined: int
    transferred: int
    lifted: int
    cancelled: int
    in_custody: int
    unknown: int


class JurisdictionDetail(Labelled):
    jurisdiction_id: str
    name: str
    state: str
    kind: str
    fips: str | None
    ori: str | None
    aor: str | None = Field(description="The ICE area of responsibility.")
    on: date
    policy_on: Policy | None = Field(description="The policy in force on `on`.")
    policies: list[Policy] = Field(description="The policy timeline, oldest first.")
    facilities: list[FacilitySummary]
    regions: list[str]
    outcomes: OutcomeTotals = Field(description="All detainers lodged with the jurisdiction's facilities.")


# --- facilities ----------------------------------------------------------------------------

class FacilityItem(BaseModel):
    facility_id: str
    name: str
    code: str | None = Field(description="The agency's own facility code (ICE's Detention Facility Code).")
    kind: str | None
    city: str | None
    state: str | None
    jurisdiction_id: str | None = Field(description="Null while the facility is unplaced.")
    detainers: int


class FacilityList(Paged):
    items: list[FacilityItem]


# --- detainers -----------------------------------------------------------------------------

class Charge(BaseModel):
    """A charge on the booking (or, for ICE releases, on the detainer). Not a conviction unless
    its stage says `convicted`."""

    description: str
    category: str
    stage: str
    level: str


class DetainerItem(BaseModel):
    detainer_key: str = Field(description="Pseudonymous detainer key (D-…), stable in this installation.")
    person_key: str = Field(description="Pseudonymous person key (P-…).")
    booking_key: str | None = Field(description="Pseudonymous booking key (B-…); null when no booking is linked.")
    jurisdiction_id: str | None
    jurisdiction_name: str | None
    facility_id: str
    facility_name: str
    form: str | None
    lodged_on: date
    lifted_on: date | None
    ended_on: date | None
    outcome: Outcome
    lodged_fy: int | None
    ended_fy: int | None
    likely_duplicate: bool
    charges: list[Charge]
    detainer_id: str | None = Field(None, description="Restricted.")
    person_id: str | None = Field(None, description="Restricted.")
    booking_id: str | None = Field(None, description="Restricted.")
    name: str | None = Field(None, description="Restricted: the person's name.")
    date_of_birth: date | None = Field(None, description="Restricted.")
    outcome_rule: str | None = Field(None, description="Restricted: the lifecycle rule that decided the outcome "
                                                       "(it can quote ICE's free-text lift reason).")
    lift_reason: str | None = Field(None, description="Restricted.")


class DetainerList(Paged):
    audience: Literal["public", "restricted"]
    items: list[DetainerItem]


# --- stats ---------------------------------------------------------------------------------

class StatsRow(OutcomeTotals):
    """One group: its keys (only those of the dimensions asked for are present) and its counts."""

    jurisdiction_id: str | None = None
    jurisdiction_name: str | None = None
    state: str | None = None
    fy: int | None = None
    region: str | None = None
    stance: StanceValue | None = None


class OutcomeStats(Labelled):
    cohort: Literal["lodged", "ended"]
    by: list[Literal["jurisdiction", "fy", "region", "stance"]]
    from_: date | None = Field(alias="from")
    to: date | None
    definitions: dict[str, str]
    rows: list[StatsRow]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


# --- sources, agreements, regions ----------------------------------------------------------

class SourceItem(BaseModel):
    source_id: int
    kind: str
    name: str = Field(description="The file name the source was loaded from.")
    sha256: str
    loaded_at: str | None
    rows_read: int
    row_counts: dict[str, int]
    synthetic: bool
    family: str | None
    as_of: str | None
    quality: dict[str, int] = Field(description="Cells nulled while loading, by 'column: problem'.")


class SourceList(Labelled):
    items: list[SourceItem]


class AgreementItem(BaseModel):
    state: str
    agency: str
    county: str | None
    county_fips: str | None
    jurisdiction_id: str | None
    models: list[str] = Field(description="287(g) models: jem, wso, tfm.")
    signed_on: date | None
    active_from: date
    active_to: date | None
    first_list: date | None = Field(description="The first ICE list showing the agreement (all spans only).")
    last_list: date | None = Field(description="The last ICE list showing it (all spans only).")


class AgreementList(Labelled):
    on: date | None = Field(description="The day asked about; null: every agreement span.")
    items: list[AgreementItem]


class RegionItem(BaseModel):
    region: str
    jurisdiction_ids: list[str]


class RegionList(Labelled):
    items: list[RegionItem]


# --- classify ------------------------------------------------------------------------------

class Classified(BaseModel):
    text: str
    code: str | None
    category: str
    violent: bool
    rule: str
    normalized: str
    level: str
    modifier: str | None
    is_detainer: bool = Field(description="The line is the immigration detainer itself, not a criminal charge.")
    confident: bool
    runner_up: str | None


# --- search (restricted) -------------------------------------------------------------------

class FoundBooking(BaseModel):
    booking_id: str
    booking_key: str
    facility_id: str
    facility_name: str | None
    jurisdiction_id: str | None
    booked_on: date
    released_on: date | None
    release_reason: str | None
    charges: list[Charge]


class FoundDetainer(BaseModel):
    detainer_id: str
    detainer_key: str
    booking_id: str | None
    facility_id: str
    jurisdiction_id: str | None
    form: str | None
    lodged_on: date
    lifted_on: date | None
    lift_reason: str | None
    ended_on: date | None
    outcome: Outcome
    outcome_rule: str | None


class FoundPerson(BaseModel):
    person_id: str
    person_key: str
    name: str | None
    date_of_birth: date | None
    birth_year: int | None
    sex: str | None
    citizenship: str | None
    matched_by: list[Literal["person key", "person id", "booking id", "name"]]
    bookings: list[FoundBooking]
    detainers: list[FoundDetainer]


class SearchResult(Labelled):
    q: str
    limit: int
    truncated: bool = Field(description="More people matched than `limit`; narrow the search.")
    people: list[FoundPerson]
