"""A SYNTHETIC national data package for benchmarks: every record invented, every shape realistic.

`write_national_package(DIR, detainers=1_000_000)` writes a canonical data package
(DESIGN §5) over the real U.S. counties of the packaged us-atlas geometry: 3,000+
jurisdictions with one county jail each (a few with two), ICE-area regions, policies
FY2012–FY2025 (most honour detainers; ~10-15% change once or twice at dates where real
policies changed: 2014 court rulings, 2017–2019 state laws, 2025 287(g) agreements),
and `detainers` detainers lodged 2011-10-01 … 2025-09-30 with

* power-law volumes by county (the largest holds ~2.5% of all, the largest 1% of counties ~30%),
* a fiscal-year trend and seasonality (spring high, December low, quiet weekends),
* re-bookings: ~15-20% of people have more than one booking or detainer, some in
  another county,
* bookings whose release agrees with an outcome mix that depends on the stance in force
  on the release day (honored, transferred, declined, lifted, cancelled; some still in
  custody on 2025-09-30; a few detainers with no booking at all),
* 1–3 charges per booking, their texts drawn from the hand-labelled charge set
  (`tables/synthetic_charges.csv`, made from tests/data/charges/labelled.csv without its
  detainer lines; its `mix` column only weights the draw) with the category left empty
  so the classifier does the work,
* invented names and dates of birth (demo.py's scheme), so the privacy paths run.

`write_national_lesa(PATH, detainers=N)` writes the same shapes as an ICE ERO-LESA FOIA
release (CSV: title rows, the 65 columns, redaction markers, a footer) for
`detainers ingest ice-lesa`.

Both stream: memory holds the counties and a few numbers, never the detainers. The same
seed and size give byte-identical files. The package says `synthetic = true`, so every
report made from it says SYNTHETIC.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from pathlib import Path

from detainers.demo import _COUNTRIES, _COUNTRY_CUM, _NAME_BLOCK, COLUMNS, _name, _toml
from detainers.ingest.base import STATES

__all__ = ["NOTE", "AS_OF", "FIRST_DAY", "NationalFacts", "write_national_package", "write_national_lesa",
           "lesa_rows", "parse_size", "LESA_HEADER", "LESA_TITLE", "LESA_FOOTER", "REDACTED"]

NOTE = "SYNTHETIC NATIONAL DATA — invented records over real county names; not real people, policies or counts"
AS_OF = date(2025, 9, 30)
FIRST_DAY = date(2011, 10, 1)  # FY2012
SOURCE = "Synthetic policy record (detainers national generator) — not a real policy"

# --- time: fiscal-year trend, seasonality, quiet weekends ---------------------------------

FY_TREND = {2012: 1.30, 2013: 1.20, 2014: 1.00, 2015: 0.72, 2016: 0.70, 2017: 0.98, 2018: 1.10,
            2019: 1.18, 2020: 0.80, 2021: 0.42, 2022: 0.55, 2023: 0.70, 2024: 0.85, 2025: 1.45}
MONTH_SEASON = {1: 0.92, 2: 0.95, 3: 1.06, 4: 1.08, 5: 1.10, 6: 1.04, 7: 1.02, 8: 1.03, 9: 0.98,
                10: 1.00, 11: 0.93, 12: 0.85}
WEEKDAY = (1.0, 1.05, 1.05, 1.02, 0.98, 0.6, 0.5)  # Monday … Sunday

_BASE = FIRST_DAY.toordinal() - 60           # day index 0: a little before FY2012 (early bookings)
_END = AS_OF.toordinal() - _BASE             # index of as_of
_START = FIRST_DAY.toordinal() - _BASE
_DAYS = [date.fromordinal(_BASE + i) for i in range(_END + 1)]
_ISO = [d.isoformat() for d in _DAYS]
_YEAR = [d.year for d in _DAYS]
_I247D = date(2015, 6, 1).toordinal() - _BASE
_I247A = date(2017, 4, 2).toordinal() - _BASE


def _index(day: date) -> int:
    return day.toordinal() - _BASE


def _fy_of(day: date) -> int:
    return day.year + 1 if day.month >= 10 else day.year


# --- counties: the real U.S. counties of the packaged geometry -----------------------------

_STATE_NAMES = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
    "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
    "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
    "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
    "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
    "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY", "60": "AS", "66": "GU", "72": "PR",
}  # FIPS state prefix → postal code; 69 (N. Mariana Is.) and 78 (Virgin Is.) are left out
#: Postal code → the state name ICE's releases write (the ingest's own table, read backwards).
_FULL_STATE: dict[str, str] = {}
for _name_of_state, _code in STATES.items():
    _FULL_STATE.setdefault(_code, _name_of_state)
# ICE-area-like regions: state → area, with a few big states split by county FIPS.
_AOR = {
    "Atlanta": "GA NC SC", "Baltimore": "MD", "Boston": "CT ME MA NH RI VT", "Buffalo": "NY",
    "Chicago": "IL IN WI MO KY KS", "Dallas": "TX OK", "Denver": "CO WY", "Detroit": "MI OH",
    "El Paso": "NM", "Miami": "FL PR", "New Orleans": "LA MS AL AR TN", "Newark": "NJ",
    "Philadelphia": "PA DE WV", "Phoenix": "AZ", "Salt Lake City": "UT ID MT NV",
    "San Francisco": "CA HI GU AS", "Seattle": "WA OR AK", "St. Paul": "MN IA NE ND SD",
    "Washington": "DC VA",
}
_AOR_COUNTIES = {
    "New York City": "36005 36047 36061 36081 36085 36119 36087 36079 36071 36027 36111",
    "Los Angeles": "06037 06059 06065 06071 06111 06083 06079",
    "San Diego": "06073 06025",
    "Houston": "48201 48157 48339 48039 48167 48245 48291 48473 48071 48361",
    "San Antonio": "48029 48453 48479 48215 48061 48355 48491 48209 48427 48323 48507 48465 48489",
    "El Paso": "48141 48229 48109 48243 48377 48043 48389 48371",
}
# Large counties first (their order sets the head of the power law); the rest are ranked at random.
_HEAD = ("48201 06037 04013 48113 17031 12086 06065 06071 06059 06073 48439 48029 48453 48215 32003 36081 "
         "36047 13135 12011 12099 37119 37183 51059 49035 08031 53033 48141 48061 48157 48479 12057 12095 "
         "13121 13067 06085 06001 06019 06029 34023 34013 36005 36059 36103 24033 24031 47037 40109 40143 "
         "04019 41051").split()
_BUSY_STATES = {"TX": 3.0, "CA": 3.0, "FL": 2.5, "AZ": 2.5, "GA": 2.0, "NC": 2.0, "NY": 2.0, "IL": 1.8,
                "NJ": 1.8, "NV": 1.5, "CO": 1.5, "WA": 1.5, "VA": 1.5, "TN": 1.3, "OK": 1.2, "UT": 1.2,
                "ND": 0.4, "SD": 0.4, "MT": 0.4, "VT": 0.4, "WY": 0.4, "ME": 0.4, "WV": 0.5, "AK": 0.5,
                "AS": 0.1, "GU": 0.2, "PR": 0.3}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in _ascii(text).lower())
    return "-".join(p for p in out.split("-") if p)


def _display_name(name: str, state: str, fips: str) -> str:
    if state == "DC":
        return "District of Columbia"
    if state in ("MD", "MO", "NV", "VA") and int(fips[2:]) >= 500:  # independent cities
        return name if name.lower().endswith("city") else f"{name} city"
    suffix = {"LA": "Parish", "AK": "Borough", "PR": "Municipio"}.get(state, "County")
    return f"{name} {suffix}"


@lru_cache(maxsize=1)
def us_counties() -> tuple[tuple[str, str, str, str, str], ...]:
    """(jurisdiction_id, fips, state, name, aor) for every county of the packaged geometry whose state
    has a postal code, sorted by FIPS. Ids are `<state>-<slug>`, with the FIPS appended where two
    counties of one state share a slug (Richmond County and Richmond city, VA)."""
    text = resources.files("detainers.reports").joinpath("geo/counties-10m.json").read_text(encoding="utf-8")
    geometries = json.loads(text)["objects"]["counties"]["geometries"]
    rows = sorted((g["id"], g["properties"]["name"]) for g in geometries if g["id"][:2] in _STATE_NAMES)
    slugs: dict[str, int] = {}
    for fips, name in rows:
        key = f"{_STATE_NAMES[fips[:2]].lower()}-{_slug(name)}"
        slugs[key] = slugs.get(key, 0) + 1
    aor_of_state = {st: aor for aor, states in _AOR.items() for st in states.split()}
    aor_of_county = {f: aor for aor, fipses in _AOR_COUNTIES.items() for f in fipses.split()}
    out = []
    for fips, name in rows:
        state = _STATE_NAMES[fips[:2]]
        key = f"{state.lower()}-{_slug(name)}"
        jid = key if slugs[key] == 1 else f"{key}-{fips}"
        out.append((jid, fips, state, _display_name(name, state, fips),
                    aor_of_county.get(fips, aor_of_state[state])))
    return tuple(out)


# --- policies --------------------------------------------------------------------------------

STANCES = ("honors", "limited", "declines")
_CRITERIA = {
    ("honors", "none"): "Detainers honoured: ICE is notified of release and the person is held up to 48 hours.",
    ("honors", "287g-jem"): "287(g) jail enforcement officers screen bookings; detainers honoured.",
    ("honors", "287g-wso"): "287(g) warrant service officers serve ICE administrative warrants; detainers honoured.",
    ("honors", "287g-tfm"): "287(g) task force agreement; detainers honoured and the person held up to 48 hours.",
    ("limited", "none"): "Detainers honoured only with a judicial warrant or for listed serious offences.",
    ("declines", "none"): "Detainers are not honoured without a judicial warrant; ICE is not notified of release.",
}
# State laws that moved every county of a state (date, states, the stance they set, from which stances).
_STATE_LAWS = (
    (date(2017, 8, 28), ("IL",), "limited", ("honors",)),        # Illinois TRUST Act
    (date(2017, 9, 1), ("TX",), "honors", ("limited", "declines")),  # Texas SB4
    (date(2018, 1, 1), ("CA",), "limited", ("honors",)),         # California SB54
    (date(2019, 3, 15), ("NJ",), "limited", ("honors",)),        # NJ Immigrant Trust Directive
    (date(2019, 5, 21), ("WA",), "limited", ("honors",)),        # Keep Washington Working
    (date(2019, 7, 1), ("FL",), "honors", ("limited", "declines")),  # Florida SB168
)
_SANCTUARY = {"IL": date(2017, 8, 28), "CA": date(2018, 1, 1), "NJ": date(2019, 3, 15), "WA": date(2019, 5, 21)}
_MANDATORY = {"TX": date(2017, 9, 1), "FL": date(2019, 7, 1)}
# County-by-county change waves: (first day, last day, stance they move to).
_WAVES = (
    (date(2014, 4, 15), date(2014, 12, 31), ("limited", "declines")),  # after Miranda-Olivares (2014)
    (date(2017, 1, 25), date(2018, 6, 30), ("honors",)),               # 2017 enforcement priorities
    (date(2019, 1, 1), date(2021, 6, 30), ("limited", "declines")),
    (date(2025, 1, 20), date(2025, 8, 31), ("honors",)),               # 2025 287(g) agreements
)


def _agreement(rng: random.Random, start: date, state: str) -> str:
    if start >= date(2025, 1, 1):
        return rng.choice(("287g-tfm", "287g-tfm", "287g-jem", "287g-wso")) if rng.random() < 0.6 else "none"
    if start >= date(2017, 1, 1):
        return rng.choice(("287g-jem", "287g-wso")) if rng.random() < 0.3 else "none"
    return "287g-jem" if rng.random() < (0.08 if state in ("TX", "AZ", "NC", "GA", "FL") else 0.02) else "none"


def _policies(rng: random.Random, state: str, rank: int) -> list[tuple[date, str, str]]:
    """[(effective_from, stance, agreement)], consecutive, the first from FY2012."""
    if rank < 100:
        stance = rng.choices(STANCES, (50, 25, 25))[0]
    else:
        stance = rng.choices(STANCES, (85, 8, 7))[0]
    if state in _MANDATORY and stance != "honors" and rng.random() < 0.7:
        stance = "honors"
    periods = [(FIRST_DAY, stance, _agreement(rng, FIRST_DAY, state) if stance == "honors" else "none")]
    events: list[tuple[date, str]] = []
    changes = 1 + (rng.random() < 0.3) if rng.random() < (0.22 if rank < 100 else 0.05) else 0
    waves = sorted(rng.sample(range(len(_WAVES)), changes))
    for w in waves:
        first, last, targets = _WAVES[w]
        events.append((first + timedelta(days=rng.randrange((last - first).days + 1)), rng.choice(targets)))
    for day, states, target, sources in _STATE_LAWS:
        if state in states:
            events.append((day, "law:" + target + ":" + ",".join(sources)))
    if state == "FL" and rng.random() < 0.5 or state == "TX" and rng.random() < 0.15:  # 2025 agreements
        events.append((date(2025, 2, 1) + timedelta(days=rng.randrange(150)), "287g"))
    for day, what in sorted(events):
        current = periods[-1][1]
        if what.startswith("law:"):
            _, target, sources = what.split(":")
            if current not in sources.split(","):
                continue
        elif what == "287g":
            if current != "honors" or periods[-1][2] != "none":
                continue
            periods.append((day, "honors", "287g-tfm"))
            continue
        else:
            target = what
            if target == current:
                continue
            if target != "honors" and state in _MANDATORY and day >= _MANDATORY[state]:
                continue
            if target == "honors" and state in _SANCTUARY and day >= _SANCTUARY[state]:
                continue
        periods.append((day, target, _agreement(rng, day, state) if target == "honors" else "none"))
    return periods


# --- outcomes by stance on the release day -------------------------------------------------

OUTCOMES = ("honored", "transferred", "declined", "lifted", "cancelled")
_MIX = {"honors": (70, 8, 8, 12, 2), "limited": (25, 10, 50, 13, 2), "declines": (2, 10, 75, 12, 1)}
_MIX_CUM = {s: tuple(accumulate(w)) for s, w in _MIX.items()}
_DECLINE_REASONS = ("bond", "bond", "bond", "bond", "sentence_served", "sentence_served", "dismissed",
                    "recognizance", "recognizance", "other_release")
_LIFTED_RELEASE = ("bond", "sentence_served", "dismissed", "to_other_custody")
_LIFT_REASONS = ("Lifted", "Lifted", "Case Closed", "Prosecutorial Discretion")
_CANCEL_REASONS = ("Wrong Person", "United States Citizen Interviewed")
_BOOK_LAG = (0, 0, 0, 1, 1, 1, 2, 2, 3, 5)
_REARREST_REASONS = ("bond", "bond", "recognizance", "dismissed", "sentence_served")

# Charge-text mix by (labelled) category: what jails book people with detainers for.
_CHARGE_MIX = {
    "dui": 14, "traffic": 14, "assault": 12, "drug_possession": 10, "court_supervision": 10, "theft_fraud": 9,
    "public_order": 6, "obstruction": 5, "drug_trafficking": 5, "burglary": 3, "weapons": 3,
    "arson_property_damage": 2, "sex_offense_child": 1.5, "robbery": 1.5, "other": 1.5, "sexual_assault": 1,
    "sex_offense_other": 1, "immigration": 1, "homicide": 0.4, "kidnapping": 0.4,
}


@lru_cache(maxsize=1)
def _charge_table() -> tuple[tuple[tuple[str, str, str], ...], tuple[float, ...]]:
    text = resources.files("detainers.tables").joinpath("synthetic_charges.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    per_mix: dict[str, int] = {}
    for r in rows:
        per_mix[r["mix"]] = per_mix.get(r["mix"], 0) + 1
    items = tuple((r["description"], r["code"], r["level"]) for r in rows)
    weights = [_CHARGE_MIX.get(r["mix"], 0.5) / per_mix[r["mix"]] for r in rows]
    return items, tuple(accumulate(weights))


# ICE's most-serious-conviction wording (NCIC-style categories and 4-digit codes), for the LESA file.
_MSC = (
    ("Driving Under Influence Liquor", "5403", 14), ("Traffic Offense", "5499", 10), ("Assault", "1399", 9),
    ("Dangerous Drugs", "3599", 8), ("Larceny", "2399", 5), ("Burglary", "2299", 3),
    ("Illegal Entry (inadmissible)", "0305", 6), ("Illegal Re-Entry", "0399", 5),
    ("Cocaine - Sell", "3531", 2), ("Marijuana - Possess", "3562", 3), ("Weapon Offense", "5299", 2),
    ("Aggravated Assault - Weapon", "1315", 2), ("Robbery", "1299", 1.5), ("Fraud", "2699", 1.5),
    ("Forgery", "2589", 1), ("Obstructing Police", "4801", 1.5), ("Sex Assault - Child", "1190", 0.8),
    ("Sexual Assault", "1199", 0.6), ("Homicide", "0999", 0.3), ("Kidnapping", "1099", 0.3),
    ("Family Offense", "3899", 1.5), ("Public Order Crimes", "5399", 2), ("Stolen Vehicle", "2499", 1),
)
_MSC_CUM = tuple(accumulate(w for *_, w in _MSC))
LIFT_REASON_OF = {"honored": "Booked into Detention", "declined": "Detainer Declined by LEA",
                  "transferred": "Transferred"}
_FORM_TEXT = {"I-247": "I-247 - Immigration Detainer - Notice of Action",
              "I-247D": "I-247D - Immigration Detainer - Request for Voluntary Action",
              "I-247N": "I-247N - Request for Voluntary Notification of Release",
              "I-247A": "I-247A - Immigration Detainer - Notice of Action"}


# --- the shapes drawn once per seed ----------------------------------------------------------


@dataclass
class _County:
    jid: str
    fips: str
    state: str
    name: str
    aor: str
    rank: int
    facilities: tuple[str, ...]
    periods: list[tuple[date, str, str]]
    starts: tuple[int, ...] = ()      # day index of each period's start
    stance_of: tuple[str, ...] = ()


class _Shapes:
    """Counties, their ranks, facilities and policies, and the day table, from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        rows = us_counties()
        head = {f: i for i, f in enumerate(_HEAD)}
        # A weighted random order (Efraimidis–Spirakis) for the tail: busy states rank higher.
        keys = []
        for jid, fips, state, name, aor in rows:
            u = rng.random()
            keys.append((0, head[fips], fips) if fips in head
                        else (1, -u ** (1 / _BUSY_STATES.get(state, 1.0)), fips))
        order = sorted(range(len(rows)), key=keys.__getitem__)
        rank = {i: r for r, i in enumerate(order)}
        annexed = set(order[:15]) | set(rng.sample(order[15:400], 10))
        self.counties: list[_County] = []
        for i, (jid, fips, state, name, aor) in enumerate(rows):
            facilities = (f"{jid}-jail",) + ((f"{jid}-annex",) if i in annexed else ())
            c = _County(jid, fips, state, name, aor, rank[i], facilities, _policies(rng, state, rank[i]))
            c.starts = tuple(_index(p[0]) for p in c.periods)
            c.stance_of = tuple(p[1] for p in c.periods)
            self.counties.append(c)
        weights = [1 / (rank[i] + 6) ** 1.02 for i in range(len(rows))]
        self.county_cum = tuple(accumulate(weights))
        days = []
        for i in range(_START, _END + 1):
            d = _DAYS[i]
            days.append(FY_TREND[_fy_of(d)] * MONTH_SEASON[d.month] * WEEKDAY[d.weekday()])
        self.day_cum = tuple(accumulate(days))
        self.charges, self.charge_cum = _charge_table()


