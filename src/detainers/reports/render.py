"""Render a report dict as Markdown, CSV, JSON or HTML. Renderers only format; they never query.

Spreadsheet safety: CSV cells that begin with = + - @ (or a tab or carriage
return) are prefixed with an apostrophe so no spreadsheet runs them as formulas.
"""

from __future__ import annotations

import csv
import io
import json

from jinja2 import Environment, PackageLoader, select_autoescape

FORMATS = ("md", "json", "csv", "html")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Make a cell safe to open in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render(report: dict, fmt: str) -> str:
    """The report in one of FORMATS."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    renderer = _RENDERERS[(report["report"], fmt)]
    return renderer(report)


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
    out += ["## Definitions", ""]
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
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- csv

def _noncooperative_csv(r: dict) -> str:
    restricted = r["audience"] == "restricted"
    headers = ["data_label", "as_of", "audience", "jurisdiction_id", "jurisdiction_name", "state",
               "policy_stance", "policy_effective_from", "person_key"]
    if restricted:
        headers += ["person_id", "name", "date_of_birth"]
    headers += ["citizenship", "booked_on", "lodged_on", "days_held", "most_serious_category", "charges"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    label = "SYNTHETIC" if r["synthetic"] else ""
    for j in r["jurisdictions"]:
        p = j["policy"] or {}
        for person in j["people"]:
            row = [label, r["as_of"], r["audience"], j["jurisdiction_id"], j["name"], j["state"],
                   p.get("stance"), p.get("effective_from"), person["person_key"]]
            if restricted:
                row += [person["person_id"], person["name"], person["date_of_birth"]]
            row += [person["citizenship"], person["booked_on"], person["lodged_on"], person["days_held"],
                    person["most_serious_category"], "; ".join(_charge_text(c) for c in person["charges"])]
            writer.writerow([neutralize(v) for v in row])
    return buffer.getvalue()


# ---------------------------------------------------------------- html

_env = Environment(loader=PackageLoader("detainers.reports", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _noncooperative_html(r: dict) -> str:
    return _env.get_template("noncooperative.html").render(r=r, charge_text=_charge_text, plural=plural)


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


def _declined_csv(r: dict) -> str:
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
    return _csv(headers, rows)


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


def _transfers_csv(r: dict) -> str:
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
    return _csv(headers, rows)


def _declined_html(r: dict) -> str:
    return _env.get_template("declined.html").render(r=r, charge_text=_charge_text, plural=plural, pct=pct,
                                                     where=_where, policy_text=_policy_text, counts=DECLINED_COUNTS)


def _transfers_html(r: dict) -> str:
    return _env.get_template("transfers.html").render(r=r, pct=pct, where=_where, ended_columns=ENDED_COLUMNS,
                                                      groups_text=_transfers_groups(r))


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
