"""Uploading through the web: streamed with a limit, ingested in the background, summarised as the CLI does."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from markupsafe import escape
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.errors import InputError
from detainers.store.schema import audit_log, bookings, charges, detainers, facilities, people, policies, sources
from detainers.web.app import create_app
from detainers.web.jobs import registry
from detainers.web.settings import WebSettings
from tests.pkg import write_package
from tests.web.conftest import csrf_of, sign_in, signed_in

DATA = Path(__file__).parents[1] / "data"
MAPPING = DATA / "jail" / "example-mapping.toml"
TABLES = (people, bookings, charges, detainers, facilities, policies, sources)

#: (kind, file, form fields, second file, the same options on the command line)
SAMPLES = [
    ("ice-lesa", DATA / "ice-lesa-detainers-sample.xlsx", {}, None, []),
    ("jail-report", DATA / "jail-detainer-report-sample.csv", {"jurisdiction": "tx-harris", "state": "TX"}, None,
     ["--jurisdiction", "tx-harris", "--state", "TX"]),
    ("jail-csv", DATA / "jail" / "example-export.csv", {"jurisdiction": "tx-harris", "state": "tx"}, MAPPING,
     ["--jurisdiction", "tx-harris", "--state", "TX", "--mapping", str(MAPPING)]),
    ("287g-roster", DATA / "287g-participating-2021-layout.xlsx", {"as_of_date": "2021-06-01"}, None,
     ["--as-of", "2021-06-01"]),
    ("roster-snapshot", DATA / "roster" / "per-booking.csv",
     {"jurisdiction": "tx-harris", "state": "TX", "as_of_time": "2024-03-05T06:00"}, None,
     ["--jurisdiction", "tx-harris", "--state", "TX", "--as-of", "2024-03-05T06:00"]),
]


def small_package(where: Path) -> Path:
    return write_package(where, {
        "jurisdictions.csv": [{"jurisdiction_id": "tx-example", "name": "Example County", "state": "TX",
                               "kind": "county"}],
        "policies.csv": [{"jurisdiction_id": "tx-example", "effective_from": "2015-01-01", "stance": "declines"}],
        "facilities.csv": [{"facility_id": "tx-example-jail", "name": "Example County Jail",
                            "jurisdiction_id": "tx-example", "kind": "county_jail", "state": "TX"}],
    })


def zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    return target


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Uploads go to a temp folder of the test's own, so leftovers can be counted."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def leftovers(where: Path) -> list[Path]:
    return list(where.glob("detainers-upload-*"))


@pytest.fixture(scope="module")
def cli_results(populated, tmp_path_factory):
    """What `detainers ingest --json` / `import --json` say for the samples, in the same order, on the demo data."""
    where = tmp_path_factory.mktemp("cli")
    template, _ = populated("sqlite")
    shutil.copy(template, where / "cli.db")
    db = f"sqlite:///{where / 'cli.db'}"
    runner = CliRunner()
    results = []
    for kind, path, _fields, _second, args in SAMPLES:
        out = runner.invoke(cli, ["ingest", kind, str(path), *args, "--db", db, "--json"])
        assert out.exit_code == 0, out.output
        results.append(json.loads(out.stdout)[0])
    out = runner.invoke(cli, ["import", str(small_package(where / "example-package")), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    results.append(json.loads(out.stdout))
    return results


def counts(site) -> dict[str, int]:
    with site.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def post_upload(client: TestClient, kind: str, path: Path | None, fields: dict | None = None,
                second: Path | None = None, name: str | None = None, content: bytes | None = None,
                token: str | None = "form"):
    if token == "form":
        token = csrf_of(client.get(f"/upload?kind={kind}").text)
    data = {"kind": kind, **(fields or {})}
    if token is not None:
        data = {"csrf_token": token, **data}
    files = {}
    if path is not None or content is not None:
        files["file"] = (name or path.name, content if content is not None else path.read_bytes())
    if second is not None:
        files["mapping"] = (second.name, second.read_bytes())
    return client.post("/upload", data=data, files=files, follow_redirects=False)


def finished(client: TestClient, location: str) -> str:
    """The job's status panel once the job is over (polled like the page does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(f"{location}/status")
        assert response.status_code == 200, response.text
        if 'hx-trigger="every 1s"' not in response.text:
            return response.text
        time.sleep(0.05)
    raise AssertionError(f"job {location} did not finish")