def _stance_at(c: _County, day: int) -> str:
    starts = c.starts
    k = len(starts) - 1
    while k and starts[k] > day:
        k -= 1
    return c.stance_of[k]


@dataclass(frozen=True)
class _Stay:
    """One detainer, and the booking it is on (booked < 0: no booking)."""

    county: int
    facility: str
    lodged: int
    booked: int
    released: int        # -1: still in custody on as_of
    reason: str
    outcome: str         # the outcome the lifecycle rules derive
    lifted: int          # -1: not lifted
    lift_reason: str


def _people(shapes: _Shapes, detainers: int) -> Iterator[tuple[int, str, int, str, list]]:
    """(person number, sex, birth year, citizenship, episodes) until exactly `detainers` detainers.

    An episode is a _Stay (a detainer) or ("rebooking", county, facility, booked, released, reason)."""
    rng = shapes.rng
    rand, expo = rng.random, rng.expovariate
    counties, ccum, dcum = shapes.counties, shapes.county_cum, shapes.day_cum
    ctotal, dtotal = ccum[-1], dcum[-1]
    written = person = 0
    while written < detainers:
        person += 1
        u = rand()
        wanted = 1 if u < 0.83 else 2 if u < 0.955 else 3 if u < 0.99 else 4
        wanted = min(wanted, detainers - written)
        ci = bisect(ccum, rand() * ctotal)
        lodged = _START + bisect(dcum, rand() * dtotal)
        sex = "M" if rand() < 0.88 else "F"
        birth_year = _YEAR[lodged] - int(rng.triangular(18, 64, 29))
        country = _COUNTRIES[bisect(_COUNTRY_CUM, rand() * _COUNTRY_CUM[-1])]
        episodes: list = []
        for n in range(wanted):
            if n:
                if free < 0:
                    break
                if rand() >= 0.75:
                    ci = bisect(ccum, rand() * ctotal)
                lodged = free + 14 + int(expo(1 / 300))
                if lodged > _END:
                    break
            c = counties[ci]
            facility = c.facilities[0] if len(c.facilities) == 1 or rand() < 0.7 else c.facilities[1]
            if rand() < 0.005:  # no booking at all: outcome unknown
                episodes.append(_Stay(ci, facility, lodged, -1, -1, "", "unknown", -1, ""))
                free = lodged
                written += 1
                continue
            booked = lodged - _BOOK_LAG[int(rand() * 10)]
            stay = int(expo(1 / 240)) if rand() < 0.05 else int(expo(1 / 22))
            released = lodged + stay
            lifted, lift_reason = -1, ""
            if released > _END:  # still in custody on as_of
                released, reason, outcome = -1, "", "in_custody"
                if rand() < 0.04:
                    lifted = lodged + int(rand() * (_END - lodged + 1))
                    lift_reason, outcome = _LIFT_REASONS[int(rand() * 4)], "lifted"
            else:
                stance = _stance_at(c, released)
                outcome = OUTCOMES[bisect(_MIX_CUM[stance], rand() * 100)]
                if outcome == "honored":
                    reason = "to_ice"
                elif outcome == "transferred":
                    reason = "to_other_custody"
                elif outcome == "declined":
                    reason = _DECLINE_REASONS[int(rand() * 10)]
                else:
                    reason = _LIFTED_RELEASE[int(rand() * 4)]
                    lifted = lodged + int(rand() * (stay + 1))
                    lift_reason = (_LIFT_REASONS[int(rand() * 4)] if outcome == "lifted"
                                   else _CANCEL_REASONS[int(rand() * 2)])
            episodes.append(_Stay(ci, facility, lodged, booked, released, reason, outcome, lifted, lift_reason))
            written += 1
            free = released
            if outcome == "declined" and rand() < 0.1:  # re-arrested, no new detainer
                again = released + 30 + int(expo(1 / 250))
                if again <= _END:
                    out = again + 1 + int(rand() * 30)
                    episodes.append(("rebooking", ci, facility, again, out if out <= _END else -1,
                                     _REARREST_REASONS[int(rand() * 5)]))
                    free = out if out <= _END else -1
        yield person, sex, birth_year, country, episodes


