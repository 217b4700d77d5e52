"""The command line: what scripts rely on, exit codes, help text."""

from __future__ import annotations

import json

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from detainers.cli import app
from tests.pkg import write_package
from tests.scenario import scenario

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_every_command_has_help_text():
    root = get_command(app)

    def walk(cmd, path):
        assert cmd.help, f"{' '.join(path)} has no help text"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, ["detainers"])


def test_import_report_stats_export(db_url, tmp_path):
    pkg = write_package(tmp_path / "pkg", scenario())
    result = run("import", str(pkg), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "detainers.csv" in result.output and "1 detainers match no booking" in result.output
    again = run("import", str(pkg), "--db", db_url, "--json")
    assert json.loads(again.output)["already_imported"] is True

    rep = run("report", "non-cooperative", "--as-of", "2019-06-01", "--format", "json", "--db", db_url)
    assert rep.exit_code == 0
    data = json.loads(rep.output)
    assert data["jurisdictions"][0]["counts"]["people"] == 3

    out = tmp_path / "r.html"
    rep = run("report", "non-cooperative", "--as-of", "2019-06-01", "--format", "html", "--out", str(out),
              "--db", db_url)
    assert rep.exit_code == 0 and out.read_text().startswith("<!doctype html>")

    st = run("stats", "outcomes", "--by", "jurisdiction", "--by", "fy", "--format", "json", "--db", db_url)
    rows = json.loads(st.output)["rows"]
    assert {"jurisdiction_id", "fy", "lodged", "honored", "declined", "transferred", "lifted", "cancelled",
            "in_custody", "unknown"} <= set(rows[0])
    assert sum(r["lodged"] for r in rows) == 8

    csv_out = run("stats", "outcomes", "--format", "csv", "--db", db_url)
    assert csv_out.output.splitlines()[0].startswith("data_label,jurisdiction_id,jurisdiction_name,state,lodged")

    ex = run("export", str(tmp_path / "exp"), "--db", db_url)
    assert ex.exit_code == 0 and (tmp_path / "exp" / "detainers.csv").exists()

    src = run("sources", "--json", "--db", db_url)
    assert [s["kind"] for s in json.loads(src.output)["rows"]] == ["package"]
    assert run("audit", "verify", "--db", db_url).exit_code == 0


def test_bad_package_exits_2_and_names_the_cell(db_url, tmp_path):
    files = scenario()
    files["detainers.csv"][1]["lodged_on"] = "13/45/2019"
    result = runner.invoke(app, ["import", str(write_package(tmp_path / "bad", files)), "--db", db_url])
    assert result.exit_code == 2
    assert "detainers.csv, row 3, column lodged_on: '13/45/2019' is not a date (expected YYYY-MM-DD)" in result.stderr
    assert "Nothing was changed." in result.stderr


@pytest.mark.parametrize("args,message", [
    (["report", "non-cooperative", "--as-of", "2019-13-01"], "--as-of: '2019-13-01' is not a date"),
    (["stats", "outcomes", "--from", "yesterday"], "--from: 'yesterday' is not a date"),
    (["classify"], "Give charge texts"),
])
def test_bad_flags_exit_2(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}"] if args[0] != "classify" else args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_unreachable_database_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["sources", "--db", f"sqlite:///{tmp_path / 'missing' / 'x.db'}"])
    assert result.exit_code == 2
    assert "folder" in result.stderr and "does not exist" in result.stderr


def test_classify_json_and_file(tmp_path):
    result = run("classify", "AGG SEXUAL ASSLT CHILD", "ICE DETAINER", "--format", "json")
    rows = json.loads(result.output)
    assert rows[0] == {"text": "AGG SEXUAL ASSLT CHILD", "category": "sex_offense_child", "violent": True,
                       "rule": rows[0]["rule"]}
    assert rows[1]["category"] == "immigration"
    f = tmp_path / "charges.txt"
    f.write_text("MURDER\n\nPOSS MARIJ <2OZ\n", encoding="utf-8")
    rows = json.loads(run("classify", "--file", str(f), "--format", "json", "--explain").output)
    assert [(r["text"], r["category"]) for r in rows] == [("MURDER", "homicide"),
                                                          ("POSS MARIJ <2OZ", "drug_possession")]
    assert "normalized" in rows[0] and "runner_up" in rows[0]


def test_version():
    assert "detainers" in run("--version").output


@pytest.mark.parametrize("args,title", [
    (["non-cooperative", "--as-of", "2019-06-01"], "People held with an active detainer on 2019-06-01"),
    (["declined", "--from", "2019-01-01", "--to", "2019-12-31"], "Detainers ended 2019-01-01 to 2019-12-31"),
    (["transfers", "--fy-from", "2019", "--fy-to", "2019"], "Transfers to ICE custody by fiscal year"),
    (["policy-change", "--jurisdiction", "nc-franklin", "--change-date", "2019-01-01"], "decline share before and after"),
    (["rearrest", "--from", "2019-01-01", "--to", "2019-12-31"], "Booked again within 365 days"),
])
def test_every_report_prints_a_summary_when_written_to_a_file(db_url, tmp_path, args, title):
    pkg = write_package(tmp_path / "pkg", scenario())
    assert run("import", str(pkg), "--db", db_url).exit_code == 0
    target = tmp_path / "out.pdf"
    result = run("report", *args, "--format", "pdf", "--out", str(target), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert title in result.output and f"Wrote {target}" in result.output
    assert target.read_bytes().startswith(b"%PDF")


def test_report_rebuilds_byte_for_byte_from_its_manifest(db_url, tmp_path):
    assert run("import", str(write_package(tmp_path / "pkg", scenario())), "--db", db_url).exit_code == 0
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("report", "declined", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "json",
               "--out", str(first), "--db", db_url).exit_code == 0
    assert run("report", "rebuild", str(first), "--out", str(second), "--db", db_url).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    bad = runner.invoke(app, ["report", "rebuild", str(tmp_path / "pkg" / "people.csv"), "--db", db_url])
    assert bad.exit_code == 2 and "cannot be read as a JSON report" in bad.stderr
