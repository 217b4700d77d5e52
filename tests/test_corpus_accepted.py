"""Inputs that look odd but are NOT errors, by design: each is stored as given and output safely.

The bad-input corpus is tests/corpus/ (packages/ and ingest/); these are its counterpart, so that a
later "fix" does not start refusing them.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from detainers.cli import app
from detainers.store.schema import charges, people

BASE = Path(__file__).parent / "corpus" / "packages" / "_base"
runner = CliRunner()
FORMULAS = {"c2": '=HYPERLINK("http://x","y")', "c3": "@SUM(A1)", "c4": "+1", "c8b": "-2"}
SCRIPT = "<script>alert(1)</script>"


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "package"
    shutil.copytree(BASE, package)
    return package


def _import(package: Path, db_url: str):
    result = runner.invoke(app, ["import", str(package), "--db", db_url], terminal_width=10000)
    assert result.exit_code == 0, result.output
    return result


def _people(engine) -> dict:
    with engine.connect() as conn:
        return {r.person_id: (r.birth_year, r.citizenship) for r in conn.execute(select(people))}


def test_bom_crlf_and_mixed_line_endings_are_read_as_plain_csv(engine, db_url, tmp_path):
    package = _package(tmp_path)
    lines = (BASE / "people.csv").read_text(encoding="utf-8").splitlines()
    mixed = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines))
    (package / "people.csv").write_bytes(b"\xef\xbb\xbf" + mixed.encode("utf-8"))
    crlf = "\r\n".join((BASE / "bookings.csv").read_text(encoding="utf-8").splitlines()) + "\r\n"
    (package / "bookings.csv").write_bytes(b"\xef\xbb\xbf" + crlf.encode("utf-8"))
    _import(package, db_url)
    got = _people(engine)
    assert len(got) == 8 and got["p1"] == (1980, "Mexico") and got["p8"] == (1988, "Brazil")
    assert not any("\r" in (c or "") or "\ufeff" in p for p, (_, c) in got.items())


def test_a_row_shorter_than_its_header_has_empty_trailing_cells(engine, db_url, tmp_path):
    package = _package(tmp_path)
    text = (BASE / "people.csv").read_text(encoding="utf-8").replace("p7,,M,Mexico,,\n", "p7,,M,Mexico\n")
    assert "p7,,M,Mexico\n" in text
    (package / "people.csv").write_text(text, encoding="utf-8")
    _import(package, db_url)
    assert _people(engine)["p7"] == (None, "Mexico")


def test_a_latin1_jail_report_is_read_as_windows_1252_and_says_so(engine, db_url, tmp_path):
    """Ingest formats (unlike data packages) take the single-byte files older jail systems write."""
    _import(BASE, db_url)
    text = (Path(__file__).parent / "data" / "jail-detainer-report-sample.csv").read_text(encoding="utf-8")
    path = tmp_path / "report.csv"
    path.write_bytes(text.replace('"DOE,JOHN Q"', '"PEÑA,JOSÉ"').encode("cp1252"))
    result = runner.invoke(app, ["ingest", "jail-report", str(path), "--jurisdiction", "nc-franklin", "--json",
                                 "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "The file is not UTF-8; it was read as cp1252." in result.output


@pytest.fixture
def formulas(engine, db_url, tmp_path):
    """The base package with formula-like and script charge texts, imported."""
    package = _package(tmp_path)
    rows = list(csv.reader(io.StringIO((BASE / "charges.csv").read_text(encoding="utf-8"))))
    for row in rows[1:]:
        row[2] = FORMULAS.get(row[0], SCRIPT if row[0] == "c1" else row[2])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (package / "charges.csv").write_text(out.getvalue(), encoding="utf-8")
    _import(package, db_url)
    return engine


def test_formula_like_text_is_stored_exactly_as_given(formulas):
    with formulas.connect() as conn:
        stored = dict(conn.execute(select(charges.c.charge_id, charges.c.description)).all())
    assert {k: stored[k] for k in FORMULAS} == FORMULAS
    assert stored["c1"] == SCRIPT


def test_formula_like_text_is_neutralised_in_the_csv_export_and_imports_back_unchanged(formulas, db_url, tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", str(out), "--db", db_url])
    assert result.exit_code == 0, result.output
    exported = {r["charge_id"]: r["description"] for r in csv.DictReader(io.StringIO(
        (out / "charges.csv").read_text(encoding="utf-8-sig")))}
    assert {k: exported[k] for k in FORMULAS} == {k: "'" + v for k, v in FORMULAS.items()}
    assert exported["c1"] == SCRIPT  # not a formula: left alone in CSV
    _import(out, db_url)  # the leading quote our export adds is taken off again on import
    with formulas.connect() as conn:
        stored = dict(conn.execute(select(charges.c.charge_id, charges.c.description)).all())
    assert {k: stored[k] for k in FORMULAS} == FORMULAS


def _report(db_url: str, fmt: str, out: Path) -> None:
    result = runner.invoke(app, ["report", "non-cooperative", "--as-of", "2019-06-15", "--audience", "restricted",
                                 "--format", fmt, "--out", str(out), "--db", db_url], terminal_width=10000)
    assert result.exit_code == 0, result.output


def test_report_csv_and_xlsx_neutralise_formulas(formulas, db_url, tmp_path):
    _report(db_url, "csv", tmp_path / "r.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    charges_of = {r[rows[0].index("person_id")]: r[rows[0].index("charges")] for r in rows[1:]}
    assert charges_of["p2"] == "'@SUM(A1) (other; pending)"  # a cell that starts like a formula gets a quote
    # a formula only runs from the start of a cell: inside one it is text, and is left as it is
    assert charges_of["p1"] == SCRIPT + ' (other; pending); =HYPERLINK("http://x","y") (other; convicted)'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    _report(db_url, "xlsx", tmp_path / "r.xlsx")
    cells = [c.value for ws in load_workbook(tmp_path / "r.xlsx") for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert "'@SUM(A1) (other; pending)" in cells
    assert not any(v.startswith(("=", "@")) for v in cells)
    assert not any(c.data_type == "f" for ws in load_workbook(tmp_path / "r.xlsx") for row in ws.iter_rows()
                   for c in row)


def test_report_html_escapes_a_script_in_a_charge(formulas, db_url, tmp_path):
    _report(db_url, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html