def _form(rng: random.Random, lodged: int) -> str:
    if lodged >= _I247A:
        return "I-247A"
    if lodged >= _I247D:
        return "I-247D" if rng.random() < 0.8 else "I-247N"
    return "I-247"


# --- the data package ------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalFacts:
    """What was written, for tests and for printing."""

    seed: int
    detainers: int
    rows: dict[str, int] = field(default_factory=dict, hash=False)
    jurisdictions: int = 0
    largest_jurisdiction: str = ""
    largest_share: float = 0.0
    top_percent_share: float = 0.0     # share of detainers held by the largest 1% of counties
    policy_changes: int = 0            # jurisdictions with more than one policy period
    people: int = 0
    people_with_several: int = 0       # people with more than one booking or detainer
    as_of: date = AS_OF
    synthetic: bool = True
    note: str = NOTE

    def lines(self) -> list[str]:
        written = ", ".join(f"{n.removesuffix('.csv')} {c:,}" for n, c in self.rows.items())
        return [
            self.note,
            f"{self.detainers:,} detainers lodged {FIRST_DAY} … {self.as_of} in {self.jurisdictions:,} "
            f"jurisdictions (seed {self.seed}); the largest, {self.largest_jurisdiction}, holds "
            f"{self.largest_share:.1%}, the largest 1% of counties {self.top_percent_share:.0%}.",
            f"{self.policy_changes:,} jurisdictions change policy; {self.people_with_several:,} of "
            f"{self.people:,} people have more than one booking or detainer.",
            f"Rows written: {written}.",
        ]


