"""Charts for the reports: Altair (Vega-Lite) specs drawn offline with vl-convert.

Each chart function takes rows from a report dict (or from analytics) and returns an
Altair chart; `to_svg` draws it as SVG text (inlined in HTML) and `to_png` as PNG
bytes (embedded in PDF). Every chart has a title, axis titles and a legend. Colours
come from the Okabe–Ito palette, which stays distinguishable for the common forms
of colour blindness, with one fixed colour per outcome in every chart; no outcome
is drawn in an alarm colour. A chart made from synthetic data says SYNTHETIC in its
subtitle.

Offline: data are always inline values (never URLs), and vl-convert is given an
empty list of allowed base URLs, so drawing a chart cannot fetch anything.

`report_figures(report, extras)` picks the charts that fit a report and says where
they go; `extras_for(conn, report)` is the one function here that queries — it
gathers what the charts need beyond the report dict (the monthly series of the
declined report, the FIPS codes of its jurisdictions). Renderers never query.
"""

from __future__ import annotations

import base64
import struct
from collections import Counter
from dataclasses import dataclass
from datetime import date
from html import escape

import altair as alt
import vl_convert as vlc

#: Outcome → colour (Okabe–Ito). Fixed so that an outcome looks the same in every chart.
OUTCOME_COLOURS = {
    "honored": "#0072B2",      # blue
    "declined": "#E69F00",     # orange
    "transferred": "#56B4E9",  # sky blue
    "lifted": "#009E73",       # bluish green
    "cancelled": "#CC79A7",    # reddish purple
    "in_custody": "#F0E442",   # yellow
    "unknown": "#999999",      # grey
}
OUTCOME_LABELS = {
    "honored": "honored (to ICE)",
    "declined": "declined",
    "transferred": "transferred (other custodian)",
    "lifted": "lifted",
    "cancelled": "cancelled",
    "in_custody": "still in custody",
    "unknown": "unknown",
}
ENDED_OUTCOMES = ("honored", "declined", "transferred", "lifted", "cancelled", "unknown")
#: Two neutral colours for two-valued comparisons (before/after, charged/convicted).
PAIR_COLOURS = ("#9AA5B1", "#0072B2")
FONT = "DejaVu Sans"
#: Plot width in CSS pixels: chart plus legend fits a Letter or A4 portrait page.
WIDTH = 430

_CONFIG = {
    "font": FONT,
    "title": {"fontSize": 14, "subtitleFontSize": 11, "subtitleColor": "#4a5566", "anchor": "start",
              "offset": 8},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelColor": "#1d2430", "titleColor": "#1d2430",
             "gridColor": "#e3e7ec"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 220},
    "view": {"stroke": None},
    "background": "white",
}


def _vl_version() -> str | None:
    wanted = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # 'v6.4.1' → '6.4'
    return wanted if wanted in vlc.get_vegalite_versions() else None


_VL_VERSION = _vl_version()


def _spec(chart) -> dict:
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    return spec


def to_svg(chart) -> str:
    """The chart as SVG text (an `<svg>` element, fit to inline in HTML)."""
    return vlc.vegalite_to_svg(_spec(chart), vl_version=_VL_VERSION, allowed_base_urls=[])


