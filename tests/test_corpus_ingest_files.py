"""Every bad file in tests/corpus/ingest gives its exact error, exit code 2, and changes nothing.

Each case folder holds the bad file, `args.txt` (the `detainers ingest` arguments on one line,
`{dir}` standing for the folder) and `expected.txt` (text the output must contain: file name, row,
column, value and what was expected). See tests/corpus/README.md.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from tests.test_import import dump

CORPUS = Path(__file__).parent / "corpus" / "ingest"
BASE = Path(__file__).parent / "corpus" / "packages" / "_base"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
runner = CliRunner()


def _args(case: str) -> list[str]:
    line = (CORPUS / case / "args.txt").read_text(encoding="utf-8").strip()
    return [part.replace("{dir}", str(CORPUS / case)) for part in shlex.split(line)]


def test_the_ingest_corpus_is_all_there():
    assert len(CASES) >= 25
    kinds = set()
    for name in CASES:
        files = {f.name for f in (CORPUS / name).iterdir()}
        assert {"args.txt", "expected.txt"} <= files and len(files) >= 3, name
        assert (CORPUS / name / "expected.txt").read_text(encoding="utf-8").strip(), name
        kinds.add(_args(name)[0])
    assert kinds == {"ice-lesa", "jail-report", "jail-csv", "roster-snapshot", "287g-roster"}


@pytest.mark.parametrize("case", CASES)
def test_bad_ingest_file_is_refused_with_its_exact_error(engine, db_url, case):
    assert runner.invoke(app, ["import", str(BASE), "--db", db_url]).exit_code == 0
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    before = dump(engine)
    result = runner.invoke(app, ["ingest", *_args(case), "--db", db_url], terminal_width=10000)
    assert result.exit_code == 2, result.output
    first = result.output.split("\n")[0]
    assert first.startswith("error: ") and expected in first, result.output
    assert first.endswith(expected), result.output  # the whole message, after the file's folder
    assert "Nothing was changed." in result.output
    assert dump(engine) == before
