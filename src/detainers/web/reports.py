"""The five reports over the web: one catalogue, served as JSON, as downloads and as pages.

The catalogue mirrors `detainers report …`: the same report names, parameters, defaults and
bounds, the same refusal of unknown jurisdictions and regions, the same builders and
renderers. Each report gets its own API operations (`GET /api/v1/reports/<name>` for the
report's JSON, `GET /api/v1/reports/<name>.<format>` for a download), generated from the
catalogue so that the OpenAPI document lists exactly the parameters the report takes.

The audience is the caller's to ask for but not to raise: viewers and anonymous visitors
always get the public audience, and asking for `restricted` without the analyst or admin
role is refused (403), never quietly downgraded. Restricted reports are audited twice: the
builder records that identity fields were read, and each delivery (JSON, download, full
HTML page) records who took it and in which format.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from sqlalchemy import Connection, func, select
from starlette.exceptions import HTTPException

from detainers import audit
from detainers.analytics.policies import check_known
from detainers.datapackage.spec import CellError, read_date
from detainers.errors import InputError
from detainers.fiscal import fiscal_year, fiscal_year_bounds
from detainers.reports import declined, noncooperative, policy_change, rearrest, transfers
from detainers.reports.suppress import is_marker
from detainers.store.schema import detainers, facilities, jurisdictions, policies, regions, sources
from detainers.web import answers
from detainers.web.api_models import ApiError
from detainers.web.deps import Forbidden, Principal, engine, principal
from detainers.web.templating import page, synthetic_loaded

router = APIRouter()

#: Format → media type of the download.
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_LABELS = {"md": "Markdown", "csv": "CSV", "json": "JSON", "html": "HTML", "pdf": "PDF", "xlsx": "Excel"}
Format = Literal["md", "csv", "json", "html", "pdf", "xlsx"]
AUDIENCES = ("public", "restricted")
#: Any characters but control characters (no id, name or region contains them).
TEXT = r"^[^\x00-\x1f\x7f]*$"
#: YYYY-MM-DD in the years 1900–2100, as the data package reads dates (the day is then checked too).
DATE_PATTERN = r"^(19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
MAX_IDS = 100
MAX_YEARS = 20


# ---------------------------------------------------------------- the catalogue

@dataclass(frozen=True)
class Param:
    """One parameter of a report: the query parameter of the API and the field of the page's form."""

    name: str  # in the query string; the CLI flag is --name (underscores as dashes)
    kind: str  # date | int | choice | choices | ids | id | text
    label: str
    help: str
    required: bool = False
    default: Any = None  # when not given, as in the CLI
    ge: int | None = None
    le: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        """A Python name for the parameter (`from` is a keyword)."""
        return {"from": "date_from", "to": "date_to"}.get(self.name, self.name)

    @property
    def many(self) -> bool:
        return self.kind in ("choices", "ids")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def read(self, value: Any) -> Any:
        """The value, checked as the CLI checks it; an InputError names the parameter."""
        if self.many:
            items = [v.strip() for v in (value or ()) if isinstance(v, str) and v.strip()]
            if len(items) > MAX_IDS:
                raise InputError(f"{self.name}: at most {MAX_IDS} values (got {len(items)})")
            for item in items:
                self._check_text(item)
                if self.choices and item not in self.choices:
                    raise InputError(f"{self.name}: {item!r} is not one of {', '.join(self.choices)}")
            if not items and self.required:
                raise InputError(f"{self.name}: is required ({self.help})")
            return tuple(dict.fromkeys(items)) or self.default
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if self.required:
                raise InputError(f"{self.name}: is required ({self.help})")
            return self.default
        if self.kind == "date":
            try:
                return read_date(str(value))
            except CellError as exc:
                raise InputError(f"{self.name}: {value!r} {exc}") from None
        if self.kind == "int":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise InputError(f"{self.name}: {value!r} is not a whole number") from None
            if (self.ge is not None and number < self.ge) or (self.le is not None and number > self.le):
                raise InputError(f"{self.name}: {number} is outside {self.ge}–{self.le}")
            return number
        self._check_text(value)
        if self.choices and value not in self.choices:
            raise InputError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")
        return value

    def _check_text(self, value: str) -> None:
        if len(value) > 128 or not re.fullmatch(TEXT, value):
            shown = repr(value[:40]) + ("…" if len(value) > 40 else "")
            raise InputError(f"{self.name}: {shown} is not an id (at most 128 characters, no control characters)")

    def query_text(self, value: Any) -> list[str]:
        """The value as query-string values (empty when it is the default)."""
        if value is None or value == self.default:
            return []
        if self.many:
            return [str(v) for v in value]
        return [value.isoformat() if isinstance(value, date) else str(value)]

    def describe(self) -> dict:
        """The parameter for the catalogue endpoint."""
        out = {"name": self.name, "type": self.kind, "required": self.required, "help": self.help,
               "cli_flag": self.flag}
        if self.default is not None:
            out["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        if self.ge is not None:
            out["minimum"], out["maximum"] = self.ge, self.le
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class ReportSpec:
    """One report: what it is, its parameters, and how its Query is made from their values."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    module: Any
    query: Callable[[dict, str], Any]  # (values, audience) → the report's Query
    file_key: Callable[[dict], str]  # the download's file name, without format
    scope: Callable[[dict, dict | None], str]  # one line saying what the report covers (values, report)
    highlights: Callable[[dict], list[tuple[str, str]]]  # headline cards (label, value)
    periods: tuple[tuple[str, str], ...] = ()  # (first, last) parameter pairs
    cli_audience: bool = True  # the CLI command has --audience
    #: Longest span of fiscal years in one report served here: a PDF of a century of years takes
    #: a worker many seconds, and the CLI remains for longer spans.
    max_years: int | None = None

    def read(self, raw: dict) -> dict:
        """Checked values of every parameter (raw: name → text or list of texts)."""
        values = {p.name: p.read(raw.get(p.name)) for p in self.params}
        for first, last in self.periods:
            if values[first] is not None and values[last] is not None and values[first] > values[last]:
                raise InputError(f"{last}: {_text(values[last])} is before {first} ({_text(values[first])}); "
                                 "swap them")
        years = values["fy_to"] - values["fy_from"] + 1 if self.max_years else 0
        if self.max_years and years > self.max_years:
            raise InputError(f"fy_to: at most {self.max_years} fiscal years in one report here "
                             f"(FY{values['fy_from']}–FY{values['fy_to']} is {years}); "
                             f"choose a shorter span, or use `detainers report {self.name}`")
        return values

    def run(self, conn: Connection, values: dict, audience: str) -> dict:
        """Check the ids and region against the data (like the CLI), then build the report."""
        ids = values.get("jurisdiction") or ()
        known_or_fail(conn, (ids,) if isinstance(ids, str) else tuple(ids), values.get("region"))
        return self.module.build(conn, self.query(values, audience))

    def query_string(self, values: dict, audience: str = "public") -> str:
        pairs = [(p.name, v) for p in self.params for v in p.query_text(values.get(p.name))]
        if audience == "restricted":
            pairs.append(("audience", "restricted"))
        return urlencode(pairs)

    def filename(self, values: dict, audience: str, fmt: str) -> str:
        """A safe ASCII file name, e.g. non-cooperative-2019-11-01.pdf."""
        stem = self.file_key(values) + ("-restricted" if audience == "restricted" else "")
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:120] or self.name
        return f"{stem}.{fmt}"

    def cli(self, values: dict, audience: str) -> str:
        """The same report from the command line."""
        parts = ["detainers", "report", self.name]
        for p in self.params:
            v = values.get(p.name)
            if v is None or (p.many and v == p.default):
                continue
            for item in (v if p.many else (v,)):
                text = item.isoformat() if isinstance(item, date) else str(item)
                parts += [p.flag, _shell(text)]
        if audience == "restricted" and self.cli_audience:
            parts += ["--audience", "restricted"]
        return " ".join(parts + ["--format", "pdf", "--out", self.filename(values, audience, "pdf")])


def _shell(text: str) -> str:
    """A word quoted for a POSIX shell when it needs it."""
    return text if re.fullmatch(r"[A-Za-z0-9._:/-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def known_or_fail(conn: Connection, jurisdiction_ids: tuple[str, ...], region: str | None = None) -> None:
    """Unknown ids and regions are errors, not empty answers (the CLI's check, named as the web names them)."""
    check_known(conn, jurisdiction_ids, region, flag="")


def long_date(day: str | date | None) -> str:
    """'2019-11-01' → '1 November 2019'."""
    if day is None:
        return "—"
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.day} {value.strftime('%B')} {value.year}"


def count(value: Any) -> str:
    """A count as shown: thousands separated; suppressed cells as their marker."""
    if isinstance(value, bool) or value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def share(value: Any, low: Any = None, high: Any = None) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "withheld" if is_marker(value) else "—"
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f"{value:.1%} ({low:.1%}–{high:.1%})"
    return f"{value:.1%}"


def _sum(values: list) -> Any:
    """A sum of counts, or 'withheld' when one of them is suppressed (a sum would give it away)."""
    return "withheld" if any(not isinstance(v, int) for v in values) else sum(values)


# Parameters shared by several reports.
def _jurisdictions(help_: str = "Only these jurisdiction ids (none: every jurisdiction).") -> Param:
    return Param("jurisdiction", "ids", "Jurisdictions", help_, default=())


def _period(what: str) -> tuple[Param, Param]:
    return (Param("from", "date", "From", f"First day of the {what} (YYYY-MM-DD).", required=True),
            Param("to", "date", "To", f"Last day of the {what} (YYYY-MM-DD), inclusive.", required=True))


def _noncooperative_highlights(r: dict) -> list[tuple[str, str]]:
    t = r["totals"]
    return [("jurisdictions listed", count(t["jurisdictions"])),
            ("people held with an active detainer", count(t["people"]))]


def _declined_highlights(r: dict) -> list[tuple[str, str]]:
    t = r["totals"]
    return [("detainers issued", count(t["issued"])), ("detainers ended", count(t["ended"])),
            ("declined", count(t["declined"])),
            ("decline rate (of decided)", share(t["decline_rate"]))]


def _transfers_highlights(r: dict) -> list[tuple[str, str]]:
    years = r["totals"]
    honored, ended = _sum([y["honored_by_ended"] for y in years]), _sum([y["ended"] for y in years])
    rate = honored / ended if isinstance(honored, int) and isinstance(ended, int) and ended else None
    return [("fiscal years", count(len(years))), ("honored (transfers to ICE), ended cohort", count(honored)),
            ("detainers ended", count(ended)), ("share honored", share(rate))]


def _policy_change_highlights(r: dict) -> list[tuple[str, str]]:
    out = []
    for w in r["windows"]:
        d = w["shares"]["declined"] or {}
        shown = "withheld" if d.get("share") is None and d.get("note") else share(d.get("share"), d.get("low"),
                                                                                  d.get("high"))
        out += [(f"decided, {w['window']}", count(w["decided"])), (f"decline share, {w['window']}", shown)]
    return out


def _place(v: dict, r: dict | None) -> str:
    """The jurisdiction by name when the report is at hand, else by id."""
    j = (r or {}).get("jurisdiction")
    return f"{j['name']}, {j['state']}" if isinstance(j, dict) else v["jurisdiction"]


def _rearrest_highlights(r: dict) -> list[tuple[str, str]]:
    g = r["groups"][0]
    return [("released despite a detainer", count(g["released"])), ("followed for the whole window",
                                                                     count(g["followed"])),
            ("booked again", count(g["rebooked"])), ("share booked again", share(g["share"], g["low"], g["high"]))]


def _transfers_scope(v: dict, r: dict | None) -> str:
    years = f"FY{v['fy_from']}" if v["fy_from"] == v["fy_to"] else f"FY{v['fy_from']}–FY{v['fy_to']}"
    first, _ = fiscal_year_bounds(v["fy_from"])
    _, last = fiscal_year_bounds(v["fy_to"])
    where = f" · region {v['region']}" if v.get("region") else ""
    return f"{years} ({long_date(first)} to {long_date(last)}) · per {v['by']}{where}"


CATALOGUE: dict[str, ReportSpec] = {s.name: s for s in (
    ReportSpec(
        "non-cooperative", "Non-cooperative jurisdictions",
        "People held on a day, with an active detainer, in jurisdictions whose policy declines detainers.",
        (Param("as_of", "date", "As of", "The day to report on (YYYY-MM-DD).", required=True),
         Param("stance", "choices", "Policies", "Policies to include (default: declines); add limited or honors.",
               default=("declines",), choices=("declines", "limited", "honors")),
         _jurisdictions("Only these jurisdiction ids, listed even with nobody held (none: every jurisdiction "
                        "whose policy matches).")),
        noncooperative,
        lambda v, a: noncooperative.NonCooperativeQuery(v["as_of"], tuple(v["stance"]), tuple(v["jurisdiction"]), a),
        lambda v: f"non-cooperative-{v['as_of']}",
        lambda v, r: f"As of {long_date(v['as_of'])} · policies that: {', '.join(v['stance'])}",
        _noncooperative_highlights),
    ReportSpec(
        "declined", "Declined detainers",
        "Detainers issued to and declined by each jurisdiction in a period, with denominators and detail.",
        (*_period("period"), _jurisdictions()),
        declined,
        lambda v, a: declined.DeclinedQuery(v["from"], v["to"], tuple(v["jurisdiction"]), a),
        lambda v: f"declined-{v['from']}-to-{v['to']}",
        lambda v, r: f"Detainers lodged or ended from {long_date(v['from'])} to {long_date(v['to'])}",
        _declined_highlights, periods=(("from", "to"),)),
    ReportSpec(
        "transfers", "Transfers by fiscal year",
        "Detainers ending in transfer to ICE custody per fiscal year: lodged and ended cohorts side by side.",
        (Param("fy_from", "int", "First fiscal year", "First federal fiscal year (2017 = Oct 2016–Sep 2017).",
               required=True, ge=1990, le=2100),
         Param("fy_to", "int", "Last fiscal year", f"Last federal fiscal year (one report spans at most "
               f"{MAX_YEARS} fiscal years here).", required=True, ge=1990, le=2100),
         Param("by", "choice", "Per", "Per jurisdiction or per region.", default="jurisdiction",
               choices=("jurisdiction", "region")),
         _jurisdictions(),
         Param("region", "text", "Region", "Only this region (none: every region).")),
        transfers,
        lambda v, a: transfers.TransfersQuery(v["fy_from"], v["fy_to"], v["by"], tuple(v["jurisdiction"]),
                                              v["region"], audience=a),
        lambda v: (f"transfers-FY{v['fy_from']}" + (f"-FY{v['fy_to']}" if v["fy_to"] != v["fy_from"] else "")
                   + (f"-{v['region']}" if v.get("region") else "")),
        _transfers_scope, _transfers_highlights, periods=(("fy_from", "fy_to"),), cli_audience=False,
        max_years=MAX_YEARS),
    ReportSpec(
        "policy-change", "Before and after a policy change",
        "Outcomes in equal windows before and after a policy change, with confidence intervals.",
        (Param("jurisdiction", "id", "Jurisdiction", "The jurisdiction id.", required=True),
         Param("change_date", "date", "Change date", "The day the policy changed (YYYY-MM-DD).", required=True),
         Param("window_days", "int", "Window (days)", "Length of each window, in days.", default=365, ge=1,
               le=3660)),
        policy_change,
        lambda v, a: policy_change.PolicyChangeQuery(v["jurisdiction"], v["change_date"],
                                                     window_days=v["window_days"], audience=a),
        lambda v: f"policy-change-{v['jurisdiction']}-{v['change_date']}",
        lambda v, r: (f"{_place(v, r)}: {v['window_days']:,} days before and after "
                      f"{long_date(v['change_date'])}"),
        _policy_change_highlights, cli_audience=False),
    ReportSpec(
        "rearrest", "Booked again after release",
        "People released despite a detainer who were booked again, beside comparison groups.",
        (*_period("release period"),
         Param("follow_days", "int", "Follow-up (days)", "Follow-up window after release, in days.", default=365,
               ge=1, le=3660)),
        rearrest,
        lambda v, a: rearrest.RearrestQuery(v["from"], v["to"], follow_days=v["follow_days"], audience=a),
        lambda v: f"rearrest-{v['from']}-to-{v['to']}",
        lambda v, r: (f"Released from {long_date(v['from'])} to {long_date(v['to'])} · followed for "
                      f"{v['follow_days']:,} days"),
        _rearrest_highlights, periods=(("from", "to"),)),
)}


def spec_of(name: str) -> ReportSpec:
    spec = CATALOGUE.get(name)
    if spec is None:
        raise HTTPException(404, f"No report {name[:60]!r}. The reports are: {', '.join(CATALOGUE)}.")
    return spec


def audience_for(p: Principal, asked: str | None) -> str:
    """The audience asked for, if the caller may have it: restricted only for analysts and admins."""
    if asked in (None, "", "public"):
        return "public"
    if asked != "restricted":
        raise InputError(f"audience: {asked!r} is not one of public, restricted")
    if not p.restricted:
        who = f"signed in as {p.role}" if p.user else "not signed in"
        raise Forbidden("The restricted audience (names and dates of birth) needs the analyst or admin role; "
                        f"you are {who}. Ask without audience=restricted for the public report.")
    return "restricted"


def _audit_delivery(conn: Connection, action: str, spec: ReportSpec, values: dict, audience: str, fmt: str) -> None:
    if audience == "restricted":
        audit.record(conn, action, {"report": spec.name, "format": fmt, "audience": audience,
                                    "parameters": {k: v for k, v in values.items() if v not in (None, ())}})


def _render(report: dict, fmt: str, extras: dict | None) -> bytes:
    from detainers.reports.render import render_bytes

    return render_bytes(report, fmt, extras=extras)


def _transaction(eng, audience: str):
    """A write transaction for the restricted audience (its delivery goes to the audit log); a read
    one for the public, which never waits for an import that is being written (docs/architecture.md,
    "Concurrency"): both see one consistent state of the data."""
    return eng.begin() if audience == "restricted" else eng.connect()


def deliver(eng, spec: ReportSpec, values: dict, audience: str, fmt: str, *, action: str) -> bytes:
    """Build the report, record a restricted delivery, and render it (outside the transaction)."""
    from detainers.reports.charts import extras_for

    with _transaction(eng, audience) as conn:
        report = spec.run(conn, values, audience)
        extras = extras_for(conn, report) if fmt in ("html", "pdf") else None
        _audit_delivery(conn, action, spec, values, audience, fmt)
    return _render(report, fmt, extras)


# ---------------------------------------------------------------- data-derived defaults for the forms

def suggestions(conn: Connection, only: str | None = None) -> dict[str, dict]:
    """Sensible values for each report's form, from the loaded data (not fixed dates).

    The as-of day is the latest day a source says it describes (a roster snapshot, a package's
    as-of day), else the latest day a detainer was lodged; periods are the last whole federal
    fiscal year before it; the policy change is the change of stance with the most detainers behind it
    (looked for only when `only` is None or "policy-change": it counts detainers).
    """
    first, last = conn.execute(select(func.min(detainers.c.lodged_on), func.max(detainers.c.lodged_on))).one()
    stated = conn.execute(select(func.max(sources.c.as_of)).where(sources.c.kind != "287g-roster")).scalar()
    if isinstance(stated, datetime):
        stated = stated.date()
    as_of = stated or last or date.today()
    fy_last = fiscal_year(as_of) - 1
    if first is not None and first > fiscal_year_bounds(fy_last)[1]:
        fy_last = fiscal_year(as_of)  # the data cover only the current year
    fy_first = max(fiscal_year(first), fy_last - 4) if first is not None else fy_last
    start, end = fiscal_year_bounds(fy_last)
    out = {
        "non-cooperative": {"as_of": as_of},
        "declined": {"from": start, "to": end},
        "transfers": {"fy_from": min(fy_first, fy_last), "fy_to": fy_last},
        "policy-change": {},
        "rearrest": {"from": start, "to": end},
    }
    change = _busiest_change(conn) if only in (None, "policy-change") else None
    if change is not None:
        out["policy-change"] = {"jurisdiction": change[0], "change_date": change[1]}
    return out


def _busiest_change(conn: Connection) -> tuple[str, date] | None:
    """(jurisdiction, day) of the change of stance with the most detainers lodged in that jurisdiction."""
    rows = conn.execute(select(policies.c.jurisdiction_id, policies.c.effective_from, policies.c.stance)
                        .order_by(policies.c.jurisdiction_id, policies.c.effective_from)).all()
    changes, previous = [], None
    for row in rows:
        if previous is not None and previous.jurisdiction_id == row.jurisdiction_id and previous.stance != row.stance:
            changes.append((row.jurisdiction_id, row.effective_from))
        previous = row
    if not changes:
        return None
    volume = dict(conn.execute(
        select(facilities.c.jurisdiction_id, func.count())
        .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
        .where(facilities.c.jurisdiction_id.in_(sorted({j for j, _ in changes})))
        .group_by(facilities.c.jurisdiction_id)).all())
    return max(changes, key=lambda c: (volume.get(c[0], 0), c[1]))


def _choices(conn: Connection) -> dict[str, list]:
    """Options of the form's selects: jurisdictions (id, label) and regions."""
    return {
        "jurisdiction": [(r.jurisdiction_id, f"{r.name}, {r.state}") for r in conn.execute(
            select(jurisdictions.c.jurisdiction_id, jurisdictions.c.name, jurisdictions.c.state)
            .order_by(jurisdictions.c.state, jurisdictions.c.name, jurisdictions.c.jurisdiction_id))],
        "region": list(conn.execute(select(regions.c.region).distinct().order_by(regions.c.region)).scalars()),
    }


# ---------------------------------------------------------------- the API

ERRORS = {
    401: {"model": ApiError, "description": "Not signed in, where the installation allows no anonymous access."},
    403: {"model": ApiError, "description": "audience=restricted asked for without the analyst or admin role."},
    422: {"model": ApiError, "description": "A parameter is missing, malformed or out of bounds, or names an "
                                            "unknown jurisdiction or region."},
}
REPORT_SCHEMA = {
    "type": "object",
    "description": "The report, as `detainers report <name> --format json` writes it.",
    "required": ["report", "title", "audience", "synthetic", "data_label", "parameters", "definitions",
                 "fidelity", "sources", "generated_by", "manifest"],
    "properties": {
        "report": {"type": "string"}, "title": {"type": "string"},
        "audience": {"type": "string", "enum": list(AUDIENCES)},
        "synthetic": {"type": "boolean"}, "data_label": {"type": ["string", "null"]},
        "parameters": {"type": "object"}, "definitions": {"type": "object"},
        "fidelity": {"type": "array", "items": {"type": "string"}},
        "sources": {"type": "array", "items": {"type": "object"}}, "generated_by": {"type": "object"},
        "manifest": {"type": "object"},
    },
}
AudienceParam = Annotated[Literal["public", "restricted"], Query(
    description="public (no identity fields, small counts suppressed) or restricted (analysts and admins only; "
                "audited).")]


def _annotation(p: Param):
    """The FastAPI declaration of one parameter: type, bounds and help, as the OpenAPI document shows them."""
    alias = p.name if p.attr != p.name else None
    if p.kind == "date":
        return Annotated[str if p.required else str | None, Query(
            alias=alias, pattern=DATE_PATTERN, description=p.help, examples=["2019-11-01"],
            json_schema_extra={"format": "date"})]
    if p.kind == "int":
        return Annotated[int if p.required or p.default is not None else int | None,
                         Query(alias=alias, ge=p.ge, le=p.le, description=p.help)]
    if p.kind == "choice":
        return Annotated[Literal[p.choices], Query(alias=alias, description=p.help)]
    if p.kind == "choices":
        return Annotated[list[Literal[p.choices]] | None, Query(alias=alias, max_length=len(p.choices),
                                                                description=p.help + " Repeat to add.")]
    text = Annotated[str, Query(min_length=1, max_length=128, pattern=TEXT)]
    if p.kind == "ids":
        return Annotated[list[text] | None, Query(alias=alias, max_length=MAX_IDS,
                                                  description=p.help + " Repeat to add.")]
    return Annotated[str if p.required else str | None,
                     Query(alias=alias, min_length=1, max_length=128, pattern=TEXT, description=p.help)]


def _signature(spec: ReportSpec, *extra: inspect.Parameter) -> inspect.Signature:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("p", kw, annotation=Annotated[Principal, Depends(principal)]),
              inspect.Parameter("eng", kw, annotation=Annotated[Any, Depends(engine)]), *extra]
    for p in spec.params:
        default = inspect.Parameter.empty if p.required else (None if p.many else p.default)
        params.append(inspect.Parameter(p.attr, kw, annotation=_annotation(p), default=default))
    params.append(inspect.Parameter("audience", kw, annotation=AudienceParam, default="public"))
    return inspect.Signature(params)


