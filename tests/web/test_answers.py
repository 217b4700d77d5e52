"""Kept answers of the statistics endpoint: the same bytes while the records stay the same, never after.

Every write changes the records' version token in its own transaction (store/version.py); the
endpoint keeps each answer under its question and the token it read first.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.store import version
from detainers.store.schema import detainers
from detainers.web.answers import Answers
from tests.web.conftest import csrf_of, signed_in

STATS = "/api/v1/stats/outcomes?by=jurisdiction&by=fy&cohort=ended"
runner = CliRunner()


def wake_fy2017(body: dict) -> dict:
    return next(r for r in body["rows"] if r["jurisdiction_id"] == "nc-wake" and r["fy"] == 2017)


def test_an_answer_is_kept_until_a_write(fresh_site):
    client = TestClient(fresh_site.app)
    first = client.get(STATS)
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    kept = fresh_site.app.state.answers
    again = client.get(STATS)
    assert again.content == first.content and kept.hits == 1
    # A change behind the endpoint's back that no write path made: the kept answer still shows the old state…
    with fresh_site.engine.begin() as conn:
        conn.execute(update(detainers).where(detainers.c.outcome == "honored").values(outcome="declined"))
    assert client.get(STATS).content == first.content
    # …and `detainers recompute`, a write, changes the token: the next answer is counted afresh.
    result = runner.invoke(cli, ["recompute", "--db", fresh_site.url])
    assert result.exit_code == 0, result.output
    after = client.get(STATS)
    assert after.content == first.content  # recompute put every outcome back as it was
    with fresh_site.engine.begin() as conn:
        token = version.current(conn)
    assert token and kept.misses == 2


def test_an_import_changes_the_answer(fresh_site, tmp_path):
    client = TestClient(fresh_site.app)
    before = client.get(STATS).json()
    package = tmp_path / "more"
    package.mkdir()
    (package / "people.csv").write_text("person_id\nextra-1\n")
    (package / "detainers.csv").write_text(
        "detainer_id,person_id,facility_id,lodged_on,lifted_on,lift_reason\n"
        "extra-d1,extra-1,nc-wake-jail,2017-03-01,2017-03-05,Case Closed\n")
    result = runner.invoke(cli, ["import", str(package), "--db", fresh_site.url])
    assert result.exit_code == 0, result.output
    after = client.get(STATS).json()
    assert wake_fy2017(after)["lodged"] == wake_fy2017(before)["lodged"] + 1


def test_a_policy_edit_changes_the_token(fresh_site):
    client = signed_in(fresh_site, "admin")
    with fresh_site.engine.connect() as conn:
        before = version.current(conn)
    page = client.get("/admin/policies/nc-durham")
    assert page.status_code == 200
    response = client.post("/admin/policies/nc-durham", data={
        "csrf_token": csrf_of(page.text), "effective_from": "2020-01-01", "stance": "limited",
        "criteria": "", "citation": "Board minutes"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    with fresh_site.engine.connect() as conn:
        assert version.current(conn) not in ("", before)


def test_kept_answers_are_bounded():
    kept = Answers(max_answers=3, max_bytes=10)
    for n in range(5):
        kept.put(("q", n), "t", b"1234")
    assert kept.get(("q", 0), "t") is None  # the oldest went first
    assert kept.get(("q", 4), "t") == b"1234"
    assert kept.get(("q", 4), "other token") is None
    assert sum(kept.get(("q", n), "t") is not None for n in range(5)) == 2  # 10 bytes hold two answers


REPORT = "/api/v1/reports/non-cooperative?as_of=2019-11-01"


def test_a_public_report_is_kept_until_a_write(fresh_site):
    client = TestClient(fresh_site.app)
    first = client.get(REPORT)
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json()["audience"] == "public" and first.json()["totals"]["people"] > 0
    kept = fresh_site.app.state.answers
    hits = kept.hits
    assert client.get(REPORT).content == first.content and kept.hits == hits + 1
    other_day = client.get("/api/v1/reports/non-cooperative?as_of=2019-06-01")  # another question
    assert other_day.status_code == 200 and other_day.content != first.content and kept.hits == hits + 1
    # A change no write path made is not seen (the kept answer stands)…
    with fresh_site.engine.begin() as conn:
        conn.execute(update(detainers).values(lifted_on=None, lift_reason=None, outcome="active", ended_on=None,
                                              ended_fy=None))
    assert client.get(REPORT).content == first.content
    # …a write is: `detainers recompute` derives every outcome again and changes the token.
    result = runner.invoke(cli, ["recompute", "--db", fresh_site.url])
    assert result.exit_code == 0, result.output
    after = client.get(REPORT)
    assert after.status_code == 200 and after.content != first.content


def test_a_restricted_report_is_built_and_audited_every_time(fresh_site):
    from sqlalchemy import select

    from detainers.store.schema import audit_log

    analyst = signed_in(fresh_site, "analyst")
    for _ in range(2):
        response = analyst.get(REPORT + "&audience=restricted")
        assert response.status_code == 200 and response.json()["audience"] == "restricted"
    kept = getattr(fresh_site.app.state, "answers", None)  # made on first use
    assert kept is None or not any(question[0].startswith("reports/") for question, _token in kept._kept)
    with fresh_site.engine.connect() as conn:
        views = conn.execute(select(audit_log.c.action).where(audit_log.c.action == "view.report")).all()
    assert len(views) == 2