def upload(client, kind, path, fields=None, second=None, **kw) -> str:
    response = post_upload(client, kind, path, fields, second, **kw)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/upload/jobs/")
    return finished(client, response.headers["location"])


def number(text: str) -> int:
    return int(text.replace(",", ""))


def figures(panel: str) -> dict:
    """The numbers the status panel shows: records, rows per table, quality counts."""
    tables = {name: tuple(number(n) for n in nums) for name, *nums in re.findall(
        r'<tr data-table="([^"]+)"><td>[^<]*</td><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>'
        r'<td class="num">([\d,]+)</td></tr>', panel)}
    quality_table = re.search(r'<table class="quality">(.*?)</table>', panel, re.S)
    quality = {html.unescape(what): number(n) for what, n in re.findall(
        r'<tr><td>([^<]*)</td><td class="num">([\d,]+)</td></tr>', quality_table.group(1))} if quality_table else {}
    records = re.search(r'data-figure="records">([\d,]+)<', panel)
    return {"records": number(records.group(1)) if records else None, "tables": tables, "quality": quality}


def test_every_kind_loads_and_shows_what_the_cli_says(fresh_site, cli_results, tmp_path, private_tmp):
    analyst = signed_in(fresh_site, "analyst")
    before = counts(fresh_site)
    for (kind, path, fields, second, _args), expected in zip(SAMPLES, cli_results):
        panel = upload(analyst, kind, path, fields, second)
        assert 'job-state done' in panel, panel
        shown = figures(panel)
        assert f"Loaded as source #{expected['source_id']}" in panel
        assert shown["tables"] == {name: (f["added"], f["changed"], f["unchanged"])
                                   for name, f in expected["files"].items()}, kind
        assert shown["records"] == expected["records"], kind
        assert shown["quality"] == expected["quality"], kind
        for note in expected["notes"]:
            assert str(escape(note)) in panel
        if expected["roster_changes"]:
            rc = expected["roster_changes"]
            assert (f"{len(rc['added'])} added, {len(rc['removed'])} removed, {len(rc['changed'])} changed;"
                    in panel)
        if expected["unplaced_facilities"]:
            assert f"<strong>{len(expected['unplaced_facilities'])}</strong> facilities have no jurisdiction" in panel
        if expected["detainers_without_booking"]:
            assert f"<strong>{expected['detainers_without_booking']:,}</strong> detainers match no booking" in panel
    package = zipped(small_package(tmp_path / "example-package"), tmp_path / "example-package.zip")
    panel = upload(analyst, "package", package)
    expected = cli_results[-1]
    assert f"Loaded as source #{expected['source_id']}" in panel
    assert figures(panel)["tables"] == {name: (f["added"], f["changed"], f["unchanged"])
                                        for name, f in expected["files"].items()}
    with fresh_site.engine.connect() as conn:
        loaded = conn.execute(select(sources.c.kind, sources.c.name).order_by(sources.c.source_id)).all()
        ingests = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                               .where(audit_log.c.action.in_(("ingest", "import")))
                               .order_by(audit_log.c.entry_id)).all()
    # Sources carry the names the files had on the analyst's computer; the audit names the web user.
    assert [tuple(r) for r in loaded[1:]] == [(k, p.name) for k, p, *_ in SAMPLES] + [("package", "example-package")]
    assert [r.actor for r in ingests[1:]] == ["web:analyst"] * 6
    assert all(json.loads(r.detail)["address"] == "testclient" for r in ingests[1:])
    after = counts(fresh_site)
    assert after["sources"] == before["sources"] + 6 and after["detainers"] > before["detainers"]
    # The same file again: recognised, nothing changed.
    kind, path, fields, second, _ = SAMPLES[1]
    panel = upload(analyst, kind, path, fields, second)
    assert f"This file was already loaded as source #{cli_results[1]['source_id']}; nothing changed." in panel
    assert "Already loaded" in panel
    assert counts(fresh_site) == after
    assert leftovers(private_tmp) == []
    # The upload page lists the analyst's jobs.
    listing = analyst.get("/upload").text
    assert "Recent uploads" in listing and "per-booking.csv" in listing