def _values(spec: ReportSpec, kwargs: dict) -> dict:
    return spec.read({p.name: kwargs.get(p.attr) for p in spec.params})


def _json_endpoint(spec: ReportSpec):
    def endpoint(**kwargs):
        aud = audience_for(kwargs["p"], kwargs["audience"])
        values = _values(spec, kwargs)
        if aud == "restricted":  # built for each request, and each delivery audited
            with _transaction(kwargs["eng"], aud) as conn:
                report = spec.run(conn, values, aud)
                _audit_delivery(conn, "view.report", spec, values, aud, "json")
            return JSONResponse(report)
        # The public answer is kept while the records stay the same (web/answers.py), as the statistics
        # are: a report over millions of detainers takes seconds to build. Today's date is part of the
        # question, as a report may count up to today when no day is given.
        question = (f"reports/{spec.name}", tuple(sorted(values.items())), date.today())
        with _transaction(kwargs["eng"], aud) as conn:
            body = answers.kept_or_made(kwargs["request"], conn, question,
                                        lambda: JSONResponse(spec.run(conn, values, aud)).body)
        return Response(body, media_type="application/json")

    endpoint.__signature__ = _signature(spec, inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY,
                                                                annotation=Request))
    endpoint.__name__ = f"report_{spec.name.replace('-', '_')}"
    return endpoint


