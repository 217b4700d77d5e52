"""Charts and the county map: Vega-Lite specs drawn offline (vl-convert), from report dicts and analytics rows."""

from __future__ import annotations

from datetime import date

import pytest

from detainers.analytics.monthly import monthly_outcomes, months_between
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.reports import charts, countymap
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.render import render
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers

FROM, TO = date(2018, 10, 1), date(2019, 9, 30)


@pytest.fixture
def demo(engine, tmp_path):
    facts = write_demo_package(tmp_path / "pkg")
    import_package(engine, tmp_path / "pkg")
    return engine, facts


def test_monthly_outcomes_add_up_to_the_declined_report(demo):
    engine, _ = demo
    with engine.begin() as conn:
        report = build_declined(conn, DeclinedQuery(FROM, TO, audience="restricted"))  # not suppressed
        rows = monthly_outcomes(conn, (), FROM, TO)
        wake = monthly_outcomes(conn, ("nc-wake",), FROM, TO)
        lodged = monthly_outcomes(conn, ("nc-wake",), FROM, TO, cohort="lodged")
    assert {r["month"] for r in rows} <= set(months_between(FROM, TO))
    for outcome in ("honored", "declined", "transferred", "lifted", "cancelled", "unknown"):
        assert sum(r["detainers"] for r in rows if r["outcome"] == outcome) == report["totals"][outcome], outcome
    wake_rows = [j for j in report["jurisdictions"] if j["jurisdiction_id"] == "nc-wake"]
    assert sum(r["detainers"] for r in wake) == sum(j["ended"] for j in wake_rows)
    assert sum(r["detainers"] for r in lodged) == sum(j["issued"] for j in wake_rows)
    assert rows == sorted(rows, key=lambda r: r["month"])


def test_months_between():
    assert months_between(date(2018, 11, 15), date(2019, 2, 1)) == ["2018-11", "2018-12", "2019-01", "2019-02"]


def test_chart_svgs_carry_titles_and_the_synthetic_label(demo):
    engine, facts = demo
    with engine.begin() as conn:
        nc = build_noncooperative(conn, NonCooperativeQuery(facts.as_of, audience="restricted"))
        dc = build_declined(conn, DeclinedQuery(FROM, TO, audience="restricted"))
        tr = build_transfers(conn, TransfersQuery(2016, 2019, audience="restricted"))
        extras = charts.extras_for(conn, dc)
    assert extras["monthly"] and extras["fips"]["nc-wake"] == "37183" and extras["months"][0] == "2018-10"
    figures = {
        "non-cooperative": charts.report_figures(nc),
        "declined": charts.report_figures(dc, extras),
        "transfers": charts.report_figures(tr),
    }
    titles = {kind: [f.title for f in fs] for kind, fs in figures.items()}
    assert "Wake County, NC: people held by charge category" in titles["non-cooperative"]
    assert "People held with an active detainer, by county" in titles["non-cooperative"]
    assert {"Outcomes of detainers that ended, by jurisdiction and policy",
            "Detainers that ended per month, by outcome",
            "Wake County, NC: outcome shares before and after the policy change",
            "Decline rate by county"} <= set(titles["declined"])
    assert "Wake County, NC: detainers that ended, by fiscal year and outcome" in titles["transfers"]
    for kind in ("declined", "transfers"):
        for figure in figures[kind]:
            svg = charts.to_svg(figure.chart)
            assert svg.startswith("<svg") and "SYNTHETIC" in svg, figure.title
            assert _xml(figure.title.split(":")[-1].strip()) in svg, figure.title
    html = render(dc, "html", extras=extras)
    assert html.count('<figure class="chart"><svg') == len(figures["declined"])
    assert "Detainers that ended per month, by outcome" in html


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_the_three_generic_charts():
    rows = [{"month": "2019-01", "outcome": "honored", "detainers": 7},
            {"month": "2019-03", "outcome": "declined", "detainers": 5}]
    svg = charts.to_svg(charts.monthly_outcomes_chart(rows, months=["2019-01", "2019-02", "2019-03"],
                                                      synthetic=True))
    assert "Detainers that ended per month, by outcome" in svg and "2019-02" in svg and "SYNTHETIC" in svg
    assert "outcome" in svg and "month" in svg  # legend and axis titles

    share_rows = [{"jurisdiction_id": "x-a", "name": "A <b> County", "state": "NC", "split": False,
                   "honored": 3, "declined": 1, "transferred": 0, "lifted": 0, "cancelled": 0, "unknown": 0,
                   "ended": 4},
                  {"jurisdiction_id": "x-b", "name": "B County", "state": "NC", "split": False,
                   "honored": "<5", "declined": 9, "transferred": 0, "lifted": 0, "cancelled": 0, "unknown": 0,
                   "ended": 11}]
    svg = charts.to_svg(charts.outcome_shares_chart(share_rows))
    assert "A &lt;b&gt; County, NC" in svg and "<b>" not in svg  # source text is escaped
    assert "B County" not in svg and "1 row with suppressed small counts not drawn" in svg

    svg = charts.to_svg(charts.before_after_chart({"honored": 9, "declined": 1}, {"honored": 1, "declined": 9},
                                                  labels=("honors", "declines"), title="Before and after X"))
    assert "Before and after X" in svg and "honors (n=10)" in svg and "declines (n=10)" in svg
    assert "SYNTHETIC" not in svg  # only synthetic reports are labelled