def test_a_bad_file_fails_naming_the_cell_and_changes_nothing(fresh_site, tmp_path, private_tmp):
    bad = tmp_path / "export-bad-date.csv"
    bad.write_text((DATA / "jail" / "example-export.csv").read_text().replace(
        "01/05/2024,02/20/2024", "13/45/2024,02/20/2024"))
    analyst = signed_in(fresh_site, "analyst")
    before = counts(fresh_site)
    panel = upload(analyst, "jail-csv", bad, {"jurisdiction": "tx-harris"}, MAPPING)
    assert "job-state failed" in panel
    assert ("export-bad-date.csv, row 2, column BookDate: &#39;13/45/2024&#39; is not a date "
            "(expected %m/%d/%Y as [dates] format says)") in panel
    assert "Nothing was changed." in panel
    assert "detainers-upload-" not in panel  # named as the analyst knows it, not by its temporary path
    assert counts(fresh_site) == before
    assert leftovers(private_tmp) == []
    # An option naming a jurisdiction that does not exist is refused on the form, with the values kept.
    response = post_upload(analyst, "jail-report", DATA / "jail-detainer-report-sample.csv",
                           {"jurisdiction": "tx-nowhere", "state": "TX"})
    assert response.status_code == 422
    assert "Jurisdiction: &#39;tx-nowhere&#39; is not a known jurisdiction id" in response.text
    assert 'value="tx-nowhere"' in response.text
    response = post_upload(analyst, "287g-roster", DATA / "287g-participating-2021-layout.xlsx")
    assert response.status_code == 422 and "Fill in List date (needed for 287g-roster files)." in response.text
    assert counts(fresh_site) == before and leftovers(private_tmp) == []


def test_a_bug_shows_a_reference_not_a_trace(fresh_site, monkeypatch, caplog):
    import detainers.ingest.load as load

    def broken(*args, **kwargs):
        raise KeyError("an internal detail")

    monkeypatch.setattr(load, "write_package", broken)
    analyst = signed_in(fresh_site, "analyst")
    before = counts(fresh_site)
    panel = upload(analyst, "jail-report", DATA / "jail-detainer-report-sample.csv", {"jurisdiction": "tx-harris"})
    assert "Something went wrong on our side (reference" in panel and "It has been logged." in panel
    assert "internal detail" not in panel and "Traceback" not in panel and "KeyError" not in panel
    assert "internal detail" in caplog.text
    assert counts(fresh_site) == before


def test_uploads_over_the_limit_are_refused_with_413(fresh_site, private_tmp):
    small = create_app(WebSettings(db_url=fresh_site.url, max_upload_bytes=4096))
    client = TestClient(small)
    assert sign_in(client, "analyst").status_code == 303
    before = counts(fresh_site)
    for size in (200_000, 5_000):  # refused by its declared length; refused while streaming
        response = post_upload(client, "ice-lesa", None, name="big.csv", content=b"x" * size)
        assert response.status_code == 413, size
        assert "larger than this installation allows (4 KB)" in response.text
        assert "Nothing was ingested." in response.text
    # A zip whose contents unpack to far more than it weighs is refused before anything is unpacked.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("people.csv", b"0" * 100_000)
    response = post_upload(client, "package", None, name="bomb.zip", content=bomb.getvalue())
    assert response.status_code == 422 and "bomb.zip: unpacks to more than 32 KB" in response.text
    assert counts(fresh_site) == before and leftovers(private_tmp) == []
    assert registry(small).recent("analyst", "analyst") == []
    small.state.engine.dispose()


