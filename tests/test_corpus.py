"""Every bad input in tests/corpus/packages gives its exact error, exit code 2, and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from tests.test_import import dump

CORPUS = Path(__file__).parent / "corpus" / "packages"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "_base")
runner = CliRunner()


def test_the_corpus_is_all_there():
    assert len(CASES) >= 30
    for name in CASES:
        files = {f.name for f in (CORPUS / name).iterdir()}
        assert "expected.txt" in files and len(files) >= 2, name


@pytest.fixture
def loaded(engine, db_url):
    """A database holding the base package: a bad import must leave it exactly so."""
    result = runner.invoke(app, ["import", str(CORPUS / "_base"), "--db", db_url])
    assert result.exit_code == 0, result.output
    return engine


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_its_exact_error(loaded, db_url, tmp_path, case):
    package = tmp_path / "package"
    shutil.copytree(CORPUS / "_base", package)
    for bad in (CORPUS / case).iterdir():
        if bad.name != "expected.txt":
            shutil.copy(bad, package / bad.name)
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    before = dump(loaded)
    result = runner.invoke(app, ["import", str(package), "--db", db_url], terminal_width=10000)
    assert result.exit_code == 2, result.output
    first, *rest = result.output.split("\n")
    assert first == f"error: {expected}", result.output
    assert "Nothing was changed." in rest
    assert dump(loaded) == before


def test_a_100_megabyte_line_is_refused_not_swallowed(loaded, db_url, tmp_path):
    """Made here rather than committed: one cell of 100 MB in people.csv."""
    package = tmp_path / "package"
    shutil.copytree(CORPUS / "_base", package)
    people = (package / "people.csv").read_text(encoding="utf-8")
    name = people.splitlines()[1].split(",")[4]
    (package / "people.csv").write_text(people.replace(name, "A" * 100_000_000, 1), encoding="utf-8")
    before = dump(loaded)
    result = runner.invoke(app, ["import", str(package), "--db", db_url], terminal_width=10000)
    assert result.exit_code == 2
    assert result.output.startswith("error: people.csv, row 2: is not valid CSV: field larger than field limit")
    assert dump(loaded) == before
