"""PDF and XLSX exports of the reports, on the SYNTHETIC demo data: what a reader and a spreadsheet see."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.reports import charts
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.render import ALL_FORMATS, render, render_bytes
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers

FROM, TO = date(2018, 10, 1), date(2019, 9, 30)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} (poppler-utils) is needed to check PDFs: run ./scripts/ensure-test-tools "
                    "or apt-get install poppler-utils")
    return path


def pdf_text(pdf: bytes, tmp_path) -> str:
    (tmp_path / "r.pdf").write_bytes(pdf)
    return subprocess.run([_tool("pdftotext"), "-layout", str(tmp_path / "r.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdf_pages(pdf: bytes, tmp_path) -> int:
    (tmp_path / "p.pdf").write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "50", str(tmp_path / "p.pdf"), str(tmp_path / "page")],
                   check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    for page in pages:
        assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return len(pages)


@pytest.fixture
def demo(engine, tmp_path):
    facts = write_demo_package(tmp_path / "pkg")
    import_package(engine, tmp_path / "pkg")
    with engine.begin() as conn:
        restricted = build_noncooperative(conn, NonCooperativeQuery(facts.as_of, audience="restricted"))
        declined_restricted = build_declined(conn, DeclinedQuery(FROM, TO, audience="restricted"))
    names = {p["name"] for j in restricted["jurisdictions"] for p in j["people"] if p["name"]}
    names |= {d["name"] for d in declined_restricted["declined"] if d["name"]}
    assert len(names) > 20
    return engine, facts, names


def test_noncooperative_pdf_public(demo, tmp_path):
    engine, facts, names = demo
    with engine.begin() as conn:
        report = build_noncooperative(conn, NonCooperativeQuery(facts.as_of))
    pdf = render_bytes(report, "pdf")
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf, tmp_path) >= 1
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    assert "Non-cooperative jurisdictions: people held with an active" in flat
    assert "SYNTHETIC" in text and "page 1 of" in text
    for j in report["jurisdictions"]:
        assert f"{j['name']}, {j['state']}" in flat
    assert "people charged (any stage)" in flat and "sex_offense_child" in flat  # the category table
    wake = next(j for j in report["jurisdictions"] if j["jurisdiction_id"] == "nc-wake")
    assert f"Row-level detail: see the CSV/XLSX export ({len(wake['people'])} rows)" in flat
    assert not [n for n in names if n in flat]  # nobody's name
    assert not [p["person_key"] for j in report["jurisdictions"] for p in j["people"] if p["person_key"] in flat]
    assert "Scope and data fidelity" in flat and "Sources" in flat


def test_declined_pdf_has_summaries_and_charts_not_rows(demo, tmp_path):
    engine, _, names = demo
    with engine.begin() as conn:
        report = build_declined(conn, DeclinedQuery(FROM, TO))
        extras = charts.extras_for(conn, report)
    pdf = render_bytes(report, "pdf", extras=extras, paper="a4")
    assert pdf_pages(pdf, tmp_path) >= 2
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    assert "Declined detainer outcomes" in flat and "SYNTHETIC" in flat and "page 1 of" in flat
    assert "I. Outcomes by jurisdiction" in flat and "III. Policies" in flat
    assert f"Row-level detail: see the CSV/XLSX export ({len(report['declined'])} rows)" in flat
    assert "Durham County, NC" in flat and "Franklin County, OH" in flat
    assert not [n for n in names if n in flat]
    html = render(report, "html", extras=extras)
    assert html.count("<figure") >= 3 and "<svg" in html  # the web page keeps SVG charts and every row
    assert all(d["person_key"] in html for d in report["declined"][:5])
    pdf_html_images = pdf.count(b"/Subtype /Image")
    assert pdf_html_images >= 3  # the charts, as PNG


def test_restricted_pdf_is_marked_and_still_has_no_rows(demo, tmp_path):
    engine, facts, names = demo
    with engine.begin() as conn:
        report = build_noncooperative(conn, NonCooperativeQuery(facts.as_of, audience="restricted"))
    text = " ".join(pdf_text(render_bytes(report, "pdf", charts=False), tmp_path).split())
    assert "RESTRICTED" in text and not [n for n in names if n in text]


def test_transfers_pdf(demo, tmp_path):
    engine, _, _ = demo
    with engine.begin() as conn:
        report = build_transfers(conn, TransfersQuery(2016, 2019))
    text = pdf_text(render_bytes(report, "pdf"), tmp_path)
    assert "Transfers to ICE custody" in text and "SYNTHETIC" in text and "FY2017" in text


def test_xlsx_sheets_and_formula_neutralisation(demo):
    engine, facts, names = demo
    with engine.begin() as conn:
        nc = build_noncooperative(conn, NonCooperativeQuery(facts.as_of))
        dc = build_declined(conn, DeclinedQuery(FROM, TO))
        tr = build_transfers(conn, TransfersQuery(2016, 2019))
    nc["jurisdictions"][0]["people"][0]["charges"][0]["description"] = "=HYPERLINK(\"http://x\",\"y\")"
    nc["jurisdictions"][0]["people"][0]["citizenship"] = "@SUM(A1)"
    book = load_workbook(io.BytesIO(render_bytes(nc, "xlsx")))
    assert book.sheetnames == ["About", "People", "Counts"]
    about = [c for row in book["About"].iter_rows(values_only=True) for c in row if c]
    assert nc["title"] in about and any("SYNTHETIC" in str(c) for c in about) and "2019-11-01" in about
    people = book["People"]
    headers = [c.value for c in people[1]]
    assert headers[0] == "data_label" and people["A2"].value == "SYNTHETIC"
    assert people[1][0].font.bold and people.freeze_panes == "A2"
    charges = people.cell(row=2, column=headers.index("charges") + 1)
    assert charges.value.startswith("'=HYPERLINK") and charges.data_type == "s"
    citizenship = people.cell(row=2, column=headers.index("citizenship") + 1)
    assert citizenship.value == "'@SUM(A1)" and citizenship.data_type == "s"
    for row in people.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@"))
    assert people.max_row == 1 + nc["totals"]["people"]
    flat = " ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    assert not [n for n in names if n in flat]

    book = load_workbook(io.BytesIO(render_bytes(dc, "xlsx")))
    assert book.sheetnames == ["About", "Declined", "Jurisdictions", "Policies"]
    assert book["Declined"].max_row == 1 + len(dc["declined"])
    assert book["Jurisdictions"].max_row == 1 + len(dc["jurisdictions"])
    assert "Durham County" in [c.value for c in book["Jurisdictions"]["C"]]

    book = load_workbook(io.BytesIO(render_bytes(tr, "xlsx")))
    assert book.sheetnames == ["About", "Years"]
    assert book["Years"].max_row == 1 + sum(len(g["years"]) for g in tr["groups"])


def test_formats(demo):
    engine, facts, _ = demo
    with engine.begin() as conn:
        nc = build_noncooperative(conn, NonCooperativeQuery(facts.as_of))
    assert ALL_FORMATS == ("md", "json", "csv", "html", "pdf", "xlsx")
    with pytest.raises(ValueError, match="render_bytes"):
        render(nc, "pdf")
    assert render_bytes(nc, "md") == render(nc, "md").encode("utf-8")
    assert "<svg" not in render(nc, "html", charts=False) and "<svg" in render(nc, "html")


def test_pdf_fetches_nothing_from_a_network():
    import time

    from detainers.reports.pdf import to_pdf

    started = time.monotonic()
    pdf = to_pdf('<html><head></head><body><img src="http://10.255.255.1/x.png">'
                 '<link rel="stylesheet" href="https://example.invalid/x.css"><p>text</p></body></html>')
    assert pdf.startswith(b"%PDF") and time.monotonic() - started < 10


def test_rearrest_pdf_has_summary_tables_only(engine, tmp_path):
    import subprocess
    from datetime import date

    from detainers.datapackage.importer import import_package
    from detainers.reports.rearrest import RearrestQuery, build
    from detainers.reports.render import render_bytes
    from tests.pkg import write_package
    from tests.scenario import scenario

    import_package(engine, write_package(tmp_path / "p", scenario()))
    with engine.begin() as conn:
        report = build(conn, RearrestQuery(date(2019, 1, 1), date(2019, 12, 31), suppress_below=1))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_bytes(report, "pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Re-arrest after release" in text
    assert "P-" not in text  # no person keys: row-level detail goes to CSV/XLSX
    assert "Row-level detail: see the CSV/XLSX export" in text
