"""The labelled SYNTHETIC demo scenario, written as a canonical data package (DESIGN §5).

Every record is invented. The scenario is built so that two public statements
can be reproduced and checked (DESIGN §1):

* ICE, Nov 2019: 25 people with an active detainer in the Wake County, NC jail,
  11 of them charged with sexual offences against children -> as of 2019-11-01.
* ICE: 691 transfers to ERO custody in the Raleigh-Durham area in FY2017
  -> 691 `honored` detainers whose booking ended in FY2017.

Around those numbers sit the traps the government's suspended reports fell
into: two Franklin Counties (NC limits, OH honours), transfers that are not
declines, declines attributed at the release date rather than the lodge date,
pending charges next to convictions, detainers lifted while the person is
still held, people re-arrested after a declined release. Each trap is one named
person (`p-wake-edge-…`, `p-rdu-edge-…`, `p-nomatch-…`), documented where it is
written below. Bulk rows ("cohorts") are ids `p-<jurisdiction>-NNNNN`.

`scale=N` appends about N detainers in ~100 synthetic counties
(`tx-syn001` …) for load tests; they never touch the scenario's jurisdictions.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from bisect import bisect
from itertools import accumulate
from datetime import date, timedelta
from pathlib import Path

__all__ = ["SYNTHETIC_NOTE", "DemoFacts", "write_demo_package", "COLUMNS", "CHILD_SEX_CHARGES"]

SYNTHETIC_NOTE = "SYNTHETIC DEMO DATA — invented records, not real people or real counts"
AS_OF = date(2019, 11, 1)
REGION = "Raleigh-Durham"
WAKE, WAKE_JAIL = "nc-wake", "nc-wake-jail"
ICE_FACILITY, STATE_PRISON = "us-ice-processing", "nc-state-prison"
SOURCE = "Synthetic demo policy record"

COLUMNS: dict[str, tuple[str, ...]] = {
    "jurisdictions.csv": ("jurisdiction_id", "name", "state", "kind", "fips", "ori", "aor"),
    "policies.csv": ("jurisdiction_id", "effective_from", "effective_to", "stance", "agreement",
                     "criteria", "source"),
    "facilities.csv": ("facility_id", "name", "jurisdiction_id", "kind", "city", "state"),
    "people.csv": ("person_id", "birth_year", "sex", "citizenship", "name", "date_of_birth"),
    "bookings.csv": ("booking_id", "person_id", "facility_id", "booked_on", "released_on",
                     "release_reason"),
    "charges.csv": ("charge_id", "booking_id", "description", "code", "level", "stage", "category"),
    "detainers.csv": ("detainer_id", "person_id", "facility_id", "lodged_on", "booking_id", "form",
                      "lifted_on", "lift_reason", "outcome"),
    "regions.csv": ("region", "jurisdiction_id"),
}

CHILD_SEX_CHARGES = (
    "INDECENT LIBERTIES WITH CHILD", "STAT SEX OFFENSE W/CHILD <=15",
    "FIRST DEGREE SEX OFFENSE WITH CHILD", "STATUTORY RAPE OF CHILD <=15",
    "AGG SEXUAL ASSLT CHILD", "SEX ASSAULT - CHILD", "POSS CHILD PORNOGRAPHY",
)


@dataclass(frozen=True)
class DemoFacts:
    """The numbers the scenario was built to produce, for tests and for printing."""

    seed: int
    scale: int
    rows: dict[str, int] = field(default_factory=dict, hash=False)
    as_of: date = AS_OF
    wake_jurisdiction_id: str = WAKE
    wake_facility_id: str = WAKE_JAIL
    wake_policy_changed_on: date = date(2018, 12, 3)
    wake_held: int = 25
    wake_held_child_sex: int = 11
    region: str = REGION
    region_fy2017_honored: int = 691
    synthetic: bool = True
    note: str = SYNTHETIC_NOTE

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line, led by the synthetic label."""
        written = ", ".join(f"{n.removesuffix('.csv')} {c:,}" for n, c in self.rows.items())
        return [
            self.note,
            f"As of {self.as_of}: {self.wake_held} people with an active detainer in the Wake "
            f"County jail ({self.wake_facility_id}), {self.wake_held_child_sex} charged with a sexual "
            "offence against a child.",
            f"FY2017: {self.region_fy2017_honored} detainers honored (released to ICE) in the "
            f"{self.region} region.",
            f"Rows written: {written}.",
        ]


# --- reference tables: who, which policy, which facility --------------------------------

# (id, name, state, kind, fips, aor). The federal jurisdiction uses state "DC" (the
# seat of DHS) because the state column must hold a postal code.
_JURISDICTIONS = (
    ("nc-durham", "Durham County", "NC", "county", "37063", "Atlanta"),
    ("nc-franklin", "Franklin County", "NC", "county", "37069", "Atlanta"),
    ("nc-johnston", "Johnston County", "NC", "county", "37101", "Atlanta"),
    ("nc-mecklenburg", "Mecklenburg County", "NC", "county", "37119", "Atlanta"),
    ("nc-orange", "Orange County", "NC", "county", "37135", "Atlanta"),
    ("nc-state", "State of North Carolina", "NC", "state", "", "Atlanta"),
    ("nc-wake", "Wake County", "NC", "county", "37183", "Atlanta"),
    ("oh-franklin", "Franklin County", "OH", "county", "39049", "Detroit"),
    ("tx-harris", "Harris County", "TX", "county", "48201", "Houston"),
    ("us-ice", "U.S. Immigration and Customs Enforcement", "DC", "federal", "", ""),
)

