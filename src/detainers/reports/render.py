"""Render a report dict as Markdown, CSV, JSON, HTML, PDF or XLSX. Renderers only format; they never query.

`render(report, fmt)` gives text (FORMATS: md, json, csv, html); `render_bytes(report, fmt)`
gives bytes for every format, BINARY_FORMATS (pdf, xlsx) included. HTML embeds the charts
that fit the report as inline SVG (reports.charts); the PDF is made from the same HTML with
`pdf=True` — charts as PNG, row-level tables replaced by a pointer to the CSV/XLSX export —
by reports.pdf. Charts that need more than the report dict (the declined report's monthly
series and county map) take `extras`, from `charts.extras_for(conn, report)`; without them
those charts are left out. `charts=False` leaves every chart out.

Spreadsheet safety: CSV cells that begin with = + - @ (or a tab or carriage
return) are prefixed with an apostrophe so no spreadsheet runs them as formulas;
XLSX text cells the same, stored as text.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

FORMATS = ("md", "json", "csv", "html")  # text: render()
BINARY_FORMATS = ("pdf", "xlsx")  # bytes: render_bytes()
ALL_FORMATS = FORMATS + BINARY_FORMATS
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Make a cell safe to open in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render(report: dict, fmt: str, *, extras: dict | None = None, charts: bool = True) -> str:
    """The report in one of FORMATS (text). For html: `charts` and `extras` as in the module doc."""
    if fmt in BINARY_FORMATS:
        raise ValueError(f"{fmt} is a binary format: use render_bytes(report, {fmt!r})")
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return html_page(report, extras=extras, charts=charts)
    renderer = _RENDERERS[(report["report"], fmt)]
    return renderer(report)


def render_bytes(report: dict, fmt: str, *, extras: dict | None = None, charts: bool = True,
                 paper: str = "letter") -> bytes:
    """The report in one of ALL_FORMATS, as bytes (text formats UTF-8). `paper`: letter or a4 (pdf)."""
    if fmt == "pdf":
        from detainers.reports.pdf import to_pdf

        return to_pdf(html_page(report, extras=extras, charts=charts, pdf=True), paper=paper)
    if fmt == "xlsx":
        from detainers.reports.xlsx import to_xlsx

        return to_xlsx(report)
    return render(report, fmt, extras=extras, charts=charts).encode("utf-8")


@dataclass(frozen=True)
class Page:
    """What an HTML template gets beyond the report: the charts by place, and whether it is for the PDF."""

    figures: dict = field(default_factory=dict)
    pdf: bool = False

    def charts_at(self, place: str) -> Markup:
        return Markup("".join(self.figures.get(place, ())))

    def context(self) -> dict:
        return {"pdf": self.pdf, "charts_at": self.charts_at}


def html_page(report: dict, *, extras: dict | None = None, charts: bool = True, pdf: bool = False) -> str:
    """The report's HTML: charts as inline SVG, or for the PDF (`pdf=True`) as PNG and without row-level tables.

    HTML renderers that take a `page` argument get the charts and the pdf flag; others render as they are.
    """
    renderer = _RENDERERS[(report["report"], "html")]
    if "page" not in inspect.signature(renderer).parameters:
        return renderer(report)
    figures = {}
    if charts:
        from detainers.reports.charts import embedded

        figures = embedded(report, extras, "png" if pdf else "svg")
    return renderer(report, page=Page(figures, pdf))


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 person', '3 people'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------- markdown

def md_cell(value: object) -> str:
    """A value fit for a Markdown table cell (no pipes, no raw HTML, one line)."""
    if value is None:
        return "—"
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def md_table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return lines


def _charge_text(c: dict) -> str:
    return f"{c['description']} ({c['category']}; {c['stage']})"


def _noncooperative_md(r: dict) -> str:
    restricted = r["audience"] == "restricted"
    out = [f"# {r['title']}", ""]
    if r["synthetic"]:
        out += [f"> **{r['data_label']}**", ""]
    if restricted:
        out += ["> **RESTRICTED** — contains identity fields (names, dates of birth). Do not publish.", ""]
    stances = ", ".join(r["parameters"]["stances"])
    out += [f"As of **{r['as_of']}** · audience: {r['audience']} · policies that: {stances} · "
            f"{plural(r['totals']['jurisdictions'], 'jurisdiction')} · {plural(r['totals']['people'], 'person', 'people')} held", ""]
    if not r["jurisdictions"]:
        out += ["No jurisdiction with such a policy held anyone with an active detainer on this date.", ""]
    for j in r["jurisdictions"]:
        out += [f"## {md_cell(j['name'])}, {j['state']} (`{md_cell(j['jurisdiction_id'])}`)", ""]
        p = j["policy"]
        if p:
            out.append(f"Policy in force on {r['as_of']}: **{p['stance']}** since {p['effective_from']}"
                       + (f" (agreement: {p['agreement']})" if p["agreement"] not in (None, "none") else "") + ".")
            if p["criteria"]:
                out.append(f"Criteria: {md_cell(p['criteria'])}")
            if p["source"]:
                out.append(f"Source: {md_cell(p['source'])}")
        else:
            out.append(f"No policy is recorded for {r['as_of']}.")
        c = j["counts"]
        out += ["", f"**{plural(c['people'], 'person', 'people')}** held with an active detainer.", ""]
        if c["by_category"]:
            out += md_table(["category", "people charged (any stage)", "people convicted"],
                            [[k, v, c["by_category_convicted"].get(k, 0)] for k, v in c["by_category"].items()])
            out.append("")
        if j["people"]:
            headers = ["person", "citizenship", "booked on", "detainer lodged", "days held", "most serious",
                       "charges (category; stage)"]
            if restricted:
                headers[1:1] = ["name", "date of birth"]
            rows = []
            for person in j["people"]:
                row = [person["person_key"], person["citizenship"], person["booked_on"], person["lodged_on"],
                       person["days_held"], person["most_serious_category"],
                       "; ".join(_charge_text(ch) for ch in person["charges"]) or "no charges recorded"]
                if restricted:
                    row[1:1] = [person["name"], person["date_of_birth"]]
                rows.append(row)
            out += md_table(headers, rows) + [""]
    out += _md_tail(r)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- csv

def noncooperative_rows(r: dict) -> tuple[list[str], list[list]]:
    """Headers and one row per person (charges joined): the CSV and the XLSX `people` sheet."""
    restricted = r["audience"] == "restricted"
    headers = ["data_label", "as_of", "audience", "jurisdiction_id", "jurisdiction_name", "state",
               "policy_stance", "policy_effective_from", "person_key"]
    if restricted:
        headers += ["person_id", "name", "date_of_birth"]
    headers += ["citizenship", "booked_on", "lodged_on", "days_held", "most_serious_category", "charges"]
    label = "SYNTHETIC" if r["synthetic"] else ""
    rows = []
    for j in r["jurisdictions"]:
        p = j["policy"] or {}
        for person in j["people"]:
            row = [label, r["as_of"], r["audience"], j["jurisdiction_id"], j["name"], j["state"],
                   p.get("stance"), p.get("effective_from"), person["person_key"]]
            if restricted:
                row += [person["person_id"], person["name"], person["date_of_birth"]]
            row += [person["citizenship"], person["booked_on"], person["lodged_on"], person["days_held"],
                    person["most_serious_category"], "; ".join(_charge_text(c) for c in person["charges"])]
            rows.append(row)
    return headers, rows


def _noncooperative_csv(r: dict) -> str:
    return _csv(*noncooperative_rows(r))


# ---------------------------------------------------------------- html

_env = Environment(loader=PackageLoader("detainers.reports", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _noncooperative_html(r: dict, page: Page | None = None) -> str:
    return _env.get_template("noncooperative.html").render(r=r, charge_text=_charge_text, plural=plural,
                                                           **(page or Page()).context())


# ---------------------------------------------------------------- shared by the period reports

def pct(value: float | None) -> str:
    """0.5 → '50.0%'; None → '—'."""
    return "—" if value is None else f"{value:.1%}"


def _where(row: dict) -> str:
    if row.get("jurisdiction_id") is None:
        return row["name"]
    return f"{row['name']}, {row['state']} ({row['jurisdiction_id']})"


def _policy_text(row: dict) -> str:
    if row["policy_stance"] is None:
        return "no policy recorded"
    text = f"{row['policy_stance']} since {row['policy_from']}"
    if row.get("policy_agreement") not in (None, "none"):
        text += f" ({row['policy_agreement']})"
    return text


def _md_head(r: dict, period_line: str) -> list[str]:
    out = [f"# {r['title']}", ""]
    if r["synthetic"]:
        out += [f"> **{r['data_label']}**", ""]
    if r["audience"] == "restricted":
        out += ["> **RESTRICTED** — contains identity fields (names, dates of birth). Do not publish.", ""]
    return out + [period_line, ""]


def _md_tail(r: dict) -> list[str]:
    out = ["## Definitions", ""]
    out += [f"- **{k}**: {v}" for k, v in r["definitions"].items()] + [""]
    out += ["## Scope and data fidelity", ""] + [f"- {md_cell(n)}" for n in r["fidelity"]] + [""]
    out += ["## Sources", ""]
    out += md_table(["id", "kind", "name", "sha256", "loaded at", "rows", "synthetic"],
                    [[s["source_id"], s["kind"], s["name"], s["sha256"][:16] + "…", s["loaded_at"],
                      s["rows_read"], "yes" if s["synthetic"] else "no"] for s in r["sources"]])
    g = r["generated_by"]
    out += ["", f"Generated by {g['tool']} {g['version']} (classifier tables {g['classifier_tables']})."]
    if r["synthetic"]:
        out += ["", f"**{r['data_label']}**"]
    return out


def _csv(headers: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralize(v) for v in row])
    return buffer.getvalue()


# ---------------------------------------------------------------- declined

DECLINED_COUNTS = ("issued", "ended", "honored", "declined", "transferred", "lifted", "cancelled", "unknown",
                   "decided")


def _declined_md(r: dict) -> str:
    restricted = r["audience"] == "restricted"
    p, t = r["period"], r["totals"]
    out = _md_head(r, f"Period **{p['from']}** to **{p['to']}** (both days included) · audience: {r['audience']} · "
                      f"{plural(t['jurisdictions'], 'jurisdiction')} · {plural(t['ended'], 'detainer')} ended, "
                      f"{t['declined']} declined of {t['decided']} decided (decline rate {pct(t['decline_rate'])})")
    out += ["## I. Outcomes by jurisdiction", "",
            "Counted on the day each detainer ended, under the policy in force that day. "
            "`issued` counts detainers lodged in the row's days; `still open` is a count on the row's last day.", ""]
    if r["jurisdictions"]:
        out += md_table(
            ["jurisdiction", "policy", "days", *DECLINED_COUNTS, "decline rate", "still open", "end unknown"],
            [[_where(j), _policy_text(j), f"{j['period_from']} – {j['period_to']}", *(j[k] for k in DECLINED_COUNTS),
              pct(j["decline_rate"]), j["still_open"], j["end_unknown"]] for j in r["jurisdictions"]])
    else:
        out.append("No detainer was lodged or ended in this period.")
    out += ["", f"## II. Declined detainers ({len(r['declined'])})", ""]
    if r["declined"]:
        headers = ["person", "citizenship", "jurisdiction", "facility", "policy at release", "lodged", "released",
                   "release reason", "most serious", "charges (category; stage)"]
        if restricted:
            headers[1:1] = ["name", "date of birth"]
        rows = []
        for d in r["declined"]:
            row = [d["person_key"] + (" (likely duplicate)" if d["likely_duplicate"] else ""), d["citizenship"],
                   d["jurisdiction_id"] or "unplaced", d["facility_id"], d["policy_stance"], d["lodged_on"],
                   d["released_on"], d["release_reason"], d["most_serious_category"],
                   "; ".join(_charge_text(c) for c in d["charges"]) or "no charges recorded"]
            if restricted:
                row[1:1] = [d["name"], d["date_of_birth"]]
            rows.append(row)
        out += md_table(headers, rows)
    else:
        out.append("No detainer was declined in this period.")
    out += ["", "## III. Policies", ""]
    if r["policies"]:
        out += md_table(["jurisdiction", "in force from", "until (exclusive)", "stance", "agreement", "criteria",
                         "source", "origin"],
                        [[f"{x['name']}, {x['state']} ({x['jurisdiction_id']})", x["effective_from"], x["effective_to"],
                          x["stance"], x["agreement"], x["criteria"], x["source"], x["origin"]] for x in r["policies"]])
    else:
        out.append("No policy is recorded for these jurisdictions in this period.")
    out += [""] + _md_tail(r)
    return "\n".join(out) + "\n"


def declined_rows(r: dict) -> tuple[list[str], list[list]]:
    """Headers and one row per declined detainer: the CSV and the XLSX `declined` sheet."""
    restricted = r["audience"] == "restricted"
    headers = ["data_label", "period_from", "period_to", "audience", "jurisdiction_id", "jurisdiction_name", "state",
               "facility_id", "policy_stance_at_release", "person_key"]
    if restricted:
        headers += ["person_id", "name", "date_of_birth"]
    headers += ["citizenship", "lodged_on", "released_on", "release_reason", "most_serious_category", "charges",
                "likely_duplicate"]
    places = {j["jurisdiction_id"]: j for j in r["jurisdictions"]}
    label = "SYNTHETIC" if r["synthetic"] else ""
    rows = []
    for d in r["declined"]:
        j = places.get(d["jurisdiction_id"], {"name": None, "state": None})
        row = [label, r["period"]["from"], r["period"]["to"], r["audience"], d["jurisdiction_id"], j["name"],
               j["state"], d["facility_id"], d["policy_stance"], d["person_key"]]
        if restricted:
            row += [d["person_id"], d["name"], d["date_of_birth"]]
        row += [d["citizenship"], d["lodged_on"], d["released_on"], d["release_reason"], d["most_serious_category"],
                "; ".join(_charge_text(c) for c in d["charges"]), "yes" if d["likely_duplicate"] else "no"]
        rows.append(row)
    return headers, rows


def _declined_csv(r: dict) -> str:
    return _csv(*declined_rows(r))


# ---------------------------------------------------------------- transfers

ENDED_COLUMNS = ("declined", "transferred", "lifted", "cancelled", "unknown")


def _transfers_groups(r: dict) -> str:
    """'2 jurisdictions + unplaced', '1 region + (in no region)'."""
    by = r["parameters"]["by"]
    key = "jurisdiction_id" if by == "jurisdiction" else "region"
    named = sum(1 for g in r["groups"] if g[key] is not None)
    text = plural(named, by)
    if named < len(r["groups"]):
        text += " + unplaced" if by == "jurisdiction" else " + (in no region)"
    return text


def _transfers_md(r: dict) -> str:
    p = r["period"]
    by = r["parameters"]["by"]
    out = _md_head(r, f"Fiscal years **FY{p['fy_from']}** to **FY{p['fy_to']}** ({p['from']} to {p['to']}) · "
                      f"by {by} · audience: {r['audience']} · {_transfers_groups(r)}")
    headers = ["FY", "honored (of lodged)", "lodged", "still open (of lodged)", "honored (of ended)", "ended",
               "share honored", *(f"{o} (ended)" for o in ENDED_COLUMNS)]

    def table(years: list[dict]) -> list[str]:
        return md_table(headers, [[f"FY{y['fy']}", y["honored_by_lodged"], y["lodged"], y["open_of_lodged"],
                                   y["honored_by_ended"], y["ended"], pct(y["share_honored"]),
                                   *(y["ended_outcomes"][o] for o in ENDED_COLUMNS)] for y in years])

    if not r["groups"]:
        out += ["No detainer was lodged or ended in these fiscal years.", ""]
    for g in r["groups"]:
        title = _where(g) if by == "jurisdiction" else g["name"]
        out += [f"## {md_cell(title)}", ""]
        if g.get("policies"):
            spans = [f"{x['stance']} from {x['effective_from']}"
                     + (f" until {x['effective_to']}" if x["effective_to"] else "") for x in g["policies"]]
            out.append("Policies in these years: " + "; ".join(spans) + ".")
            out.append("")
        out += table(g["years"]) + [""]
    if r["totals"]:
        out += ["## All jurisdictions shown", ""]
        out += md_table(headers[:7], [[f"FY{y['fy']}", y["honored_by_lodged"], y["lodged"], y["open_of_lodged"],
                                       y["honored_by_ended"], y["ended"], pct(y["share_honored"])]
                                      for y in r["totals"]]) + [""]
    out += _md_tail(r)
    return "\n".join(out) + "\n"


def transfers_rows(r: dict) -> tuple[list[str], list[list]]:
    """Headers and one row per group and fiscal year: the CSV and the XLSX `years` sheet."""
    by = r["parameters"]["by"]
    keys = ["jurisdiction_id", "jurisdiction_name", "state"] if by == "jurisdiction" else ["region"]
    headers = ["data_label", "by", *keys, "fy", "fy_from", "fy_to", "honored_by_lodged", "lodged", "open_of_lodged",
               "honored_by_ended", "ended", "share_honored", *(f"{o}_ended" for o in ENDED_COLUMNS)]
    label = "SYNTHETIC" if r["synthetic"] else ""
    rows = []
    for g in r["groups"]:
        ident = [g["jurisdiction_id"], g["name"], g["state"]] if by == "jurisdiction" else [g["region"]]
        for y in g["years"]:
            rows.append([label, by, *ident, y["fy"], y["from"], y["to"], y["honored_by_lodged"], y["lodged"],
                         y["open_of_lodged"], y["honored_by_ended"], y["ended"], y["share_honored"],
                         *(y["ended_outcomes"][o] for o in ENDED_COLUMNS)])
    return headers, rows


def _transfers_csv(r: dict) -> str:
    return _csv(*transfers_rows(r))


def _declined_html(r: dict, page: Page | None = None) -> str:
    return _env.get_template("declined.html").render(r=r, charge_text=_charge_text, plural=plural, pct=pct,
                                                     where=_where, policy_text=_policy_text, counts=DECLINED_COUNTS,
                                                     **(page or Page()).context())


def _transfers_html(r: dict, page: Page | None = None) -> str:
    return _env.get_template("transfers.html").render(r=r, pct=pct, where=_where, ended_columns=ENDED_COLUMNS,
                                                      groups_text=_transfers_groups(r), **(page or Page()).context())


_RENDERERS = {
    ("non-cooperative", "md"): _noncooperative_md,
    ("non-cooperative", "csv"): _noncooperative_csv,
    ("non-cooperative", "html"): _noncooperative_html,
    ("declined", "md"): _declined_md,
    ("declined", "csv"): _declined_csv,
    ("declined", "html"): _declined_html,
    ("transfers", "md"): _transfers_md,
    ("transfers", "csv"): _transfers_csv,
    ("transfers", "html"): _transfers_html,
}


# ---------------------------------------------------------------- policy-change

POLICY_CHANGE_OUTCOMES = ("honored", "declined", "transferred", "lifted", "cancelled", "unknown")
POLICY_CHANGE_SHARES = ("honored", "declined", "transferred")


def share_text(s: dict) -> str:
    """{'share': .5, 'low': .24, 'high': .76} → '50.0% (23.7–76.3%)'; no decided → '—'; withheld (computed from
    suppressed counts) → 'withheld'."""
    if s["share"] is None:
        return "withheld" if s.get("note") else "—"
    return f"{s['share']:.1%} ({s['low']:.1%}–{s['high']:.1%})"


def _window_policies(w: dict) -> str:
    return "; ".join(f"{p['stance'] or 'no policy recorded'} ({p['from']} – {p['to']})" for p in w["policies"])


def _monthly_wide(r: dict) -> list[dict]:
    """The long monthly series as one row per month segment, outcomes as columns."""
    rows: dict[tuple[str, str], dict] = {}
    for m in r["monthly"]:
        row = rows.setdefault((m["month"], m["window"]), {"month": m["month"], "window": m["window"],
                                                           "from": m["from"], "to": m["to"]})
        row[m["outcome"]] = m["count"]
    return list(rows.values())


def _policy_change_md(r: dict) -> str:
    j, c, p = r["jurisdiction"], r["comparison"], r["parameters"]
    size = f"{p['window_months']} months" if p["window_months"] else f"{p['window_days']} days"
    before, after = r["windows"]
    out = _md_head(r, f"**{j['name']}, {j['state']}** (`{md_cell(j['jurisdiction_id'])}`) · change date "
                      f"**{r['period']['change_date']}** · windows of {size}: "
                      f"before {before['from']} – {before['to']}, after {after['from']} – {after['to']} "
                      f"(both days included) · audience: {r['audience']}")
    out += ["## What the data say", "", md_cell(c["verdict"]), ""]
    out += ["## I. Outcomes by window", "",
            "Counted on the day each detainer ended. `lodged` counts detainers lodged in the window, for scale.", ""]
    out += md_table(["window", "days", "policy in force", "lodged", *POLICY_CHANGE_OUTCOMES, "ended", "decided",
                     "open at end"],
                    [[f"{w['window']} ({w['from']} – {w['to']})", w["days"], _window_policies(w), w["lodged"],
                      *(w[o] for o in POLICY_CHANGE_OUTCOMES), w["ended"], w["decided"], w["open_at_end"]]
                     for w in r["windows"]])
    out += ["", "## II. Shares of decided detainers (95% Wilson intervals)", ""]
    out += md_table(["window", "decided", *(f"{o} share" for o in POLICY_CHANGE_SHARES)],
                    [[w["window"], w["decided"], *(share_text(w["shares"][o]) for o in POLICY_CHANGE_SHARES)]
                     for w in r["windows"]])
    if c["difference"] is not None:
        out += ["", f"Decline share, after minus before: **{c['difference'] * 100:+.1f} points** "
                    f"(95% interval {c['low'] * 100:+.1f} to {c['high'] * 100:+.1f}, Newcombe's method)."]
    out += ["", "## III. Month by month (detainers that ended, by outcome)", ""]
    wide = _monthly_wide(r)
    out += md_table(["month", "window", *POLICY_CHANGE_OUTCOMES],
                    [[m["month"], m["window"], *(m[o] for o in POLICY_CHANGE_OUTCOMES)] for m in wide])
    out += ["", "## IV. Policies", ""]
    if r["recorded_change"]:
        rc = r["recorded_change"]
        to = rc["to_policy"]["stance"] if rc["to_policy"] else "no policy recorded"
        out += [f"Nearest recorded change: **{rc['on']}** ({rc['from_policy']['stance']} → {to}).", ""]
    if r["policies"]:
        out += md_table(["in force from", "until (exclusive)", "stance", "agreement", "criteria", "source", "origin"],
                        [[x["effective_from"], x["effective_to"], x["stance"], x["agreement"], x["criteria"],
                          x["source"], x["origin"]] for x in r["policies"]])
    else:
        out.append("No policy is recorded for this jurisdiction in these windows.")
    out += [""] + _md_tail(r)
    return "\n".join(out) + "\n"


def _policy_change_csv(r: dict) -> str:
    j = r["jurisdiction"]
    label = "SYNTHETIC" if r["synthetic"] else ""
    headers = ["data_label", "jurisdiction_id", "jurisdiction_name", "state", "change_date", "window", "month",
               "month_from", "month_to", "outcome", "count"]
    return _csv(headers, [[label, j["jurisdiction_id"], j["name"], j["state"], r["period"]["change_date"],
                           m["window"], m["month"], m["from"], m["to"], m["outcome"], m["count"]]
                          for m in r["monthly"]])


def _policy_change_html(r: dict, page: Page | None = None) -> str:
    return _env.get_template("policy_change.html").render(
        r=r, share_text=share_text, window_policies=_window_policies, monthly=_monthly_wide(r),
        outcomes=POLICY_CHANGE_OUTCOMES, shares=POLICY_CHANGE_SHARES, **(page or Page()).context())


# ---------------------------------------------------------------- rearrest

def _is_marker(value: object) -> bool:
    from detainers.reports.suppress import is_marker

    return is_marker(value)


REARREST_STAGES = ("pending", "convicted", "dismissed", "unknown")


def rearrest_share(g: dict) -> str:
    """'25.0% (4.6–69.9%)', '—' when nobody could be followed, 'withheld' when its counts are suppressed."""
    if g["share"] is None:
        return "withheld" if _is_marker(g["rebooked"]) or _is_marker(g["followed"]) else "—"
    return share_text(g)


REARREST_STATUS = {"rebooked": "re-booked", "not_rebooked": "not re-booked", "censored": "censored",
                   "not_linkable": "not linkable"}


def _rearrest_detail_rows(r: dict, group: str) -> list[list]:
    restricted = r["audience"] == "restricted"
    rows = []
    for d in r["people"]:
        if d["group"] != group:
            continue
        row = [d["person_key"], d["citizenship"], d["jurisdiction_id"] or "unplaced", d["policy_stance"],
               d["released_on"], d["release_reason"], REARREST_STATUS[d["status"]], d["rebooked_on"],
               d["days_to_rebooking"], "; ".join(_charge_text(c) for c in d["charges"]) or None]
        if restricted:
            row[1:1] = [d["name"], d["date_of_birth"]]
        rows.append(row)
    return rows


def _rearrest_md(r: dict) -> str:
    restricted = r["audience"] == "restricted"
    p, n = r["period"], r["parameters"]["follow_days"]
    out = _md_head(r, f"Released **{p['from']}** to **{p['to']}** (both days included) · followed for {n} days "
                      f"after release · bookings in the data through {r['data_through'] or '—'} · "
                      f"audience: {r['audience']}")
    out += [f"## I. Booked again within {n} days, by group", "",
            "Each person counted once, from their first release in the period. `followed` = released − not "
            "linkable − censored is the denominator. A booking is an arrest, not a conviction.", ""]
    out += md_table(["group", "released", "not linkable", "censored", "followed", "re-booked",
                     "share (95% interval)", "median days to re-booking"],
                    [[g["label"], g["released"], g["not_linkable"], g["censored"], g["followed"], g["rebooked"],
                      rearrest_share(g), g["median_days"]] for g in r["groups"]])
    notes = [f"- {md_cell(g['label'])}: {md_cell(g['note'])}" for g in r["groups"] if g["note"]]
    if notes:
        out += [""] + notes
    out += ["", "## II. What the new booking was for (charged with, by category and stage)", ""]
    for g in r["groups"]:
        out += [f"### {md_cell(g['label'])}", ""]
        if g["new_charges"]:
            out += md_table(["category", "people charged with", "charges", *REARREST_STAGES],
                            [[c["category"], c["people"], c["charges"], *(c[s] for s in REARREST_STAGES)]
                             for c in g["new_charges"]]) + [""]
        elif not g["no_charges_recorded"]:
            out += ["Nobody in this group was re-booked within the window.", ""]
        if g["no_charges_recorded"]:
            people = plural(g["no_charges_recorded"], "person", "people")
            out += [f"{people} re-booked with no charges recorded.", ""]
    out += ["## III. People, by group", "",
            "The person key is a pseudonym. `re-booked on` and the charges are those of the first later booking "
            "within the window, shown only for people followed for the whole window.", ""]
    headers = ["person", "citizenship", "jurisdiction", "policy at release", "released", "release reason",
               "follow-up", "re-booked on", "days", "charged with (category; stage)"]
    if restricted:
        headers[1:1] = ["name", "date of birth"]
    for g in r["groups"]:
        detail = _rearrest_detail_rows(r, g["group"])
        out += [f"### {md_cell(g['label'])} ({len(detail)})", ""]
        out += (md_table(headers, detail) if detail else ["Nobody in this group in this period."]) + [""]
    out += _md_tail(r)
    return "\n".join(out) + "\n"


def _rearrest_csv(r: dict) -> str:
    restricted = r["audience"] == "restricted"
    headers = ["data_label", "period_from", "period_to", "follow_days", "audience", "group", "person_key"]
    if restricted:
        headers += ["person_id", "name", "date_of_birth", "booking_id", "rebooking_id"]
    headers += ["citizenship", "jurisdiction_id", "facility_id", "policy_stance_at_release", "released_on",
                "release_reason", "window_end", "status", "not_linkable_reason", "rebooked_on", "days_to_rebooking",
                "rebooking_facility_id", "rebooking_jurisdiction_id", "bookings_in_window", "most_serious_category",
                "charges"]
    label = "SYNTHETIC" if r["synthetic"] else ""
    rows = []
    for d in r["people"]:
        row = [label, r["period"]["from"], r["period"]["to"], r["parameters"]["follow_days"], r["audience"],
               d["group"], d["person_key"]]
        if restricted:
            row += [d["person_id"], d["name"], d["date_of_birth"], d["booking_id"], d["rebooking_id"]]
        row += [d["citizenship"], d["jurisdiction_id"], d["facility_id"], d["policy_stance"], d["released_on"],
                d["release_reason"], d["window_end"], d["status"], d["not_linkable_reason"], d["rebooked_on"],
                d["days_to_rebooking"], d["rebooking_facility_id"], d["rebooking_jurisdiction_id"],
                d["bookings_in_window"], d["most_serious_category"],
                "; ".join(_charge_text(c) for c in d["charges"])]
        rows.append(row)
    return _csv(headers, rows)


def _rearrest_html(r: dict, page: Page | None = None) -> str:
    return _env.get_template("rearrest.html").render(r=r, charge_text=_charge_text, plural=plural,
                                                     share=rearrest_share, stages=REARREST_STAGES,
                                                     status=REARREST_STATUS, **(page or Page()).context())


_RENDERERS.update({
    ("policy-change", "md"): _policy_change_md,
    ("policy-change", "csv"): _policy_change_csv,
    ("policy-change", "html"): _policy_change_html,
    ("rearrest", "md"): _rearrest_md,
    ("rearrest", "csv"): _rearrest_csv,
    ("rearrest", "html"): _rearrest_html,
})
