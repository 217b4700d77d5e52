"""No public report, in any format, carries a name or a date of birth (DESIGN §9)."""

from __future__ import annotations

import io
import subprocess
from datetime import date

import openpyxl
import pytest

from detainers.datapackage.importer import import_package
from detainers.reports import declined, noncooperative, policy_change, rearrest, transfers
from detainers.reports.render import BINARY_FORMATS, FORMATS, render, render_bytes
from tests.pkg import write_package
from tests.scenario import NAMES, scenario

QUERIES = {
    "non-cooperative": lambda: (noncooperative, noncooperative.NonCooperativeQuery(date(2019, 6, 1))),
    "declined": lambda: (declined, declined.DeclinedQuery(date(2019, 1, 1), date(2019, 12, 31))),
    "transfers": lambda: (transfers, transfers.TransfersQuery(2018, 2020)),
    "policy-change": lambda: (policy_change, policy_change.PolicyChangeQuery("nc-franklin", date(2019, 1, 1))),
    "rearrest": lambda: (rearrest, rearrest.RearrestQuery(date(2019, 1, 1), date(2019, 12, 31))),
}


def text_of(report: dict, fmt: str, tmp_path) -> str:
    if fmt in FORMATS:
        return render(report, fmt)
    data = render_bytes(report, fmt)
    if fmt == "pdf":
        path = tmp_path / "r.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_public_reports_carry_no_identity_fields(engine, tmp_path, name):
    import_package(engine, write_package(tmp_path / "p", scenario()))
    module, query = QUERIES[name]()
    with engine.begin() as conn:
        report = module.build(conn, query)
    assert report["audience"] == "public"
    for fmt in (*FORMATS, *BINARY_FORMATS):
        text = text_of(report, fmt, tmp_path)
        for person, dob in NAMES.values():
            for part in person.split():
                assert part not in text, (name, fmt, part)
            assert dob not in text, (name, fmt, dob)