_HOLD = "Detainers honoured: ICE is notified of release and the person is held up to 48 hours."
_287G = "287(g) jail enforcement officers screen bookings; detainers honoured and the person held up to 48 hours."
_NO_WARRANT = "Detainers are not honoured without a judicial warrant; ICE is not notified of release."
# (jurisdiction, from, to, stance, agreement, criteria): intervals are [from, to).
_POLICIES = (
    ("nc-durham", "2012-01-01", "", "limited", "none",
     "Detainers honoured only when accompanied by a judicial warrant or court order."),
    ("nc-franklin", "2012-01-01", "", "limited", "none",
     "ICE is notified of the release date; no hold beyond local charges without a judicial warrant."),
    ("nc-johnston", "2012-01-01", "", "honors", "none", _HOLD),
    ("nc-mecklenburg", "2006-02-27", "2018-12-05", "honors", "287g-jem",
     _287G),
    ("nc-mecklenburg", "2018-12-05", "", "declines", "none", _NO_WARRANT),
    ("nc-orange", "2015-01-01", "", "declines", "none",
     "Detainers are not honoured; people are released when local charges allow."),
    ("nc-state", "2008-01-01", "", "honors", "none", _HOLD),
    ("nc-wake", "2008-06-01", "2018-12-03", "honors", "287g-jem",
     _287G),
    ("nc-wake", "2018-12-03", "", "declines", "none", _NO_WARRANT),
    ("oh-franklin", "2012-01-01", "", "honors", "none", _HOLD),
    ("tx-harris", "2008-07-01", "2017-02-21", "honors", "287g-jem",
     _287G),
    ("tx-harris", "2017-02-21", "", "honors", "none", _HOLD),
)

# (facility_id, name, jurisdiction, kind, city, state)
_FACILITIES = (
    ("nc-durham-jail", "Durham County Detention Facility", "nc-durham", "county_jail", "Durham", "NC"),
    ("nc-franklin-jail", "Franklin County Detention Center", "nc-franklin", "county_jail", "Louisburg", "NC"),
    ("nc-johnston-jail", "Johnston County Detention Center", "nc-johnston", "county_jail", "Smithfield", "NC"),
    ("nc-mecklenburg-jail", "Mecklenburg County Detention Center", "nc-mecklenburg", "county_jail",
     "Charlotte", "NC"),
    ("nc-orange-jail", "Orange County Detention Center", "nc-orange", "county_jail", "Hillsborough", "NC"),
    (STATE_PRISON, "NC Department of Adult Correction", "nc-state", "state_prison", "Raleigh", "NC"),
    (WAKE_JAIL, "Wake County Detention Center", "nc-wake", "county_jail", "Raleigh", "NC"),
    ("oh-franklin-jail", "Franklin County Corrections Center", "oh-franklin", "county_jail", "Columbus", "OH"),
    ("tx-harris-jail", "Harris County Jail", "tx-harris", "county_jail", "Houston", "TX"),
    (ICE_FACILITY, "ICE Processing Center (synthetic)", "us-ice", "ice_detention", "", ""),
)

_REGIONS = (
    ("Charlotte", "nc-mecklenburg"),
    (REGION, "nc-durham"), (REGION, "nc-franklin"), (REGION, "nc-johnston"),
    (REGION, "nc-orange"), (REGION, "nc-wake"),
)


# --- invented people --------------------------------------------------------------------

_GIVEN = {
    "M": ("Teodoro", "Rigoberto", "Abelardo", "Eusebio", "Florentino", "Baltazar", "Evaristo",
          "Leocadio", "Casimiro", "Heriberto", "Prudencio", "Sigifredo", "Devendra", "Rakesh",
          "Anselmo", "Fortunato", "Osvaldo", "Wilfredo", "Ezequiel", "Gumersindo", "Nahuel",
          "Crisanto", "Efrain", "Lisandro"),
    "F": ("Marisol", "Anselma", "Yesenia", "Graciela", "Xiomara", "Itzel", "Dolores", "Nayeli",
          "Araceli", "Zenaida", "Odalys", "Maricela", "Priyanka", "Anjali", "Leticia", "Rosaura",
          "Eufemia", "Brisela", "Yadira", "Clemencia", "Fabiola", "Ximena", "Perpetua", "Ofelia"),
}
_SYL = (
    ("Quen", "Vard", "Zel", "Bram", "Ors", "Tev", "Kal", "Mir", "Dov", "Jast", "Fen", "Lor",
     "Gav", "Sorv", "Rin", "Huld", "Pesc", "Wen", "Yarr", "Corv", "Nev", "Tamb", "Ulv", "Xan"),
    ("te", "ri", "a", "o", "e", "is", "ul", "en", "ar", "ol", "i", "u", "am", "es", "ov", "an",
     "el", "ir", "os", "ad"),
    ("va", "lo", "zar", "nte", "mek", "dra", "sko", "quez", "tine", "rra", "vik", "ndo", "sel",
     "ga", "rio", "ssa", "von", "ret", "lla", "nez"),
)
_SURNAMES = len(_SYL[0]) * len(_SYL[1]) * len(_SYL[2])
_NAME_BLOCK = len(_GIVEN["M"]) * _SURNAMES
_NAME_STRIDE = 7919  # a prime that does not divide _NAME_BLOCK, so i -> i*stride is a bijection
_CITIZENSHIP = (("Mexico", 52), ("Guatemala", 13), ("Honduras", 12), ("El Salvador", 8),
                ("India", 2), ("Dominican Republic", 2), ("Colombia", 2), ("Venezuela", 2),
                ("Ecuador", 2), ("Cuba", 1), ("Jamaica", 1), ("Vietnam", 1), ("China", 1),
                ("Nigeria", 1))