def to_png(chart, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes; `scale` 2 draws two pixels per CSS pixel (sharp in print)."""
    return vlc.vegalite_to_png(_spec(chart), vl_version=_VL_VERSION, scale=scale, allowed_base_urls=[])


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def num(value) -> int | float | None:
    """A count or rate as a number; None for a missing value or a suppressed cell ("<5", "suppressed")."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def suppressed_note(n: int, what: str = "small counts") -> str:
    return f"{n} {what} suppressed for the public audience {'is' if n == 1 else 'are'} not drawn." if n else ""


def _title(text: str, lines: list[str], synthetic: bool | str | None) -> alt.TitleParams:
    subtitle = [line for line in lines if line]
    if synthetic:
        subtitle.append(synthetic if isinstance(synthetic, str) else "SYNTHETIC DATA — not real people or counts")
    return alt.TitleParams(text, subtitle=subtitle or alt.Undefined)


def _outcome_colour(outcomes: list[str]) -> alt.Scale:
    return alt.Scale(domain=[OUTCOME_LABELS[o] for o in outcomes], range=[OUTCOME_COLOURS[o] for o in outcomes])


def _finish(chart):
    return chart.configure(**{k: v for k, v in _CONFIG.items() if k not in ("title", "axis", "legend", "view")}) \
        .configure_title(**_CONFIG["title"]).configure_axis(**_CONFIG["axis"]) \
        .configure_legend(**_CONFIG["legend"]).configure_view(**_CONFIG["view"])


# ---------------------------------------------------------------- (a) monthly series

def monthly_outcomes_chart(rows: list[dict], *, months: list[str] | None = None, title: str | None = None,
                           subtitle: list[str] | None = None, synthetic: bool | str = False,
                           cohort: str = "ended", suppressed: int = 0):
    """Stacked bars: detainers per month (x), stacked by outcome. `rows` as analytics.monthly gives them.

    `months` fixes the months shown (every month of the period, also empty ones). Rows whose count
    is not a number (a suppressed cell) are not drawn; `suppressed` counts cells left out upstream.
    """
    dropped = sum(1 for r in rows if num(r["detainers"]) is None) + suppressed
    rows = [r for r in rows if num(r["detainers"]) is not None]
    months = months or sorted({r["month"] for r in rows})
    present = {r["outcome"] for r in rows}
    outcomes = [o for o in OUTCOME_COLOURS if o in present] or list(ENDED_OUTCOMES)
    order = {OUTCOME_LABELS[o]: i for i, o in enumerate(outcomes)}
    values = [{"month": r["month"], "outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
               "order": order.get(OUTCOME_LABELS.get(r["outcome"], r["outcome"]), 99),
               "detainers": r["detainers"]} for r in rows]
    verb = "ended" if cohort == "ended" else "lodged"
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("month:O", title="month", scale=alt.Scale(domain=months), axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("sum(detainers):Q", title=f"detainers {verb}", stack="zero"),
        color=alt.Color("outcome:N", title="outcome", scale=_outcome_colour(outcomes),
                        legend=alt.Legend(orient="right")),
        order=alt.Order("order:Q"),
        tooltip=["month:O", "outcome:N", "detainers:Q"],
    ).properties(
        width=max(WIDTH, 0) if len(months) > 6 else 320, height=220,
        title=_title(title or f"Detainers {'that ended' if cohort == 'ended' else 'lodged'} per month, by outcome",
                     [*(subtitle or []), suppressed_note(dropped, "monthly counts")], synthetic))
    return _finish(chart)


# ---------------------------------------------------------------- (b) outcome shares by jurisdiction

def row_label(row: dict) -> str:
    """'Wake County, NC · declines from 2018-12-03' for a declined-report row (policy rows are told apart)."""
    name = row["name"] if row.get("jurisdiction_id") is None else f"{row['name']}, {row['state']}"
    if row.get("split"):
        return f"{name} ({policy_span(row, row.get('first_part', True), row.get('last_part', True))})"
    return name


def policy_span(row: dict, first: bool, last: bool) -> str:
    """'honors, to 2018-12-04', 'declines, from 2018-12-05', 'limited, 2019-01-01 – 2019-03-31'."""
    stance = row.get("policy_stance") or "no policy"
    if first and not last:
        return f"{stance}, to {row['period_to']}"
    if last and not first:
        return f"{stance}, from {row['period_from']}"
    return f"{stance}, {row['period_from']} – {row['period_to']}"


def outcome_shares_chart(rows: list[dict], *, title: str | None = None, subtitle: list[str] | None = None,
                         synthetic: bool | str = False):
    """100 % stacked horizontal bars: each row's ended detainers split by outcome.

    `rows` are the declined report's `jurisdictions` rows (one per jurisdiction and policy);
    rows where nothing ended are left out (a share of nothing is not drawn), and so are rows
    with a suppressed count (their shares cannot be drawn without giving the count away).
    """
    values, labels, withheld = [], [], 0
    for k, row in enumerate(rows):
        if any(num(row.get(k)) is None for k in (*ENDED_OUTCOMES, "ended")):
            withheld += 1
            continue
        if not row["ended"]:
            continue
        key = row.get("jurisdiction_id")
        first = k == 0 or rows[k - 1].get("jurisdiction_id") != key
        last = k == len(rows) - 1 or rows[k + 1].get("jurisdiction_id") != key
        label = row_label({**row, "first_part": first, "last_part": last})
        labels.append(label)
        for i, o in enumerate(ENDED_OUTCOMES):
            if row.get(o):
                values.append({"row": label, "outcome": OUTCOME_LABELS[o], "order": i, "detainers": row[o],
                               "share": row[o] / row["ended"], "ended": row["ended"]})
    outcomes = [o for o in ENDED_OUTCOMES if any(v["outcome"] == OUTCOME_LABELS[o] for v in values)] \
        or list(ENDED_OUTCOMES)
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("row:N", title=None, sort=labels, axis=alt.Axis(labelLimit=300)),
        x=alt.X("sum(detainers):Q", stack="normalize", title="share of detainers that ended",
                axis=alt.Axis(format="%")),
        color=alt.Color("outcome:N", title="outcome", scale=_outcome_colour(outcomes),
                        legend=alt.Legend(orient="bottom", columns=3)),
        order=alt.Order("order:Q"),
        tooltip=["row:N", "outcome:N", "detainers:Q", alt.Tooltip("share:Q", format=".1%"), "ended:Q"],
    ).properties(
        width=WIDTH - 60, height=alt.Step(22),
        title=_title(title or "Outcomes of detainers that ended, by jurisdiction and policy",
                     [*(subtitle or []), f"{withheld} row{'s' if withheld != 1 else ''} with suppressed small "
                                         "counts not drawn." if withheld else ""], synthetic))
    return _finish(chart)


