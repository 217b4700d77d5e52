"""Every input the fuzz tests found a crash or a hang with (tests/corpus/fuzz-found/<target>/), replayed.

Each file has a `<file>.expected` beside it: `ok` when the input must now be read, or the exact first
line of the error, with `{file}` for the file's path. Add a file and its `.expected` to add a case.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from detainers.errors import InputError
from detainers.ingest import agreements_287g, dispositions, ice_lesa, jail_csv, roster_snapshot
from detainers.ingest.base import IngestOptions
from detainers.offenses import CATEGORIES, classify, overrides
from tests.fuzz.support import CORPUS, DATA, assert_dates_in_bounds, no_hang

FOUND = CORPUS / "fuzz-found"
_IDS = {c.id for c in CATEGORIES}


def _dispositions(path: Path):
    dispositions.load_table.cache_clear()
    try:
        return dispositions.table(path)
    finally:
        dispositions.load_table.cache_clear()


def _classify(path: Path):
    text = path.read_text("utf-8")
    assert classify(text).category in _IDS
    return None


#: target folder → how to read one of its files
READERS = {
    "ice-lesa": lambda p: ice_lesa.read(p, IngestOptions()),
    "dispositions": _dispositions,
    "jail-csv": lambda p: jail_csv.read(DATA / "jail" / "example-export.csv",
                                        IngestOptions(jurisdiction_id="tx-example", mapping=p)),
    "roster-snapshot": lambda p: roster_snapshot.read(p, IngestOptions(
        jurisdiction_id="tx-example", facility_id="tx-example-jail", as_of=datetime(2024, 3, 5))),
    "287g-roster": lambda p: agreements_287g.read(p, IngestOptions(as_of=datetime(2025, 8, 1))),
    "classifier": _classify,
    "overrides": overrides.load,
}
CASES = sorted((d.name, f.name) for d in FOUND.iterdir() if d.is_dir()
               for f in d.iterdir() if f.suffix != ".expected")


def test_every_case_has_a_reader_and_an_expectation():
    assert CASES
    for target, name in CASES:
        assert target in READERS, target
        assert (FOUND / target / f"{name}.expected").is_file(), f"{target}/{name} has no .expected"


@pytest.mark.parametrize(("target", "name"), CASES, ids=[f"{t}/{n}" for t, n in CASES])
def test_found_input_is_read_or_refused_cleanly(target, name):
    path = FOUND / target / name
    expected = (FOUND / target / f"{name}.expected").read_text("utf-8").rstrip("\n").replace("{file}", str(path))
    with no_hang():
        try:
            result = READERS[target](path)
        except InputError as exc:
            assert str(exc).split("\n")[0] == expected
            return
    assert expected == "ok", f"read, but expected the error {expected!r}"
    if result is not None and hasattr(result, "rows"):
        assert_dates_in_bounds(result.rows)
    if target == "287g-roster":
        assert_dates_in_bounds(result.extra["roster_entries"])