_COUNTRIES = tuple(c for c, _ in _CITIZENSHIP)
_COUNTRY_CUM = tuple(accumulate(w for _, w in _CITIZENSHIP))


def _surname(index: int) -> str:
    a, rest = divmod(index, len(_SYL[1]) * len(_SYL[2]))
    b, c = divmod(rest, len(_SYL[2]))
    return _SYL[0][a] + _SYL[1][b] + _SYL[2][c]


def _name(sex: str, index: int) -> str:
    """The index-th invented name: distinct indices give distinct names."""
    block, r = divmod(index, _NAME_BLOCK)
    r = (r * _NAME_STRIDE) % _NAME_BLOCK
    given, surname = divmod(r, _SURNAMES)
    full = f"{_GIVEN[sex][given]} {_surname(surname)}"
    # Beyond one block a second (hyphenated) surname keeps every name distinct.
    return full if block == 0 else f"{full}-{_surname((block - 1) % _SURNAMES)}"


# --- charges ----------------------------------------------------------------------------

F, M, I, U = "felony", "misdemeanor", "infraction", "unknown"
# Everyday jail texts, mixed NC and TX abbreviations, for the classifier to read.
_CHARGE_TEXTS = (
    ("DWI", M, 10), ("DRIVING WHILE LICENSE REVOKED", M, 7), ("NO OPERATORS LICENSE", M, 6),
    ("LARCENY", M, 6), ("FELONY LARCENY", F, 2), ("BREAKING AND ENTERING", F, 3),
    ("ASSAULT ON FEMALE", M, 5), ("ASSAULT BY STRANGULATION", F, 1),
    ("AGG ASSAULT W/DEADLY WEAPON", F, 2), ("COMMUNICATING THREATS", M, 2),
    ("POSS MARIJ <0.5OZ", M, 4), ("POSS MARIJ <2OZ", M, 3), ("POSS COCAINE", F, 2),
    ("PWISD COCAINE", F, 2), ("TRAFFICKING COCAINE", F, 1), ("MAN DEL CS PG 1 >=4G<200G", F, 1),
    ("FAILURE TO APPEAR", M, 6), ("PROBATION VIOLATION", U, 3), ("RESIST PUBLIC OFFICER", M, 3),
    ("EVADING ARREST DET W/VEH", F, 1), ("INJURY TO PERSONAL PROPERTY", M, 1),
    ("IDENTITY THEFT", F, 1), ("OBTAIN PROPERTY FALSE PRETENSE", F, 1),
    ("THEFT PROP >=$100<$750", M, 2), ("BURGLARY OF HABITATION", F, 1),
    ("ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)", M, 2), ("DWI 3RD OR MORE", F, 1),
    ("ROBBERY WITH DANGEROUS WEAPON", F, 1), ("CARRYING CONCEALED WEAPON", M, 1),
    ("SECOND DEGREE TRESPASS", M, 1), ("PUBLIC INTOXICATION", M, 1),
    ("VIOLATE DV PROTECTIVE ORDER", M, 1), ("HIT AND RUN LEAVE SCENE PROP DAMAGE", M, 1),
    ("SPEEDING", I, 1), ("ILLEGAL RE-ENTRY", F, 1), ("ICE HOLD", U, 1),
    ("INDECENT LIBERTIES WITH CHILD", F, 1), ("SEX ASSAULT - CHILD", F, 1),
    ("SECOND DEGREE FORCIBLE RAPE", F, 1), ("FIRST DEGREE MURDER", F, 1),
)
_CHARGE_CUM = tuple(accumulate(w for _, _, w in _CHARGE_TEXTS))

_DECLINE_REASONS = ("bond", "bond", "bond", "bond", "sentence_served", "sentence_served",
                    "dismissed", "recognizance", "recognizance", "other_release")
_LIFT_REASONS = ("Lifted", "Lifted", "Case Closed", "Prosecutorial Discretion")
_CANCEL_REASONS = ("Wrong Person", "United States Citizen Interviewed")
_CLAIM = {"to_ice": "honored", "to_other_custody": "transferred"}


def _pick(rng: random.Random, items: Sequence, cum: Sequence[float]):
    """Weighted choice from cumulative weights (random.choices without its per-call overhead)."""
    return items[bisect(cum, rng.random() * cum[-1])]


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _fy(year: int) -> tuple[date, date]:
    """Federal fiscal year `year`: 1 October of the year before to 30 September."""
    return date(year - 1, 10, 1), date(year, 9, 30)