# ---------------------------------------------------------------- (c) before / after

def before_after_chart(before: dict, after: dict, *, labels: tuple[str, str] = ("before", "after"),
                       outcomes: tuple[str, ...] = ENDED_OUTCOMES, title: str | None = None,
                       subtitle: list[str] | None = None, synthetic: bool | str = False):
    """Grouped bars: each outcome's share of the period's total, for two periods side by side.

    `before` and `after` map outcome → count (other keys are ignored); shares are of the
    sum over `outcomes` in each period, given in the legend as n.
    """
    values = []
    legend = []
    for label, counts in zip(labels, (before, after)):
        total = sum(int(counts.get(o) or 0) for o in outcomes)
        period = f"{label} (n={total})"
        legend.append(period)
        for i, o in enumerate(outcomes):
            n = int(counts.get(o) or 0)
            values.append({"outcome": OUTCOME_LABELS[o], "order": i, "period": period, "detainers": n,
                           "share": n / total if total else 0.0})
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("outcome:N", title="outcome", sort=[OUTCOME_LABELS[o] for o in outcomes],
                axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        xOffset=alt.XOffset("period:N", sort=legend),
        y=alt.Y("share:Q", title="share of detainers", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("period:N", title="period", sort=legend,
                        scale=alt.Scale(domain=legend, range=list(PAIR_COLOURS)),
                        legend=alt.Legend(orient="right", labelLimit=260)),
        tooltip=["period:N", "outcome:N", "detainers:Q", alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=WIDTH - 120, height=200,
                 title=_title(title or "Outcome shares before and after", subtitle or [], synthetic))
    return _finish(chart)


# ---------------------------------------------------------------- non-cooperative: categories

def categories_chart(section: dict, *, as_of: str, synthetic: bool | str = False):
    """Horizontal bars per charge category: people charged (any stage) beside people convicted."""
    counts = section["counts"]
    # a category whose charged count is suppressed is left out whole (an empty row would read as zero)
    cats = [c for c, n in counts["by_category"].items() if num(n) is not None]
    kinds = ("charged (any stage)", "convicted")
    values, dropped = [], len(counts["by_category"]) - len(cats)
    dropped += sum(1 for c, n in counts["by_category_convicted"].items() if c not in cats and num(n) is None)
    for cat in cats:
        for kind, n in ((kinds[0], counts["by_category"][cat]), (kinds[1], counts["by_category_convicted"].get(cat, 0))):
            if num(n) is None:
                dropped += 1
            else:
                values.append({"category": cat, "kind": kind, "people": n})
    name = f"{section['name']}, {section['state']}"
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("category:N", title="charge category", sort=cats, axis=alt.Axis(labelLimit=200)),
        yOffset=alt.YOffset("kind:N", sort=list(kinds)),
        x=alt.X("people:Q", title=f"people (of {counts['people']} held)" if num(counts["people"]) is not None
                else "people",
                axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("kind:N", title="people", sort=list(kinds),
                        scale=alt.Scale(domain=list(kinds), range=list(PAIR_COLOURS)),
                        legend=alt.Legend(orient="bottom")),
        tooltip=["category:N", "kind:N", "people:Q"],
    ).properties(
        width=WIDTH - 80, height=alt.Step(9),
        title=_title(f"{name}: people held by charge category",
                     [f"As of {as_of}. A person counts once per category; a charge is an accusation "
                      "unless convicted.", suppressed_note(dropped)], synthetic))
    return _finish(chart)


# ---------------------------------------------------------------- transfers: fiscal years

def fiscal_years_chart(group: dict, *, synthetic: bool | str = False):
    """Stacked bars per fiscal year: detainers that ended that year, by outcome (honored = to ICE)."""
    values, dropped = [], 0
    fys = [f"FY{y['fy']}" for y in group["years"]]
    for y in group["years"]:
        for i, o in enumerate(ENDED_OUTCOMES):
            n = y["ended_outcomes"].get(o, 0)
            if num(n) is None:
                dropped += 1
            elif n:
                values.append({"fy": f"FY{y['fy']}", "outcome": OUTCOME_LABELS[o], "order": i, "detainers": n})
    name = group["name"] if group.get("state") is None else f"{group['name']}, {group['state']}"
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("fy:O", title="fiscal year (ended)", scale=alt.Scale(domain=fys), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(detainers):Q", title="detainers that ended", stack="zero"),
        color=alt.Color("outcome:N", title="outcome", scale=_outcome_colour(list(ENDED_OUTCOMES)),
                        legend=alt.Legend(orient="right")),
        order=alt.Order("order:Q"),
        tooltip=["fy:O", "outcome:N", "detainers:Q"],
    ).properties(width=min(WIDTH - 120, 70 * len(fys) + 40), height=180,
                 title=_title(f"{name}: detainers that ended, by fiscal year and outcome",
                              ["Honored = released to ICE custody.", suppressed_note(dropped)], synthetic))
    return _finish(chart)


# ---------------------------------------------------------------- which charts a report gets

@dataclass(frozen=True)
class Figure:
    """One chart of a report: where it goes (`place`), its title (alt text) and the chart itself."""

    place: str
    title: str
    chart: object


def _label(report: dict) -> str | bool:
    return (report.get("data_label") or True) if report.get("synthetic") else False


def _stance_at(rows: list[dict], jid: str | None) -> str | None:
    mine = [r for r in rows if r["jurisdiction_id"] == jid]
    return mine[-1]["policy_stance"] if mine else None


def report_figures(report: dict, extras: dict | None = None) -> list[Figure]:
    """The charts that fit the report, each with its place in the page.

    Places: `top` (after the opening line), `outcomes` (after the declined report's section I),
    `shares` and `monthly` (after the policy-change report's sections II and III),
    `jurisdiction:<id>` (a non-cooperative jurisdiction's section), `group:<n>` (a transfers table).
    Counts suppressed for the public audience are never drawn.
    """
    extras = extras or {}
    kind = report["report"]
    if kind == "non-cooperative":
        return _noncooperative_figures(report)
    if kind == "declined":
        return _declined_figures(report, extras)
    if kind == "transfers":
        return _transfers_figures(report)
    if kind == "policy-change":
        return _policy_change_figures(report)
    return []


def _noncooperative_figures(report: dict) -> list[Figure]:
    from detainers.reports import countymap

    label = _label(report)
    figures = []
    for j in report["jurisdictions"]:
        if any(num(n) for n in j["counts"]["by_category"].values()):  # not when every count is suppressed
            figures.append(Figure(f"jurisdiction:{j['jurisdiction_id']}",
                                  f"{j['name']}, {j['state']}: people held by charge category",
                                  categories_chart(j, as_of=report["as_of"], synthetic=label)))
    placed = {j["fips"]: j for j in report["jurisdictions"] if j.get("fips") and num(j["counts"]["people"]) is not None}
    if placed:
        figures.append(Figure("top", "People held with an active detainer, by county", countymap.county_map(
            {f: j["counts"]["people"] for f, j in placed.items()},
            stances={f: (j["policy"] or {}).get("stance") for f, j in placed.items()},
            title="People held with an active detainer, by county",
            subtitle=[f"As of {report['as_of']}. Outline: the county's policy that day."],
            value_title="people held", synthetic=label)))
    return figures


def _declined_figures(report: dict, extras: dict) -> list[Figure]:
    from detainers.reports import countymap

    label = _label(report)
    rows = report["jurisdictions"]
    period = report["period"]
    figures = []
    if any(num(r["ended"]) for r in rows):
        figures.append(Figure("outcomes", "Outcomes of detainers that ended, by jurisdiction and policy",
                              outcome_shares_chart(rows, synthetic=label, subtitle=[
                                  f"Detainers that ended {period['from']} to {period['to']}, counted on the "
                                  "day they ended, under the policy in force that day."])))
    monthly = extras.get("monthly")
    if monthly:
        partial = [w for w, whole in (("first", period["from"].endswith("-01")),
                                      ("last", extras.get("last_day_of_month", True))) if not whole]
        note = (f" The {' and '.join(partial)} month{'s are' if len(partial) > 1 else ' is'} partial."
                if partial else "")
        figures.append(Figure("outcomes", "Detainers that ended per month, by outcome", monthly_outcomes_chart(
            monthly, months=extras.get("months"), synthetic=label, suppressed=extras.get("monthly_suppressed", 0),
            subtitle=[f"All jurisdictions in this report, {period['from']} to {period['to']}.{note}"])))
    for jid in dict.fromkeys(r["jurisdiction_id"] for r in rows if r["split"]):
        parts = [r for r in rows if r["jurisdiction_id"] == jid]
        if any(num(p[o]) is None for p in parts for o in ENDED_OUTCOMES):
            continue  # a share would give a suppressed count away
        parts = [p for p in parts if p["ended"]]
        if len(parts) < 2:
            continue
        first, last = parts[0], parts[-1]
        name = f"{first['name']}, {first['state']}"
        labels = tuple(f"{p.get('policy_stance') or 'no policy'}, {p['period_from']} – {p['period_to']}"
                       for p in (first, last))
        what = "the first and the last policy of the period" if len(parts) > 2 else "each policy"
        title = f"{name}: outcome shares before and after the policy change"
        figures.append(Figure("outcomes", title, before_after_chart(
            first, last, labels=labels, synthetic=label, title=title,
            subtitle=[f"Shares of the detainers that ended under {what}."])))
    fips = extras.get("fips") or {}
    if fips:
        declined, decided, withheld = Counter(), Counter(), set()
        for r in rows:
            j = r["jurisdiction_id"]
            if j in fips:
                if num(r["declined"]) is None or num(r["decided"]) is None:
                    withheld.add(j)
                else:
                    declined[j] += r["declined"]
                    decided[j] += r["decided"]
        shown = [j for j in decided if decided[j] and j not in withheld]
        if shown:
            figures.append(Figure("outcomes", "Decline rate by county", countymap.county_map(
                {fips[j]: declined[j] / decided[j] for j in shown},
                stances={fips[j]: _stance_at(rows, j) for j in shown},
                title="Decline rate by county (declined / decided)",
                subtitle=[f"Detainers that ended {period['from']} to {period['to']}. "
                          "Outline: the policy in force on the last day.",
                          suppressed_note(len(withheld), "counties with suppressed counts")],
                value_title="decline rate", value_format="%", domain=(0, 1), synthetic=label)))
    return figures


#: The outcomes whose shares of `decided` the policy-change report gives.
DECIDED_OUTCOMES = ("honored", "declined", "transferred")


def _policy_change_figures(report: dict) -> list[Figure]:
    """Before/after outcome shares of decided (not drawn when a share is withheld) and the monthly series."""
    label = _label(report)
    j = report["jurisdiction"]
    name = f"{j['name']}, {j['state']}"
    before, after = report["windows"]
    change = report["period"]["change_date"]
    figures = []
    withheld = any(num(w[k]) is None for w in (before, after) for k in (*DECIDED_OUTCOMES, "decided"))
    if not withheld and (before["decided"] or after["decided"]):
        title = f"{name}: outcome shares of decided detainers before and after {change}"
        labels = tuple(f"{w['window']} ({w['from']} – {w['to']})" for w in (before, after))
        figures.append(Figure("shares", title, before_after_chart(
            before, after, labels=labels, outcomes=DECIDED_OUTCOMES, synthetic=label, title=title,
            subtitle=["Shares of decided detainers (honored + declined + transferred) that ended in each "
                      "window, counted on the day they ended."])))
    rows = report["monthly"]
    split = {m["month"] for m in rows if m["window"] == "after"} & {m["month"] for m in rows if m["window"] == "before"}

    def month_label(m: dict) -> str:
        return f"{m['month']} {m['window']}" if m["month"] in split else m["month"]

    series = [{"month": month_label(m), "outcome": m["outcome"], "detainers": m["count"]} for m in rows]
    if any(num(m["detainers"]) for m in series):
        notes = [f"{name}; before {before['from']} – {before['to']}, after {after['from']} – {after['to']}."]
        if split:
            notes.append(f"The month cut by the change date ({', '.join(sorted(split))}) is shown once per window.")
        if withheld:
            notes.append("The before/after outcome shares are withheld (computed from suppressed counts) and "
                         "are not drawn.")
        title = f"{name}: detainers that ended per month, by outcome"
        figures.append(Figure("monthly", title, monthly_outcomes_chart(
            series, months=list(dict.fromkeys(month_label(m) for m in rows)), title=title, subtitle=notes,
            synthetic=label)))
    return figures


def _transfers_figures(report: dict) -> list[Figure]:
    label = _label(report)
    figures = []
    for i, g in enumerate(report["groups"]):
        if any(num(y["ended"]) for y in g["years"]):
            name = g["name"] if g.get("state") is None else f"{g['name']}, {g['state']}"
            figures.append(Figure(f"group:{i}", f"{name}: detainers that ended, by fiscal year and outcome",
                                  fiscal_years_chart(g, synthetic=label)))
    return figures


def extras_for(conn, report: dict) -> dict:
    """What the charts need beyond the report dict (queried here, so renderers never query).

    Declined report: the monthly series of the period (`monthly`, `months`), suppressed like the
    report's own tables when the report is (cells a reader could work out are left out), and the
    FIPS code of each listed jurisdiction (`fips`). Other reports need nothing.
    """
    if report["report"] != "declined":
        return {}
    from detainers.analytics.declined import jurisdictions_of
    from detainers.analytics.monthly import monthly_outcomes, months_between

    first, last = date.fromisoformat(report["period"]["from"]), date.fromisoformat(report["period"]["to"])
    ids = tuple(report["parameters"].get("jurisdictions") or ())
    listed = sorted({r["jurisdiction_id"] for r in report["jurisdictions"] if r["jurisdiction_id"]})
    found = jurisdictions_of(conn, listed)
    monthly, dropped = suppress_monthly(monthly_outcomes(conn, ids, first, last, "ended"),
                                        report.get("suppression") or {})
    return {
        "monthly": monthly,
        "monthly_suppressed": dropped,
        "months": months_between(first, last),
        "last_day_of_month": date.fromordinal(last.toordinal() + 1).day == 1,
        "fips": {j: found[j].fips for j in listed if j in found and found[j].fips},
    }


def suppress_monthly(rows: list[dict], suppression: dict) -> tuple[list[dict], int]:
    """The monthly cells safe to draw for the report's audience, and how many were left out.

    When the report's suppression is applied, counts below its threshold are left out, and so are
    further cells wherever an outcome's months, added up, would give a left-out count back from the
    period total of that outcome (which the report shows). Uses reports.suppress.plan.
    """
    if not suppression.get("applied") or suppression.get("threshold", 0) <= 1:
        return rows, 0
    from detainers.reports.suppress import Line, plan

    values = {(r["month"], r["outcome"]): r["detainers"] for r in rows}
    lines = []
    for outcome in dict.fromkeys(r["outcome"] for r in rows):
        parts = tuple(k for k in values if k[1] == outcome)
        values[("total", outcome)] = sum(values[k] for k in parts)
        lines.append(Line(parts, ("total", outcome)))
    marks = plan(values, lines, suppression["threshold"])
    hidden_outcomes = {k[1] for k in marks if k[0] == "total"}  # could not be protected: drop the outcome
    kept = [r for r in rows if (r["month"], r["outcome"]) not in marks and r["outcome"] not in hidden_outcomes]
    return kept, len(rows) - len(kept)


# ---------------------------------------------------------------- embedding in HTML

def figure_html(figure: Figure, mode: str = "svg") -> str:
    """A `<figure>` holding the chart: inline SVG (`svg`) or a PNG data URI (`png`, for PDF)."""
    alt_text = escape(figure.title)
    if mode == "svg":
        svg = to_svg(figure.chart)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{alt_text}" ', 1)
        return f'<figure class="chart">{svg}</figure>'
    if mode == "png":
        png = to_png(figure.chart, scale=2.0)
        width, _ = png_size(png)
        data = base64.b64encode(png).decode("ascii")
        return (f'<figure class="chart"><img src="data:image/png;base64,{data}" alt="{alt_text}" '
                f'style="width: {width / 2:.0f}px"></figure>')
    raise ValueError(f"mode is 'svg' or 'png', not {mode!r}")


def embedded(report: dict, extras: dict | None = None, mode: str = "svg") -> dict[str, list[str]]:
    """Place → list of `<figure>` HTML strings, for the templates."""
    out: dict[str, list[str]] = {}
    for figure in report_figures(report, extras):
        out.setdefault(figure.place, []).append(figure_html(figure, mode))
    return out