def test_no_chart_reaches_for_the_network():
    spec = {"data": {"url": "https://example.invalid/data.json"}, "mark": "bar",
            "encoding": {"x": {"field": "a", "type": "nominal"}}}
    with pytest.raises(Exception):  # noqa: B017 - vl-convert refuses any URL (no allowed base URLs)
        charts.to_svg(spec)


def test_suppressed_monthly_cells_cannot_be_worked_out():
    rows = [{"month": "2019-01", "outcome": "declined", "detainers": 2},
            {"month": "2019-02", "outcome": "declined", "detainers": 30},
            {"month": "2019-03", "outcome": "declined", "detainers": 12},
            {"month": "2019-01", "outcome": "honored", "detainers": 8}]
    kept, dropped = charts.suppress_monthly(rows, {"applied": True, "threshold": 5})
    assert all(r["detainers"] >= 5 for r in kept)
    # the 2 is suppressed, and so is one more declined month (else 44 - 30 - 12 gives it back)
    assert dropped == 2 and [r["detainers"] for r in kept if r["outcome"] == "declined"] == [30]
    assert charts.suppress_monthly(rows, {"applied": False, "threshold": 5}) == (rows, 0)


def test_county_map_png(demo):
    engine, facts = demo
    with engine.begin() as conn:
        nc = build_noncooperative(conn, NonCooperativeQuery(facts.as_of))
    figure = next(f for f in charts.report_figures(nc) if f.place == "top")
    png = charts.to_png(figure.chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = charts.png_size(png)
    assert 800 <= width <= 2000 and 400 <= height <= 1400
    assert 20_000 < len(png) < 1_000_000
    svg = charts.to_svg(figure.chart)
    assert "People held with an active detainer, by county" in svg and "policy (outline)" in svg


def test_county_map_subset_keeps_only_the_states_shown():
    topo = countymap.topology()
    nc = countymap.subset(topo, {"37"})
    assert {g["id"][:2] for g in nc["objects"]["counties"]["geometries"]} == {"37"}
    assert len(nc["objects"]["counties"]["geometries"]) == 100
    assert [g["id"] for g in nc["objects"]["states"]["geometries"]] == ["37"]
    assert len(nc["arcs"]) < len(topo["arcs"]) / 10
    spec = countymap.county_map({"37183": 0.5, "39049": 0.1}, stances={"37183": "declines", "39049": "honors"},
                                title="Test map", value_format="%", domain=(0, 1), synthetic=True)
    svg = charts.to_svg(spec)
    assert "Test map" in svg and "SYNTHETIC" in svg and "declines" in svg and "honors" in svg


def test_policy_change_html_has_the_before_after_and_monthly_charts(engine, tmp_path):
    from detainers.reports.policy_change import PolicyChangeQuery
    from detainers.reports.policy_change import build as build_policy_change
    from tests.pkg import write_package
    from tests.test_report_policy_change import package as policy_change_package

    import_package(engine, write_package(tmp_path / "pc", policy_change_package()))
    with engine.begin() as conn:
        r = build_policy_change(conn, PolicyChangeQuery("nc-franklin", date(2019, 1, 1), window_days=90,
                                                        audience="restricted"))
    html = render(r, "html")
    title = "Franklin County, NC: outcome shares of decided detainers before and after 2019-01-01"
    assert f'<svg role="img" aria-label="{title}"' in html
    assert 'aria-label="Franklin County, NC: detainers that ended per month, by outcome"' in html
    public = charts.report_figures(build_policy_change_public(engine, build_policy_change, PolicyChangeQuery))
    assert "shares" not in [f.place for f in public]  # the shares are withheld (small counts): not drawn


def build_policy_change_public(engine, build, query):
    with engine.begin() as conn:
        return build(conn, query("nc-franklin", date(2019, 1, 1), window_days=90))