def test_only_analysts_and_admins_upload_with_the_form_token(fresh_site, private_tmp):
    anonymous = signed_in(fresh_site, None)
    response = anonymous.get("/upload", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fupload"
    viewer = signed_in(fresh_site, "viewer")
    assert viewer.get("/upload").status_code == 403
    token = csrf_of(viewer.get("/login").text)
    response = post_upload(viewer, "ice-lesa", SAMPLES[0][1], token=token)
    assert response.status_code == 403 and "analyst" in response.text
    analyst = signed_in(fresh_site, "analyst")
    before = counts(fresh_site)
    for token in (None, "0" * 64):
        response = post_upload(analyst, "ice-lesa", SAMPLES[0][1], token=token)
        assert response.status_code == 403 and "CSRF" in response.text
    assert counts(fresh_site) == before and leftovers(private_tmp) == []
    # A job is seen by its owner and admins only; to anyone else it does not exist.
    location = post_upload(analyst, "jail-report", SAMPLES[1][1], SAMPLES[1][2]).headers["location"]
    assert "job-state done" in finished(analyst, location)
    with fresh_site.engine.begin() as conn:
        from detainers import accounts

        accounts.add(conn, "analyst2", "another long password", "analyst", actor="test")
    other = TestClient(fresh_site.app, raise_server_exceptions=False)
    assert sign_in(other, "analyst2", "another long password").status_code == 303
    for path in (location, f"{location}/status"):
        response = other.get(path)
        assert response.status_code == 404 and "No upload job" in response.text
    assert "jail-detainer-report-sample.csv" not in other.get("/upload").text
    admin = signed_in(fresh_site, "admin")
    assert admin.get(location).status_code == 200
    assert analyst.get("/upload/jobs/not-a-job-at-all").status_code == 404


def test_zips_that_would_leave_their_folder_are_refused(fresh_site, private_tmp):
    analyst = signed_in(fresh_site, "analyst")
    before = counts(fresh_site)

    def archive(*entries) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for entry in entries:
                if isinstance(entry, zipfile.ZipInfo):
                    z.writestr(entry, "people.csv")
                else:
                    z.writestr(entry, "person_id\n")
        return buffer.getvalue()

    link = zipfile.ZipInfo("pkg/people.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    cases = [
        (archive("pkg/jurisdictions.csv", "../escape.csv"),
         "evil.zip: &#39;../escape.csv&#39; is a path outside the package folder"),
        (archive("/etc/cron.d/job"), "evil.zip: &#39;/etc/cron.d/job&#39; is a path outside the package folder"),
        (archive(link), "evil.zip: &#39;pkg/people.csv&#39; is a symbolic link"),
        (archive(*(f"pkg/{i}.csv" for i in range(201))), "evil.zip: holds 201 entries"),
        (b"not a zip at all", "evil.zip: is not a zip file"),
        (archive("pkg/people.csv", "pkg/People.csv"), "evil.zip: &#39;pkg/People.csv&#39; appears twice in the zip"),
    ]
    for content, message in cases:
        response = post_upload(analyst, "package", None, name="evil.zip", content=content)
        assert response.status_code == 422, message
        assert message in response.text
    response = post_upload(analyst, "package", DATA / "jail-detainer-report-sample.csv")
    assert response.status_code == 422 and "is not a zip file" in response.text
    assert counts(fresh_site) == before and leftovers(private_tmp) == []


def test_the_job_page_polls_with_htmx_until_the_job_is_over(fresh_site):
    analyst = signed_in(fresh_site, "analyst")
    release = threading.Event()

    def work(update):
        update(stage="reading", records=1234)
        release.wait(20)
        raise InputError("slow.csv, row 3, column Booking Date: is empty (expected a date)")

    job = registry(fresh_site.app).submit("analyst", "jail-report", "slow.csv", work, actor="web:analyst",
                                          address="testclient")
    location = f"/upload/jobs/{job.job_id}"
    deadline = time.monotonic() + 10
    while registry(fresh_site.app).get(job.job_id).stage != "reading" and time.monotonic() < deadline:
        time.sleep(0.02)
    page = analyst.get(location).text
    assert f'hx-get="{location}/status" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert "reading" in page and "1,234" in page and "job-state running" in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script: htmx attributes only
    release.set()
    panel = finished(analyst, location)
    assert "hx-get" not in panel and "job-state failed" in panel
    assert "slow.csv, row 3, column Booking Date: is empty (expected a date)" in panel
    assert "Nothing was changed." in panel
