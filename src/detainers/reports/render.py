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


_RENDERERS = {
    ("non-cooperative", "md"): _noncooperative_md,
    ("non-cooperative", "csv"): _noncooperative_csv,
    ("non-cooperative", "html"): _noncooperative_html,
}
