"""`detainers demo` reproduces the seed facts through the real import, lifecycle and report."""

from __future__ import annotations

import json

from rich.console import Console
from typer.testing import CliRunner

from detainers.cli import app
from detainers.demo_run import run_demo


def test_demo_mirrors_the_seed_facts(db_url, tmp_path):
    console = Console(record=True, width=200)
    figures = run_demo(db_url, tmp_path / "out", console=console)
    assert (figures["held"], figures["child"], figures["fy2017_honored"]) == (25, 11, 691)
    printed = console.export_text()
    assert printed.startswith("SYNTHETIC DEMO DATA")
    assert "Wake County, NC: 25 people held; 11 charged with a sexual offence against a child" in printed
    for path in figures["files"]:
        if path.endswith(".pdf"):
            import subprocess

            text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
        elif path.endswith(".xlsx"):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            text = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
        else:
            text = open(path, encoding="utf-8").read()
        assert "SYNTHETIC" in text, path
    assert len(figures["files"]) == 12
    report = json.loads((tmp_path / "out" / "non-cooperative-2019-11-01.json").read_text())
    wake = next(j for j in report["jurisdictions"] if j["jurisdiction_id"] == "nc-wake")
    assert wake["counts"]["by_category"]["sex_offense_child"] == 11
    # 3 convicted: a small cell, suppressed in the public report the demo writes
    assert wake["counts"]["by_category_convicted"]["sex_offense_child"] == "<5"
    assert wake["policy"]["stance"] == "declines" and wake["policy"]["effective_from"] == "2018-12-03"
    # The demo can run twice on the same database: the second import is a no-op.
    again = run_demo(db_url, tmp_path / "out", console=Console(record=True))
    assert again["held"] == 25


def test_demo_command_exits_0(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo", "--db", db, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output
    # It says how to open the dashboard on the same database.
    assert f"detainers serve --db {db}" in result.output
    assert "http://127.0.0.1:8000/" in result.output