def _download_endpoint(spec: ReportSpec):
    fmt_param = inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Format, Path(
        description="md, csv, json, html, pdf or xlsx.")])

    def endpoint(**kwargs):
        aud = audience_for(kwargs["p"], kwargs["audience"])
        values = _values(spec, kwargs)
        fmt = kwargs["fmt"]
        body = deliver(kwargs["eng"], spec, values, aud, fmt, action="export.report")
        return Response(body, media_type=MEDIA_TYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{spec.filename(values, aud, fmt)}"'})

    endpoint.__signature__ = _signature(spec, fmt_param)
    endpoint.__name__ = f"report_{spec.name.replace('-', '_')}_download"
    return endpoint


def _download_content() -> dict:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {mt.split(";")[0]: ({"schema": REPORT_SCHEMA} if fmt == "json" else binary)
            for fmt, mt in MEDIA_TYPES.items()}


@router.get("/api/v1/reports", tags=["reports"], summary="The reports and their parameters",
            responses={401: ERRORS[401]})
def report_catalogue(p: Annotated[Principal, Depends(principal)]) -> dict:
    """Every report: name, title, description, parameters (with bounds and defaults) and where to get it."""
    return {"reports": [{
        "name": s.name, "title": s.title, "description": s.description,
        "parameters": [x.describe() for x in s.params] + [{
            "name": "audience", "type": "choice", "required": False, "default": "public",
            "choices": list(AUDIENCES), "help": "restricted: analysts and admins only (audited)."}],
        "json": f"/api/v1/reports/{s.name}", "download": f"/api/v1/reports/{s.name}.{{format}}",
        "formats": list(MEDIA_TYPES), "page": f"/reports/{s.name}",
    } for s in CATALOGUE.values()], "audiences": {"yours": p.audience, "may_restrict": p.restricted}}


# ---------------------------------------------------------------- pages

def _raw(request: Request, spec: ReportSpec) -> dict:
    q = request.query_params
    return {p.name: (q.getlist(p.name) if p.many else q.get(p.name)) for p in spec.params}


def _asked(request: Request, spec: ReportSpec) -> bool:
    return any(p.name in request.query_params for p in spec.params)


def _fields(spec: ReportSpec, raw: dict | None, suggested: dict, options: dict) -> list[dict]:
    """What the form shows: the visitor's values when given, else the defaults from the data."""
    fields = []
    for p in spec.params:
        if raw is not None:
            value = raw.get(p.name) or ([] if p.many else "")
        else:
            value = suggested.get(p.name, p.default)
            value = [str(v) for v in (value or ())] if p.many else ("" if value is None else _text(value))
        opts = list(p.choices)
        if p.kind in ("ids", "id"):
            opts = options["jurisdiction"]
        elif p.kind == "text":
            opts = options["region"]
        fields.append({"p": p, "value": value, "options": opts})
    return fields


@router.get("/reports", include_in_schema=False)
def reports_index(request: Request, p: Annotated[Principal, Depends(principal)],
                  eng: Annotated[Any, Depends(engine)]):
    with eng.connect() as conn:
        suggested = suggestions(conn)
        synthetic = synthetic_loaded(conn)
    items = []
    for spec in CATALOGUE.values():
        values = {x.name: suggested[spec.name].get(x.name, x.default) for x in spec.params}
        ready = all(values[x.name] is not None for x in spec.params if x.required)
        items.append({"spec": spec, "latest": f"/reports/{spec.name}?{spec.query_string(values)}" if ready else None,
                      "scope": spec.scope(values, None) if ready else None})
    return page(request, "reports.html", title="Reports", nav="reports", synthetic=synthetic, items=items)


@router.get("/reports/{name}", include_in_schema=False)
def report_page(request: Request, name: str, p: Annotated[Principal, Depends(principal)],
                eng: Annotated[Any, Depends(engine)]):
    spec = spec_of(name)
    asked = _asked(request, spec)
    aud = audience_for(p, request.query_params.get("audience"))
    raw = _raw(request, spec) if asked else None
    result, error, status = None, None, 200
    with _transaction(eng, aud) as conn:
        suggested = suggestions(conn, spec.name)[spec.name]
        options = _choices(conn)
        synthetic = synthetic_loaded(conn)
        if asked:
            try:
                values = spec.read(raw)
                report = spec.run(conn, values, aud)
            except InputError as exc:
                error, status = exc.message(), 422
            else:
                from detainers.reports.charts import extras_for

                result = {"values": values, "report": report, "extras": extras_for(conn, report)}
    if result is not None:  # the form shows the values the report was built with
        raw, suggested = None, result["values"]
        result = _result(spec, result["values"], result["report"], result["extras"], aud)
    return page(request, "report.html", status_code=status, title=spec.title, nav="reports", synthetic=synthetic,
                spec=spec, fields=_fields(spec, raw, suggested, options), audience=aud, error=error,
                result=result)


@router.get("/reports/{name}/full", include_in_schema=False)
def report_full(request: Request, name: str, p: Annotated[Principal, Depends(principal)],
                eng: Annotated[Any, Depends(engine)]):
    """The whole report as the HTML format renders it, shown in the browser."""
    spec = spec_of(name)
    aud = audience_for(p, request.query_params.get("audience"))
    values = spec.read(_raw(request, spec))
    body = deliver(eng, spec, values, aud, "html", action="view.report")
    return HTMLResponse(body.decode("utf-8"))


_NUMERIC = re.compile(r"^(<\d+|—|suppressed|withheld|-?\d[\d,]*(\.\d+)?%?( \(.*\))?)$")


def _cell(value: Any) -> dict:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a median of whole days
    text = count(value) if not isinstance(value, float) else f"{value:,}"
    return {"text": text, "num": isinstance(value, (int, float)) or bool(_NUMERIC.match(text))}


def _result(spec: ReportSpec, values: dict, report: dict, extras: dict, aud: str) -> dict:
    """Everything the page shows of a built report."""
    from detainers.reports.charts import embedded
    from detainers.reports.summary import summary

    title, columns, rows = summary(report)
    query = spec.query_string(values, aud)
    figures = [Markup(f) for place in embedded(report, extras).values() for f in place]
    return {
        "title": title, "columns": columns, "rows": [[_cell(v) for v in row] for row in rows],
        "scope": spec.scope(values, report), "highlights": spec.highlights(report),
        "verdict": (report.get("comparison") or {}).get("verdict"),
        "figures": figures, "fidelity": report["fidelity"], "definitions": report["definitions"],
        "sources": report["sources"], "generated_by": report["generated_by"], "audience": report["audience"],
        "data_label": report.get("data_label"),
        "downloads": [(FORMAT_LABELS[f], f, f"/api/v1/reports/{spec.name}.{f}?{query}") for f in MEDIA_TYPES],
        "full": f"/reports/{spec.name}/full?{query}", "api": f"/api/v1/reports/{spec.name}?{query}",
        "cli": spec.cli(values, aud),
    }


def _example_values(spec: ReportSpec) -> dict:
    """Values for the example file name in the API description."""
    examples = {"date": date(2019, 11, 1), "int": 2017, "id": "nc-wake"}
    out = {}
    for p in spec.params:
        out[p.name] = p.default if p.default is not None or not p.required else examples[p.kind]
    if "from" in out:
        out["from"], out["to"] = date(2018, 10, 1), date(2019, 9, 30)
    return out


def _register_api() -> None:
    """Two operations per report: its JSON, and its download in each format."""
    for spec in CATALOGUE.values():
        op = spec.name.replace("-", "_")
        router.add_api_route(
            f"/api/v1/reports/{spec.name}", _json_endpoint(spec), methods=["GET"], tags=["reports"],
            summary=f"{spec.title} (JSON)", response_model=None, response_class=JSONResponse,
            operation_id=f"report_{op}",
            description=f"{spec.description} Same parameters as `detainers report {spec.name}`.",
            responses={200: {"description": "The report.",
                             "content": {"application/json": {"schema": REPORT_SCHEMA}}}, **ERRORS})
        router.add_api_route(
            f"/api/v1/reports/{spec.name}.{{fmt}}", _download_endpoint(spec), methods=["GET"], tags=["reports"],
            summary=f"{spec.title} (download)", response_model=None, response_class=Response,
            operation_id=f"report_{op}_download",
            description=(f"{spec.description} As a file in one format, sent as an attachment named like "
                         f"`{spec.filename(_example_values(spec), 'public', 'pdf')}`. Restricted downloads "
                         "are written to the audit log with their format."),
            responses={200: {"description": "The report file.", "content": _download_content()}, **ERRORS})


_register_api()
