"""Hostile files for `detainers ingest`: each refused with a clear error naming it, exit 2, nothing changed.

The files are made by the test (some cannot be committed: a folder, a symbolic-link loop); the
data-package corpus with exact messages is tests/corpus/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from tests.test_import import dump

DATA = Path(__file__).parent / "data"
BASE = Path(__file__).parent / "corpus" / "packages" / "_base"
LESA_CSV = DATA / "ice-lesa" / "us-dates-bom.csv"
runner = CliRunner()


def _nul_in_lesa(where: Path) -> Path:
    lines = LESA_CSV.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ",\x00", 1)
    path = where / "release-with-nul.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _make(case: str, where: Path) -> tuple[list[str], str]:
    """The ingest arguments for a case, and the text its error must contain."""
    if case == "empty":
        (where / "empty.csv").write_bytes(b"")
        return ["ice-lesa", str(where / "empty.csv")], "empty.csv: is empty"
    if case == "folder":
        (where / "a-folder.csv").mkdir()
        return ["ice-lesa", str(where / "a-folder.csv")], "a-folder.csv: is a folder (expected a file to ingest)"
    if case == "symlink-loop":
        (where / "loop-a.csv").symlink_to(where / "loop-b.csv")
        (where / "loop-b.csv").symlink_to(where / "loop-a.csv")
        return ["ice-lesa", str(where / "loop-a.csv")], "loop-a.csv: is a symbolic link that leads nowhere"
    if case == "csv-named-xlsx":
        (where / "release.xlsx").write_bytes(LESA_CSV.read_bytes())
        return ["ice-lesa", str(where / "release.xlsx")], "release.xlsx: is not an Excel workbook although it is named"
    if case == "password-protected-xlsx":  # an encrypted workbook is an OLE compound file, not a zip
        (where / "locked.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)
        return ["ice-lesa", str(where / "locked.xlsx")], "locked.xlsx: is a password-protected (encrypted) workbook"
    if case == "nul-byte-csv":
        return ["ice-lesa", str(_nul_in_lesa(where))], "release-with-nul.csv, row 4: contains a NUL byte"
    if case == "utf16-jail-report":
        text = (DATA / "jail-detainer-report-sample.csv").read_text(encoding="utf-8")
        (where / "report-utf16.csv").write_bytes(text.encode("utf-16"))
        return (["jail-report", str(where / "report-utf16.csv"), "--jurisdiction", "nc-franklin"],
                "report-utf16.csv, row 1: contains a NUL byte (expected plain text; a file saved as UTF-16")
    if case == "nul-roster-snapshot":
        (where / "roster.csv").write_bytes(b"booking_number,name\n1\x002,someone\n")
        return (["roster-snapshot", str(where / "roster.csv"), "--jurisdiction", "nc-franklin", "--as-of",
                 "2019-11-01T06:00"], "roster.csv, row 2: contains a NUL byte")
    if case == "zip-bomb-xlsx":  # a real workbook whose sheet unpacks to 150 MB of nothing
        import zipfile

        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["Detainer Prepare Date", "Detention Facility Code"])
        book.save(where / "plain.xlsx")
        with zipfile.ZipFile(where / "plain.xlsx") as src, \
                zipfile.ZipFile(where / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", b" " * 150_000_000 + b"</sheetData>")
                out.writestr(item, data)
        return ["ice-lesa", str(where / "bomb.xlsx")], "bomb.xlsx: unpacks to 150 MB from 0.1 MB, a compression no real workbook has"
    if case == "wide-xlsx":  # every column a sheet can have
        from openpyxl import Workbook

        book = Workbook()
        book.active.append([f"column {i}" for i in range(16384)])
        book.save(where / "wide.xlsx")
        return ["ice-lesa", str(where / "wide.xlsx")], "wide.xlsx [sheet Sheet]: has no header row in its first 50 rows"
    raise ValueError(case)


CASES = ["empty", "folder", "symlink-loop", "csv-named-xlsx", "password-protected-xlsx", "nul-byte-csv",
         "utf16-jail-report", "nul-roster-snapshot", "zip-bomb-xlsx", "wide-xlsx"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_files_are_refused_and_change_nothing(engine, db_url, tmp_path, case):
    assert runner.invoke(app, ["import", str(BASE), "--db", db_url]).exit_code == 0
    args, message = _make(case, tmp_path)
    before = dump(engine)
    result = runner.invoke(app, ["ingest", *args, "--db", db_url], terminal_width=10000)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Nothing was changed." in result.output
    assert dump(engine) == before
