"""What a person does in the dashboard, in a real browser: sign in, map, county, report, upload.

Each test saves screenshots to test-artifacts/screenshots/ (kept by CI as artifacts).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sign_in_open_the_map_click_a_county_and_read_its_page(server, page):
    sign_in(page, server, "analyst")
    expect(page.locator("header.site .user")).to_contain_text("analyst")
    expect(page.locator(".audience")).to_contain_text("Restricted view")
    page.goto(server + "/?state=NC")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".banner.synthetic")).to_contain_text("SYNTHETIC")
    county = page.locator('svg a[href="/jurisdictions/nc-wake"]').first
    expect(county).to_be_attached()
    shot(page, "01-map-nc-analyst")
    county.click()
    page.wait_for_url(server + "/jurisdictions/nc-wake")
    expect(page.locator("h1")).to_have_text("Wake County, NC")
    expect(page.get_by_text("Policy timeline")).to_be_visible()
    # The people held on the demo day, by name for an analyst.
    page.goto(server + "/jurisdictions/nc-wake?day=2019-11-01")
    held = page.locator("tr.person")
    assert held.count() == 25
    shot(page, "02-jurisdiction-wake-analyst")
    assert page.problems == []


def test_the_public_view_of_a_county_has_counts_and_no_names(server, page):
    page.goto(server + "/")
    expect(page.locator(".audience")).to_contain_text("Public view")
    shot(page, "03-map-national-public")
    page.goto(server + "/jurisdictions/nc-wake?day=2019-11-01")
    expect(page.locator("main")).to_contain_text("25")
    assert page.locator("tr.person").count() == 0
    expect(page.locator("header.site nav")).not_to_contain_text("Search")
    shot(page, "04-jurisdiction-wake-public")
    assert page.problems == []


def test_open_a_report_and_download_it(server, page, tmp_path):
    sign_in(page, server, "viewer")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(re.compile(r".*/reports$"))
    shot(page, "05-reports")
    page.goto(server + "/reports/non-cooperative?as_of=2019-11-01")
    expect(page.locator("main")).to_contain_text("Wake County, NC")
    shot(page, "06-report-non-cooperative")
    for name, magic in (("PDF", b"%PDF"), ("CSV", b"data_label")):
        with page.expect_download() as info:
            page.locator(".downloads a", has_text=name).first.click()
        download = info.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        assert target.name.startswith("non-cooperative-2019-11-01")
        assert magic in target.read_bytes()[:4096], name
    assert page.problems == []


def test_upload_a_file_and_see_its_quality_summary(server, page):
    sign_in(page, server, "analyst")
    page.goto(server + "/upload?kind=jail-report")
    page.set_input_files("#file", str(DATA / "jail-detainer-report-sample.csv"))
    page.fill("#jurisdiction", "tx-harris")
    page.fill("#state", "TX")
    shot(page, "07-upload-form")
    page.get_by_role("button", name="Upload and load").click()
    page.wait_for_url(re.compile(r".*/upload/jobs/.+"))
    # htmx polls the job until it is over; the summary replaces the progress bar.
    expect(page.locator("main")).to_contain_text("jail-detainer-report-sample.csv")
    expect(page.locator(".job-state")).to_contain_text(re.compile("done|finished|loaded", re.I), timeout=60_000)
    expect(page.locator("main")).to_contain_text(re.compile("quality", re.I))
    shot(page, "08-upload-done")
    assert page.problems == []


def test_a_bad_upload_says_what_is_wrong(server, page, tmp_path):
    bad = tmp_path / "export-bad-date.csv"
    bad.write_text((DATA / "jail" / "example-export.csv").read_text().replace(
        "01/05/2024,02/20/2024", "13/45/2024,02/20/2024"))
    sign_in(page, server, "analyst")
    page.goto(server + "/upload?kind=jail-csv")
    page.set_input_files("#file", str(bad))
    page.set_input_files("#mapping", str(DATA / "jail" / "example-mapping.toml"))
    page.fill("#jurisdiction", "tx-harris")
    page.get_by_role("button", name="Upload and load").click()
    main = page.locator("main")
    expect(main).to_contain_text("Nothing was changed", timeout=60_000)
    expect(main).to_contain_text("export-bad-date.csv, row 2, column BookDate: '13/45/2024' is not a date")
    shot(page, "09-upload-refused")
    assert page.problems == []