def _write_reference(shapes: _Shapes, writers: dict, rows: dict[str, int]) -> None:
    for c in shapes.counties:
        writers["jurisdictions.csv"].writerow((c.jid, c.name, c.state, "county", c.fips, "", c.aor))
        for k, facility in enumerate(c.facilities):
            label = "Jail" if k == 0 else "Jail Annex"
            writers["facilities.csv"].writerow((facility, f"{c.name} {label}", c.jid, "county_jail", "", c.state))
        for k, (start, stance, agreement) in enumerate(c.periods):
            end = c.periods[k + 1][0].isoformat() if k + 1 < len(c.periods) else ""
            writers["policies.csv"].writerow((c.jid, start.isoformat(), end, stance, agreement,
                                              _CRITERIA.get((stance, agreement), _CRITERIA[("honors", "none")]),
                                              SOURCE))
        writers["regions.csv"].writerow((c.aor, c.jid))
        rows["jurisdictions.csv"] += 1
        rows["facilities.csv"] += len(c.facilities)
        rows["policies.csv"] += len(c.periods)
        rows["regions.csv"] += 1


def write_national_package(directory: Path, *, detainers: int, seed: int = 2012, part: int = 1) -> NationalFacts:
    """Write a SYNTHETIC national data package with exactly `detainers` detainers into `directory`.

    `part` > 1 writes another batch of people over the same counties and policies (the same seed
    gives the same reference files) with ids of their own, so that several parts imported one after
    the other make a larger database than one package could be read into memory for.
    """
    if detainers < 1:
        raise ValueError("detainers must be at least 1")
    if part < 1:
        raise ValueError("part must be at least 1")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shapes = _Shapes(seed)
    rng = shapes.rng
    rand = rng.random
    rows = dict.fromkeys(COLUMNS, 0)
    files = {name: open(directory / name, "w", encoding="utf-8", newline="") for name in COLUMNS}
    try:
        writers = {name: csv.writer(fh, lineterminator="\n") for name, fh in files.items()}
        for name, columns in COLUMNS.items():
            writers[name].writerow(columns)
        _write_reference(shapes, writers, rows)
        tag = ""
        if part > 1:  # the same counties and policies; other people
            rng.seed(seed * 1_000 + part)
            tag = f"{part}-"
        person_row, booking_row = writers["people.csv"].writerow, writers["bookings.csv"].writerow
        charge_row, detainer_row = writers["charges.csv"].writerow, writers["detainers.csv"].writerow
        charges, charge_cum = shapes.charges, shapes.charge_cum
        charge_total = charge_cum[-1]
        counties = shapes.counties
        per_county = [0] * len(counties)
        name_offset = rng.randrange(_NAME_BLOCK)
        people = several = bookings = charge_count = 0

        def book(bid: str, pid: str, facility: str, booked: int, released: int, reason: str) -> None:
            nonlocal charge_count
            booking_row((bid, pid, facility, _ISO[booked], _ISO[released] if released >= 0 else "",
                         reason if released >= 0 else ""))
            if reason == "dismissed":
                stage = "dismissed"
            elif reason == "sentence_served":
                stage = "convicted"
            else:
                stage = "pending" if rand() < 0.93 else "unknown"
            u = rand()
            for k in range(1 if u < 0.55 else 2 if u < 0.85 else 3):
                text, code, level = charges[bisect(charge_cum, rand() * charge_total)]
                charge_row((f"{bid}-c{k + 1}", bid, text, code, level, stage, ""))
                charge_count += 1

        for person, sex, birth_year, country, episodes in _people(shapes, detainers):
            pid = f"p-{tag}{person:07d}"
            born = date(birth_year, 1, 1) + timedelta(days=int(rand() * 365))
            person_row((pid, birth_year, sex, country, _name(sex, person + name_offset), born.isoformat()))
            people += 1
            several += len(episodes) > 1
            nb = nd = 0
            for e in episodes:
                if type(e) is tuple:  # a re-booking without a detainer
                    nb += 1
                    _, ci, facility, booked, released, reason = e
                    book(f"b-{tag}{person:07d}-{nb}", pid, facility, booked, released, reason)
                    continue
                nd += 1
                per_county[e.county] += 1
                bid = ""
                if e.booked >= 0:
                    nb += 1
                    bid = f"b-{tag}{person:07d}-{nb}"
                    book(bid, pid, e.facility, e.booked, e.released, e.reason)
                claim = e.outcome if rand() < 0.04 else ""
                link = bid if rand() >= 0.03 else ""  # a few leave the booking to be matched by date
                detainer_row((f"d-{tag}{person:07d}-{nd}", pid, e.facility, _ISO[e.lodged], link,
                              _form(rng, e.lodged), _ISO[e.lifted] if e.lifted >= 0 else "", e.lift_reason,
                              claim))
            bookings += nb
        rows["people.csv"] = people + rows["people.csv"]
        rows["bookings.csv"] += bookings
        rows["charges.csv"] += charge_count
        rows["detainers.csv"] += detainers
    finally:
        for fh in files.values():
            fh.close()
    _write_metadata(directory, seed, detainers, part)
    largest = max(range(len(counties)), key=per_county.__getitem__)
    top = sorted(per_county, reverse=True)[:max(1, len(counties) // 100)]
    return NationalFacts(
        seed=seed, detainers=detainers, rows=rows, jurisdictions=len(counties),
        largest_jurisdiction=counties[largest].jid, largest_share=per_county[largest] / detainers,
        top_percent_share=sum(top) / detainers,
        policy_changes=sum(len(c.periods) > 1 for c in counties), people=people,
        people_with_several=several)


def _write_metadata(directory: Path, seed: int, detainers: int, part: int = 1) -> None:
    description = (f"{NOTE}. Generated for benchmarks by `detainers synthetic`: real U.S. county names and "
                   "FIPS codes; invented policies, people, bookings, charges and detainers (FY2012–FY2025).")
    lines = [
        f"# {NOTE}",
        "synthetic = true",
        f"title = {_toml(f'SYNTHETIC national detainer data: {detainers:,} detainers, seed {seed}' + (f', part {part}' if part > 1 else ''))}",
        f"description = {_toml(description)}",
        f"seed = {seed}",
        f"detainers = {detainers}",
        *([f"part = {part}"] if part > 1 else []),
        f'as_of = "{AS_OF.isoformat()}"',
        'generated_by = "detainers synthetic"',
    ]
    (directory / "package.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- the ICE ERO-LESA release ----------------------------------------------------------------

LESA_HEADER = [
    "Detainer Prepare Date", "Facility State", "Facility AOR", "Port of Departure", "Departure Country",
    "Departed Date", "Case Status", "Detainer Prepared Criminality", "Detention Facility",
    "Detention Facility Code", "Facility City", "Detainer Prep Threat Level", "Gender", "Citizenship Country",
    "Birth Country", "Birth Date", "Birth Year", "Entry Status", "Most Serious Conviction (MSC) Charge",
    "MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years", "MSC Charge Code", "MSC Charge Date",
    "MSC Conviction Date", "Felon", "Processing Disposition", "Case Category", "Final Program",
    "Time of Apprehension Case Category", "Time of Apprehension Current Program", "Apprehension Method",
    "Case Final Order Yes No", "Final Order Date", "Apprehension Date", "Entry Date", "Prior Felony Yes No",
    "Multiple Prior MISD Yes No", "Violent Misdemeanor Yes No", "Illegal Entry Yes No",
    "Illegal Reentry Yes No", "Immigration Fraud Yes No", "Significant Risk Yes No",
    "Other Removal Reason Yes No", "Other Removal Reason", "Criminal Street Gang Yes No",
    "Aggravated Felony Yes No", "Deportation Ordered Yes No", "Order to Show Cause Served Yes No",
    "Order to Show Cause Served Date", "Biometric Match Yes No", "Statements Made Yes No",
    "Unlawful Attempt Yes No", "Unlawful Entry Yes No", "Visa Yes No", "Final Order Yes No",
    "Federal Interest Yes No", "Resume Custody Yes No", "Detainer Lift Reason", "Detainer Type",
    "Alien File Number", "EID Case ID", "EID Subject ID", "EID DTA ID", "Unique Identifier"]
REDACTED = "(b)(6), (b)(7)(c)"
LESA_TITLE = ["U.S. Immigration and Customs Enforcement", "SYNTHETIC RELEASE — every row is invented", "",
              "Note: fields exempt from disclosure are shown as (b)(6), (b)(7)(c)"]
LESA_FOOTER = "Source: SYNTHETIC data made by the detainers national generator; not an ICE release."
_CRIMINALITY = ("1 Convicted Criminal", "2 Pending Criminal Charges", "3 Other Immigration Violator")
_THREAT = ("1", "2", "3", "", "")
_US_DATE = [f"{d.month:02d}/{d.day:02d}/{d.year}" for d in _DAYS]


def _facility_codes(counties: list[_County]) -> dict[str, str]:
    """ICE-style 7-character facility codes ('MECKLNC'), made unique by a digit where needed."""
    codes: dict[str, str] = {}
    used: set[str] = set()
    for c in counties:
        letters = "".join(ch for ch in _ascii(c.name.rsplit(" ", 1)[0]).upper() if ch.isalpha())[:5].ljust(5, "X")
        for k, facility in enumerate(c.facilities):
            tail = c.state + ("A" if k else "")
            code, n = letters + tail, 1
            while code in used:
                n += 1
                code = f"{letters[:4]}{n}{tail}" if n < 10 else f"{letters[:3]}{n}{tail}"
            used.add(code)
            codes[facility] = code
    return codes


def lesa_rows(detainers: int, seed: int = 2012, *, excel: bool = False) -> Iterator[list]:
    """The data rows of a SYNTHETIC ERO-LESA release; `excel=True` gives datetimes for a workbook."""
    return _lesa_rows(detainers, seed, excel=excel)


def _safe(text: str) -> bool:
    return not any(ch in text for ch in ',"\r\n')


def _lesa_rows(detainers: int, seed: int, *, excel: bool = False, csv_ready: bool = False) -> Iterator[list]:
    """`csv_ready`: every cell a string that needs no quoting (REDACTED comes quoted), to be joined by commas."""
    from datetime import datetime

    shapes = _Shapes(seed)
    rng, counties = shapes.rng, shapes.counties
    rand = rng.random
    codes = _facility_codes(counties)
    index = {h: i for i, h in enumerate(LESA_HEADER)}
    c_date, c_state, c_aor, c_crim, c_fac, c_code, c_city, c_threat, c_gender, c_cit, c_bdate, c_byear, \
        c_msc, c_msc_code, c_lift, c_type, c_uid = (index[h] for h in (
            "Detainer Prepare Date", "Facility State", "Facility AOR", "Detainer Prepared Criminality",
            "Detention Facility", "Detention Facility Code", "Facility City", "Detainer Prep Threat Level",
            "Gender", "Citizenship Country", "Birth Date", "Birth Year", "Most Serious Conviction (MSC) Charge",
            "MSC Charge Code", "Detainer Lift Reason", "Detainer Type", "Unique Identifier"))
    redacted_cols = [index[h] for h in ("Birth Date", "Alien File Number", "EID Case ID", "EID Subject ID",
                                        "EID DTA ID")]
    places = {}
    for c in counties:
        for facility in c.facilities:
            places[facility] = (_FULL_STATE[c.state], f"{c.aor} Area of Responsibility",
                                f"{c.name} {'JAIL' if facility.endswith('-jail') else 'JAIL ANNEX'}".upper(),
                                codes[facility], c.name.rsplit(" ", 1)[0].upper())
    template = [""] * len(LESA_HEADER)
    for i in redacted_cols:
        template[i] = f'"{REDACTED}"' if csv_ready else REDACTED
    if csv_ready:  # every text that can reach a cell: none needs quoting
        texts = [t for place in places.values() for t in place] + [c.upper() for c in _COUNTRIES] + \
            [t for t, *_ in _MSC] + list(_CRIMINALITY) + list(_FORM_TEXT.values()) + \
            list(LIFT_REASON_OF.values()) + list(_LIFT_REASONS) + list(_CANCEL_REASONS)
        if not all(_safe(t) for t in texts):
            raise RuntimeError("a LESA cell text needs CSV quoting; write it with csv.writer")
    hhmm = [f" {m // 60:02d}:{m % 60:02d}" for m in range(1440)]
    midnight = datetime.min.time()
    for person, sex, birth_year, country, episodes in _people(shapes, detainers):
        uid = f"{(person * 2654435761) % (1 << 40):010x}"  # odd multiplier: a bijection on 40 bits
        gender = "Male" if sex == "M" else "Female"
        citizenship = country.upper()
        for e in episodes:
            if type(e) is tuple:
                continue
            row = template.copy()
            minute = int(rand() * 1440)
            if excel:
                row[c_date] = datetime.combine(_DAYS[e.lodged], midnight) + timedelta(minutes=minute)
            else:
                row[c_date] = _US_DATE[e.lodged] + hhmm[minute]
            row[c_state], row[c_aor], row[c_fac], row[c_code], row[c_city] = places[e.facility]
            row[c_threat] = _THREAT[int(rand() * 5)]
            row[c_gender] = gender
            row[c_cit] = citizenship
            row[c_byear] = str(birth_year) if csv_ready else birth_year
            if rand() < 0.55:
                row[c_crim] = _CRIMINALITY[0]
                text, code, _ = _MSC[bisect(_MSC_CUM, rand() * _MSC_CUM[-1])]
                row[c_msc], row[c_msc_code] = text, code
            else:
                row[c_crim] = _CRIMINALITY[1] if rand() < 0.75 else _CRIMINALITY[2]
            row[c_lift] = LIFT_REASON_OF.get(e.outcome, e.lift_reason)
            row[c_type] = _FORM_TEXT[_form(rng, e.lodged)]
            row[c_uid] = uid
            yield row


def write_national_lesa(path: Path, *, detainers: int, seed: int = 2012) -> int:
    """Write a SYNTHETIC ICE ERO-LESA release (CSV) with `detainers` rows; return the rows written."""
    if detainers < 1:
        raise ValueError("detainers must be at least 1")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle, lineterminator="\r\n")
        for t in LESA_TITLE:
            w.writerow([t])
        w.writerow(LESA_HEADER)
        write = handle.write
        for row in _lesa_rows(detainers, seed, csv_ready=True):  # joined: 5x faster than csv.writer
            write(",".join(row) + "\r\n")
            written += 1
        w.writerow([])
        w.writerow([LESA_FOOTER])
    return written


def parse_size(text: str | int) -> int:
    """'100k' → 100000, '1M' → 1000000, '5m' → 5000000, '2500' → 2500, '1_000' → 1000."""
    if isinstance(text, int):
        return text
    raw = text.strip().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(raw[-1:].lower(), 1)
    number = raw[:-1] if factor > 1 else raw
    try:
        value = float(number) * factor if "." in number else int(number) * factor
    except ValueError:
        raise ValueError(f"{text!r} is not a size (expected a number such as 3000, 100k or 1M)") from None
    if value != int(value) or value < 1:
        raise ValueError(f"{text!r} is not a size (expected a whole number of at least 1, such as 100k)")
    return int(value)