class _PackageWriter:
    """One csv writer per file, all open together so rows can be streamed in any order."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.rows = dict.fromkeys(COLUMNS, 0)
        self._files = {name: open(directory / name, "w", encoding="utf-8", newline="")
                       for name in COLUMNS}
        self._writers = {name: csv.writer(fh, lineterminator="\n") for name, fh in self._files.items()}
        for name, columns in COLUMNS.items():
            self._writers[name].writerow(columns)

    def write(self, name: str, row: Sequence[object]) -> None:
        self._writers[name].writerow(row)
        self.rows[name] += 1

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


class _Records:
    """Writes people, bookings, charges and detainers with consistent ids and dates."""

    def __init__(self, out: _PackageWriter, rng: random.Random) -> None:
        self.out, self.rng = out, rng
        self._names = 0
        self._name_offset = rng.randrange(_NAME_BLOCK)  # the seed changes who is called what
        self._serial = 0

    def key(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial:05d}"

    def person(self, key: str, year: int, sex: str | None = None) -> str:
        rng = self.rng
        sex = sex or ("M" if rng.random() < 0.88 else "F")
        birth_year = year - int(rng.triangular(18, 64, 29))
        born = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        country = _pick(rng, _COUNTRIES, _COUNTRY_CUM)
        name = _name(sex, self._names + self._name_offset)
        self._names += 1
        pid = f"p-{key}"
        self.out.write("people.csv", (pid, birth_year, sex, country, name, _iso(born)))
        return pid

    def booking(self, pid: str, facility: str, no: int, booked: date,
                released: date | None = None, reason: str = "") -> str:
        bid = f"b-{pid[2:]}-{no}"
        self.out.write("bookings.csv", (bid, pid, facility, _iso(booked), _iso(released),
                                        reason if released else ""))
        return bid

    def charges(self, bid: str, charges: Sequence[tuple[str, str, str]]) -> None:
        for n, (text, level, stage) in enumerate(charges, 1):
            self.out.write("charges.csv", (f"{bid}-c{n}", bid, text, "", level, stage, ""))

    def random_charges(self, reason: str = "") -> list[tuple[str, str, str]]:
        rng = self.rng
        count = _pick(rng, (1, 2, 3), (60, 90, 100))
        picked = [_pick(rng, _CHARGE_TEXTS, _CHARGE_CUM) for _ in range(count)]
        if reason == "dismissed":
            stage = "dismissed"
        elif reason == "sentence_served":
            stage = "convicted"
        else:
            stage = "pending" if rng.random() < 0.93 else "unknown"
        return [(text, level, stage) for text, level, _ in picked]

    def form(self, lodged: date) -> str:
        if lodged >= date(2017, 4, 2):
            return "I-247A"
        if lodged >= date(2015, 6, 1):
            return "I-247D" if self.rng.random() < 0.8 else "I-247N"
        return "I-247"

    def detainer(self, pid: str, facility: str, no: int, lodged: date, bid: str = "",
                 lifted: date | None = None, lift_reason: str = "", claim: str = "") -> None:
        self.out.write("detainers.csv", (f"d-{pid[2:]}-{no}", pid, facility, _iso(lodged), bid,
                                         self.form(lodged), _iso(lifted), lift_reason, claim))

    def case(self, key: str, facility: str, *, booked: date, lodged: date,
             released: date | None = None, reason: str = "", charges=None, lifted: date | None = None,
             lift_reason: str = "", claim: str = "", link: str = "id", sex: str | None = None) -> str:
        """One person, one booking with charges, one detainer. link="match": booking_id left
        blank, the importer must find the booking that contains lodged_on."""
        pid = self.person(key, lodged.year, sex)
        bid = self.booking(pid, facility, 1, booked, released, reason)
        self.charges(bid, charges if charges is not None else self.random_charges(reason))
        self.detainer(pid, facility, 1, lodged, bid if link == "id" else "", lifted, lift_reason, claim)
        return pid


# --- the scenario: Wake County on 2019-11-01 ---------------------------------------------

# (n, charges as (text, level, stage), lodged_on). 01, 03, 04, 12, 13, 18 were lodged before
# 2018-12-03, while Wake still honoured detainers under 287(g), and are still held.
_WAKE_HELD = (
    (1, [("INDECENT LIBERTIES WITH CHILD", F, "convicted")], "2017-08-14"),
    (2, [("STAT SEX OFFENSE W/CHILD <=15", F, "pending"), ("FAILURE TO APPEAR", M, "pending")], "2019-02-11"),
    (3, [("FIRST DEGREE SEX OFFENSE WITH CHILD", F, "pending")], "2018-05-09"),
    (4, [("STATUTORY RAPE OF CHILD <=15", F, "convicted")], "2018-02-20"),
    (5, [("AGG SEXUAL ASSLT CHILD", F, "pending")], "2018-12-17"),
    (6, [("SEX ASSAULT - CHILD", F, "pending")], "2019-04-02"),
    (7, [("POSS CHILD PORNOGRAPHY", F, "convicted")], "2019-05-21"),
    (8, [("INDECENT LIBERTIES WITH CHILD", F, "pending"),
         ("STAT SEX OFFENSE W/CHILD <=15", F, "pending")], "2019-06-10"),
    (9, [("FIRST DEGREE SEX OFFENSE WITH CHILD", F, "pending"), ("ASSAULT ON FEMALE", M, "pending")],
     "2019-07-08"),
    (10, [("INDECENT LIBERTIES WITH CHILD", F, "pending")], "2019-08-19"),
    (11, [("POSS CHILD PORNOGRAPHY", F, "pending"), ("LARCENY", M, "pending")], "2019-09-30"),
    (12, [("FIRST DEGREE MURDER", F, "pending")], "2018-07-30"),
    (13, [("SECOND DEGREE FORCIBLE RAPE", F, "pending")], "2018-10-02"),
    (14, [("TRAFFICKING COCAINE", F, "pending"), ("PWISD COCAINE", F, "pending")], "2019-01-22"),
    (15, [("PWISD COCAINE", F, "convicted")], "2019-03-18"),
    (16, [("ASSAULT ON FEMALE", M, "pending")], "2019-05-06"),
    (17, [("AGG ASSAULT W/DEADLY WEAPON", F, "pending")], "2019-06-24"),
    (18, [("ROBBERY WITH DANGEROUS WEAPON", F, "pending")], "2018-11-26"),
    (19, [("ARMED ROBBERY", F, "pending"), ("FAILURE TO APPEAR", M, "pending")], "2019-07-29"),
    (20, [("DWI", M, "pending")], "2019-09-03"),
    (21, [("LARCENY", M, "pending"), ("BREAKING AND ENTERING", F, "pending")], "2019-09-16"),
    (22, [("BREAKING AND ENTERING", F, "pending")], "2019-10-07"),
    (23, [("FAILURE TO APPEAR", M, "pending")], "2019-10-14"),
    (24, [("DWI", M, "convicted"), ("FAILURE TO APPEAR", M, "pending")], "2019-10-21"),
    (25, [("AGG ASSAULT W/DEADLY WEAPON", F, "pending"), ("ASSAULT ON FEMALE", M, "pending")],
     "2019-11-01"),
)


def _wake_held(rec: _Records) -> None:
    """The 25 people the Nov 2019 report is about; each variation below still counts."""
    for n, charges, lodged_text in _WAKE_HELD:
        lodged = _d(lodged_text)
        booked = lodged - timedelta(days=(0, 1, 2, 5)[n % 4])
        released, reason, lifted, lift_reason, link = None, "", None, "", "id"
        if n == 24:  # released the day AFTER as_of: still held on 2019-11-01
            released, reason = _d("2019-11-02"), "bond"
        if n == 23:  # lifted AFTER as_of: active on 2019-11-01, outcome `lifted` later
            lifted, lift_reason = _d("2019-11-20"), "Prosecutorial Discretion"
        if n in (9, 17):  # booking_id blank: the importer must match the open booking
            link = "match"
        sex = "F" if n in (22, 23) else "M"
        pid = rec.case(f"wake-held-{n:02d}", WAKE_JAIL, booked=booked, lodged=lodged,
                       released=released, reason=reason, charges=charges, lifted=lifted,
                       lift_reason=lift_reason, link=link, sex=sex)
        if n == 5:  # a second, re-issued detainer on the same booking: 26 detainers, 25 people
            rec.detainer(pid, WAKE_JAIL, 2, _d("2019-03-01"), f"b-{pid[2:]}-1")


def _wake_edges(rec: _Records) -> None:
    """Wake people who must NOT be counted as held with an active detainer on 2019-11-01."""
    cs = [("INDECENT LIBERTIES WITH CHILD", F, "pending")]
    # Released ON as_of: the detainer ended that day, so it is not active "on" 2019-11-01.
    rec.case("wake-edge-released-asof", WAKE_JAIL, booked=_d("2019-09-03"), lodged=_d("2019-09-05"),
             released=AS_OF, reason="bond", charges=cs)
    # Lifted before as_of while still in custody: outcome `lifted`, booking still open.
    rec.case("wake-edge-lifted-in-custody", WAKE_JAIL, booked=_d("2019-07-01"), lodged=_d("2019-07-03"),
             charges=[("AGG SEXUAL ASSLT CHILD", F, "pending")], lifted=_d("2019-10-15"),
             lift_reason="Prosecutorial Discretion")
    # Wrong person: outcome `cancelled`, still in custody on local charges.
    rec.case("wake-edge-cancelled", WAKE_JAIL, booked=_d("2019-08-10"), lodged=_d("2019-08-12"),
             charges=[("LARCENY", M, "pending")], lifted=_d("2019-08-20"), lift_reason="Wrong Person")
    # In the jail on as_of, but the detainer was lodged three days later.
    rec.case("wake-edge-lodged-after", WAKE_JAIL, booked=_d("2019-10-25"), lodged=_d("2019-11-04"),
             charges=[("STATUTORY RAPE OF CHILD <=15", F, "pending")])
    # Declined in 2019 (bond), then re-arrested: back in the jail on as_of with NO detainer.
    pid = rec.case("wake-edge-bond-2019", WAKE_JAIL, booked=_d("2019-03-02"), lodged=_d("2019-03-04"),
                   released=_d("2019-04-19"), reason="bond", claim="declined")
    bid = rec.booking(pid, WAKE_JAIL, 2, _d("2019-10-05"))
    rec.charges(bid, [("ASSAULT ON FEMALE", M, "pending")])
    # Honoured under 287(g): released to ICE and booked into ICE detention the same day.
    pid = rec.case("wake-edge-honored-2018", WAKE_JAIL, booked=_d("2018-09-20"), lodged=_d("2018-09-21"),
                   released=_d("2018-10-10"), reason="to_ice", claim="honored")
    rec.booking(pid, ICE_FACILITY, 2, _d("2018-10-10"), _d("2018-11-28"), "other_release")
    # Last day of the 287(g) policy: released to ICE on 2018-12-02 is honoured.
    rec.case("wake-edge-honored-last-day", WAKE_JAIL, booked=_d("2018-11-28"), lodged=_d("2018-11-29"),
             released=_d("2018-12-02"), reason="to_ice")
    # Lodged while Wake honoured, released on bond after the change: a decline, attributed
    # to the policy in force at release (declines), not at lodging.
    rec.case("wake-edge-lodged-287g-declined", WAKE_JAIL, booked=_d("2018-11-19"),
             lodged=_d("2018-11-20"), released=_d("2018-12-20"), reason="bond")
    # Sent to state prison: `transferred`, not a decline; held by the State on as_of.
    pid = rec.case("wake-edge-transferred", WAKE_JAIL, booked=_d("2019-05-01"), lodged=_d("2019-05-02"),
                   released=_d("2019-08-15"), reason="to_other_custody",
                   charges=[("TRAFFICKING COCAINE", F, "convicted")])
    rec.booking(pid, STATE_PRISON, 2, _d("2019-08-15"))


def _fy2017_edges(rec: _Records) -> None:
    """Fiscal-year boundaries for the 691: three count, four do not."""
    def to_ice(key, jail, booked, lodged, released, **kw):
        rec.case(key, jail, booked=_d(booked), lodged=_d(lodged), released=_d(released),
                 reason="to_ice", **kw)
    # Count: first and last day of FY2017, and lodged in FY2016 but released in FY2017.
    to_ice("rdu-edge-fy17-first-day", WAKE_JAIL, "2016-09-27", "2016-09-28", "2016-10-01")
    to_ice("rdu-edge-fy17-last-day", "nc-johnston-jail", "2017-09-25", "2017-09-26", "2017-09-30")
    to_ice("rdu-edge-lodged-fy16", WAKE_JAIL, "2016-09-19", "2016-09-20", "2016-10-12")
    # Do not count: released the day before / after FY2017.
    to_ice("rdu-edge-fy16-last-day", WAKE_JAIL, "2016-09-26", "2016-09-27", "2016-09-30")
    to_ice("rdu-edge-fy18-first-day", WAKE_JAIL, "2017-09-24", "2017-09-25", "2017-10-01")
    # Do not count: released to ICE, but ICE lifted the detainer that same day (rule 1).
    to_ice("rdu-edge-lifted-on-release", WAKE_JAIL, "2017-03-10", "2017-03-11", "2017-03-15",
           lifted=_d("2017-03-15"), lift_reason="Case Closed")
    # Do not count, and claims disagree: the source says honored, the booking says bond.
    rec.case("rdu-edge-claim-disagrees", "nc-durham-jail", booked=_d("2018-04-03"),
             lodged=_d("2018-04-04"), released=_d("2018-05-01"), reason="bond", claim="honored")


def _unmatched(rec: _Records) -> None:
    """Detainers whose person has no booking at that facility: outcome `unknown`."""
    for key, jail, lodged in (("nomatch-johnston", "nc-johnston-jail", "2018-03-12"),
                              ("nomatch-harris", "tx-harris-jail", "2017-05-09"),
                              ("nomatch-durham", "nc-durham-jail", "2018-01-15")):
        pid = rec.person(key, int(lodged[:4]))
        rec.detainer(pid, jail, 1, _d(lodged))


# --- cohorts: the bulk of the scenario --------------------------------------------------

_W19A, _W19B = (date(2018, 10, 1), date(2018, 12, 1)), (date(2018, 12, 3), date(2019, 9, 30))
_M19A, _M19B = (date(2018, 10, 1), date(2018, 12, 4)), (date(2018, 12, 5), date(2019, 9, 30))
# (jurisdiction, release window, outcome, count). Honoured only where the policy in force
# on the release date honours or limits. FY2017 honored: Wake 538 + 2 edges, Johnston
# 119 + 1 edge, Durham 25, Franklin NC 6 = 691 in the Raleigh-Durham region.
_COHORTS = (
    ("nc-wake", _fy(2016), "honored", 480),
    ("nc-wake", _fy(2017), "honored", 538), ("nc-wake", _fy(2017), "transferred", 12),
    ("nc-wake", _fy(2017), "lifted", 15), ("nc-wake", _fy(2017), "declined", 5),
    ("nc-wake", _fy(2018), "honored", 600), ("nc-wake", _W19A, "honored", 90),
    ("nc-wake", _W19B, "declined", 240), ("nc-wake", _W19B, "transferred", 15),
    ("nc-wake", _W19B, "lifted", 20), ("nc-wake", (date(2019, 10, 1), date(2019, 10, 31)), "declined", 18),
    ("nc-johnston", _fy(2016), "honored", 100), ("nc-johnston", _fy(2017), "honored", 119),
    ("nc-johnston", _fy(2017), "transferred", 6), ("nc-johnston", _fy(2017), "lifted", 9),
    ("nc-johnston", _fy(2017), "cancelled", 2), ("nc-johnston", _fy(2017), "declined", 3),
    ("nc-johnston", _fy(2018), "honored", 130), ("nc-johnston", _fy(2019), "honored", 140),
    ("nc-johnston", _fy(2019), "lifted", 8),
    ("nc-durham", _fy(2016), "honored", 20), ("nc-durham", _fy(2016), "declined", 80),
    ("nc-durham", _fy(2017), "honored", 25), ("nc-durham", _fy(2017), "declined", 70),
    ("nc-durham", _fy(2017), "transferred", 10), ("nc-durham", _fy(2017), "lifted", 8),
    ("nc-durham", _fy(2018), "honored", 22), ("nc-durham", _fy(2018), "declined", 75),
    ("nc-durham", _fy(2019), "honored", 18), ("nc-durham", _fy(2019), "declined", 85),
    ("nc-durham", _fy(2019), "lifted", 6),
    ("nc-orange", _fy(2016), "declined", 30), ("nc-orange", _fy(2017), "declined", 35),
    ("nc-orange", _fy(2017), "transferred", 3), ("nc-orange", _fy(2017), "lifted", 4),
    ("nc-orange", _fy(2018), "declined", 40), ("nc-orange", _fy(2019), "declined", 38),
    ("nc-franklin", _fy(2016), "honored", 4), ("nc-franklin", _fy(2016), "declined", 10),
    ("nc-franklin", _fy(2017), "honored", 6), ("nc-franklin", _fy(2017), "declined", 9),
    ("nc-franklin", _fy(2018), "honored", 5), ("nc-franklin", _fy(2018), "declined", 12),
    ("nc-franklin", _fy(2019), "honored", 5), ("nc-franklin", _fy(2019), "declined", 11),
    ("nc-mecklenburg", _fy(2016), "honored", 350), ("nc-mecklenburg", _fy(2017), "honored", 420),
    ("nc-mecklenburg", _fy(2017), "declined", 15), ("nc-mecklenburg", _fy(2017), "transferred", 20),
    ("nc-mecklenburg", _fy(2017), "lifted", 25), ("nc-mecklenburg", _fy(2018), "honored", 430),
    ("nc-mecklenburg", _M19A, "honored", 80), ("nc-mecklenburg", _M19B, "declined", 200),
    ("nc-mecklenburg", _M19B, "transferred", 12), ("nc-mecklenburg", _M19B, "lifted", 15),
    # Same name, other state: Franklin County OH honours; none of it is Raleigh-Durham.
    ("oh-franklin", _fy(2016), "honored", 70), ("oh-franklin", _fy(2017), "honored", 85),
    ("oh-franklin", _fy(2017), "declined", 6), ("oh-franklin", _fy(2017), "lifted", 5),
    ("oh-franklin", _fy(2018), "honored", 90), ("oh-franklin", _fy(2019), "honored", 95),
    ("tx-harris", _fy(2017), "honored", 150), ("tx-harris", _fy(2017), "transferred", 20),
    ("tx-harris", _fy(2017), "lifted", 15), ("tx-harris", _fy(2017), "declined", 10),
    ("tx-harris", _fy(2018), "honored", 160), ("tx-harris", _fy(2018), "declined", 12),
)
# People held with an active detainer on as_of outside Wake: (jurisdiction, count).
_HELD_ELSEWHERE = (("nc-mecklenburg", 9), ("nc-durham", 5), ("nc-orange", 3), ("nc-johnston", 4),
                   ("nc-franklin", 2), ("oh-franklin", 4), ("tx-harris", 12))


def _release_reason(rng: random.Random, outcome: str) -> str:
    if outcome == "honored":
        return "to_ice"
    if outcome == "transferred":
        return "to_other_custody"
    if outcome in ("lifted", "cancelled"):
        return rng.choice(("bond", "sentence_served", "dismissed", "to_other_custody"))
    return rng.choice(_DECLINE_REASONS)


def _released_case(rec: _Records, key: str, jid: str, released: date, outcome: str,
                   earliest: date, claim_rate: float, blank_rate: float = 0.05) -> None:
    """A closed booking ending on `released` with the given outcome, plus what follows it."""
    rng, jail = rec.rng, f"{jid}-jail"
    stay = min(int(rng.expovariate(1 / 18)), 300)
    lodged = max(released - timedelta(days=stay), earliest)
    booked = lodged - timedelta(days=rng.choice((0, 0, 0, 1, 1, 2, 3, 5)))
    reason = _release_reason(rng, outcome)
    lifted, lift_reason = None, ""
    if outcome in ("lifted", "cancelled"):
        lifted = lodged + timedelta(days=rng.randint(0, (released - lodged).days))
        lift_reason = rng.choice(_LIFT_REASONS if outcome == "lifted" else _CANCEL_REASONS)
    claim = outcome if rng.random() < claim_rate else ""
    link = "match" if rng.random() < blank_rate else "id"
    pid = rec.case(key, jail, booked=booked, lodged=lodged, released=released, reason=reason,
                   lifted=lifted, lift_reason=lift_reason, claim=claim, link=link)
    if outcome == "honored" and jid.startswith("nc-") and rng.random() < 0.1:
        rec.booking(pid, ICE_FACILITY, 2, released, released + timedelta(days=rng.randint(10, 120)),
                    "other_release")
    elif reason == "to_other_custody" and jid.startswith("nc-") and rng.random() < 0.5:
        rec.booking(pid, STATE_PRISON, 2, released)
    elif outcome == "declined" and rng.random() < 0.06:  # re-arrested, no new detainer
        again = released + timedelta(days=rng.randint(30, 400))
        bid = rec.booking(pid, jail, 2, again, again + timedelta(days=rng.randint(1, 20)),
                          rng.choice(("bond", "recognizance", "dismissed")))
        rec.charges(bid, rec.random_charges())


def _cohorts(rec: _Records) -> None:
    rng = rec.rng
    for jid, (start, end), outcome, count in _COHORTS:
        span = (end - start).days
        for _ in range(count):
            released = start + timedelta(days=rng.randint(0, span))
            _released_case(rec, rec.key(jid), jid, released, outcome, date(2015, 1, 1), claim_rate=0.02)
    for jid, count in _HELD_ELSEWHERE:
        for _ in range(count):
            lodged = date(2019, 1, 2) + timedelta(days=rng.randint(0, 302))
            booked = lodged - timedelta(days=rng.randint(0, 3))
            rec.case(rec.key(jid), f"{jid}-jail", booked=booked, lodged=lodged)


# --- scale: synthetic counties for load tests --------------------------------------------

_SCALE_STATES = ("TX", "GA", "FL", "AZ", "CA")
_SCALE_START, _SCALE_END = date(2012, 10, 1), date(2020, 9, 30)  # FY2013–FY2020
_OUTCOMES = ("honored", "transferred", "declined", "lifted", "cancelled")
_MIX = {"honors": (72, 80, 88, 98, 100), "limited": (25, 35, 85, 98, 100),
        "declines": (0, 10, 85, 98, 100)}  # cumulative weights over _OUTCOMES


def _scale_counties(rec: _Records, count: int = 100) -> list[tuple[str, list[tuple[date, str]]]]:
    """Write ~100 synthetic counties with jails and policies; return (id, [(from, stance)])."""
    rng, out, counties = rec.rng, rec.out, []
    for i in range(1, count + 1):
        state = rng.choice(_SCALE_STATES)
        jid, name = f"{state.lower()}-syn{i:03d}", f"Synthetic County {i:03d}"
        out.write("jurisdictions.csv", (jid, name, state, "county", "", "", ""))
        out.write("facilities.csv", (f"{jid}-jail", f"{name} Jail", jid, "county_jail", "", state))
        stance = rng.choices(("honors", "limited", "declines"), weights=(60, 20, 20))[0]
        periods = [(date(2012, 1, 1), stance)]
        if rng.random() < 0.12:  # a few counties change policy mid-period
            changed = date(2014, 7, 1) + timedelta(days=rng.randint(0, 2000))
            periods.append((changed, rng.choice([s for s in _MIX if s != stance])))
        for n, (start, st) in enumerate(periods):
            end = periods[n + 1][0] if n + 1 < len(periods) else None
            agreement = "287g-jem" if st == "honors" and rng.random() < 0.2 else "none"
            out.write("policies.csv", (jid, _iso(start), _iso(end), st, agreement, "", SOURCE))
        counties.append((jid, periods))
    return counties


def _seasonal_day(rng: random.Random) -> date:
    """A day in FY2013–FY2020, a little busier in spring than in winter."""
    span = (_SCALE_END - _SCALE_START).days
    while True:
        day = _SCALE_START + timedelta(days=rng.randint(0, span))
        # Day 0 of the ordinal calendar is a 1 January; peak about 1 May (day 120).
        if rng.random() * 1.2 < 1 + 0.2 * math.cos(2 * math.pi * (day.toordinal() - 120) / 365.2425):
            return day


def _scale(rec: _Records, count: int) -> None:
    """About `count` detainers spread over the counties with power-law volumes."""
    rng = rec.rng
    counties = _scale_counties(rec)
    weights = [1 / (rank + 1) ** 1.2 for rank in range(len(counties))]
    rng.shuffle(weights)
    cum = list(accumulate(weights))
    for i in range(1, count + 1):
        jid, periods = _pick(rng, counties, cum)
        key = f"{jid}-{i:07d}"
        lodged = _seasonal_day(rng)
        if rng.random() < 0.003:  # no booking at all: outcome unknown
            rec.detainer(rec.person(key, lodged.year), f"{jid}-jail", 1, lodged)
            continue
        released = lodged + timedelta(days=int(rng.expovariate(1 / 20)))
        if released > _SCALE_END or rng.random() < 0.03:  # still in custody
            booked = lodged - timedelta(days=rng.randint(0, 3))
            rec.case(key, f"{jid}-jail", booked=booked, lodged=lodged,
                     claim="in_custody" if rng.random() < 0.08 else "",
                     link="match" if rng.random() < 0.05 else "id")
            continue
        stance = [st for start, st in periods if start <= released][-1]
        outcome = _pick(rng, _OUTCOMES, _MIX[stance])
        _released_case(rec, key, jid, released, outcome, lodged, claim_rate=0.08)


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML


def _write_metadata(directory: Path, seed: int, scale: int) -> None:
    lines = [
        f"# {SYNTHETIC_NOTE}",
        "synthetic = true",
        f"title = {_toml('Synthetic demo: immigration detainers in North Carolina and elsewhere')}",
        f"description = {_toml(SYNTHETIC_NOTE + '. Built so that, as of 2019-11-01, 25 people with an active detainer are held in the Wake County, NC jail (11 charged with a sexual offence against a child), and 691 detainers in the Raleigh-Durham region were honored in FY2017.')}",
        f"seed = {seed}",
        f"scale = {scale}",
        'as_of = "2019-11-01"',
        'generated_by = "detainers demo"',
    ]
    (directory / "package.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_demo_package(directory: Path, *, seed: int = 20191101, scale: int | None = None) -> DemoFacts:
    """Write the synthetic demo scenario (plus `scale` extra detainers) as a data package."""
    directory = Path(directory)
    rng = random.Random(seed)
    out = _PackageWriter(directory)
    try:
        for row in _JURISDICTIONS:
            out.write("jurisdictions.csv", (*row[:5], "", row[5]))
        for row in _POLICIES:
            out.write("policies.csv", (*row, SOURCE))
        for row in _FACILITIES:
            out.write("facilities.csv", row)
        for row in _REGIONS:
            out.write("regions.csv", row)
        rec = _Records(out, rng)
        _wake_held(rec)
        _wake_edges(rec)
        _fy2017_edges(rec)
        _unmatched(rec)
        _cohorts(rec)
        if scale:
            _scale(rec, scale)
    finally:
        out.close()
    _write_metadata(directory, seed, scale or 0)
    return DemoFacts(seed=seed, scale=scale or 0, rows=dict(out.rows))
