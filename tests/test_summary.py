"""The stored outcome counts give the same statistics as counting the detainers themselves.

`outcome_stats` reads `outcome_counts` for whole fiscal years; these tests ask both paths the same
questions and require identical rows, on the demo data and after every kind of write that changes
detainers: an import, an ingest that ends detainers, and a re-derivation.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from detainers.analytics import stats
from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.cli import app
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.national import write_national_package
from detainers.store import summary
from detainers.store.schema import detainers, outcome_counts

runner = CliRunner()

WINDOWS = [(None, None), (date(2016, 10, 1), None), (None, date(2018, 9, 30)),
           (date(2016, 10, 1), date(2017, 9, 30)), (date(2012, 10, 1), date(2030, 9, 30))]
GROUPINGS = [dims for n in range(0, 4) for dims in combinations(("jurisdiction", "fy", "region"), n)]


def both_ways(conn, q: OutcomeQuery) -> tuple[list[dict], list[dict]]:
    """(from the stored counts, from the detainers) for one question."""
    fys = stats._whole_fiscal_years(q)
    assert fys is not None
    return (stats._run(conn, q, stats._from_counts(q, fys)), stats._run(conn, q, stats._from_detainers(q)))


def assert_same_everywhere(engine) -> int:
    """Every grouping × cohort × window × filter agrees; returns how many questions were asked."""
    asked = 0
    with engine.connect() as conn:
        for by in GROUPINGS:
            for cohort in ("lodged", "ended"):
                for date_from, date_to in WINDOWS:
                    for filters in ({}, {"region": "Raleigh-Durham"}, {"jurisdiction_ids": ("nc-wake", "nc-durham")}):
                        q = OutcomeQuery(by=by, cohort=cohort, date_from=date_from, date_to=date_to, **filters)
                        from_counts, from_detainers = both_ways(conn, q)
                        assert from_counts == from_detainers, q
                        asked += 1
    return asked


@pytest.fixture
def demo(engine, tmp_path):
    write_demo_package(tmp_path / "demo", scale=3000)
    import_package(engine, tmp_path / "demo")
    return engine


def test_counts_match_detainers_on_the_demo(demo):
    assert assert_same_everywhere(demo) == len(GROUPINGS) * 2 * len(WINDOWS) * 3
    with demo.connect() as conn:
        stored = conn.execute(select(func.sum(outcome_counts.c.n)).where(outcome_counts.c.cohort == "lodged")).scalar()
        assert stored == conn.execute(select(func.count()).select_from(detainers)).scalar()
        # the figure the demo is built around, through the public entry point
        rows = outcome_stats(conn, OutcomeQuery(by=("region", "fy"), cohort="ended", date_from=date(2016, 10, 1),
                                                date_to=date(2017, 9, 30), region="Raleigh-Durham"))
        assert [(r["fy"], r["honored"]) for r in rows] == [(2017, 691)]


def test_part_years_and_stance_count_detainers(demo, monkeypatch):
    """A window that is not whole fiscal years, or the stance dimension, never reads the stored counts."""
    monkeypatch.setattr(stats, "_from_counts", lambda *a: pytest.fail("stored counts used"))
    with demo.connect() as conn:
        assert outcome_stats(conn, OutcomeQuery(by=("fy",), date_from=date(2017, 1, 1)))
        assert outcome_stats(conn, OutcomeQuery(by=("stance",), cohort="ended"))


def test_counts_follow_an_ingest_that_ends_detainers(demo, db_url):
    """A jail report releases people held with detainers: their outcomes change, and the counts with them."""
    with demo.connect() as conn:
        before = conn.execute(select(outcome_counts.c.cohort, func.sum(outcome_counts.c.n))
                              .group_by(outcome_counts.c.cohort)).all()
    result = runner.invoke(app, ["ingest", "jail-report", "tests/data/jail-detainer-report-sample.csv",
                                 "--jurisdiction", "nc-franklin", "--db", db_url])
    assert result.exit_code == 0, result.output
    with demo.connect() as conn:
        after = conn.execute(select(outcome_counts.c.cohort, func.sum(outcome_counts.c.n))
                             .group_by(outcome_counts.c.cohort)).all()
    assert before != after
    assert_same_everywhere(demo)


def test_recompute_refreshes_the_counts(demo, db_url):
    """Even when outcomes were changed behind the tool's back, `detainers recompute` puts both right."""
    with demo.begin() as conn:
        conn.execute(update(detainers).where(detainers.c.outcome == "honored").values(outcome="unknown"))
        summary.refresh(conn)
    result = runner.invoke(app, ["recompute", "--db", db_url])
    assert result.exit_code == 0, result.output
    with demo.connect() as conn:
        honored = conn.execute(select(func.sum(outcome_counts.c.honored)).where(
            outcome_counts.c.cohort == "lodged")).scalar()
    assert honored > 691
    assert_same_everywhere(demo)


def test_counts_match_on_national_data(engine, tmp_path):
    """3,000+ counties, 14 fiscal years, re-bookings: the two paths agree on every jurisdiction × FY."""
    write_national_package(tmp_path / "national", detainers=4000)
    import_package(engine, tmp_path / "national")
    with engine.connect() as conn:
        for by in (("jurisdiction", "fy"), ("region", "fy"), ("fy",)):
            for cohort in ("lodged", "ended"):
                from_counts, from_detainers = both_ways(conn, OutcomeQuery(by=by, cohort=cohort))
                assert from_counts == from_detainers
                assert sum(r["lodged"] for r in from_counts) > 0
