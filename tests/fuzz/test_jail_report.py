"""Sheriffs' jail detainer reports (CSV, one block per booking), and the dispositions table users add."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from detainers.ingest import dispositions, jail_report
from detainers.ingest.base import IngestOptions
from tests.fuzz.support import (DATA, FUZZ, assert_dates_in_bounds, encoded, mutated_table, reads_cleanly, read_rows,
                                text_cell, to_csv)

_SAMPLE = read_rows(DATA / "jail-detainer-report-sample.csv")
#: The sample as it is, and without its title rows (the header first).
SAMPLES = [_SAMPLE, _SAMPLE[3:]]
TABLE_ROWS = [list(dispositions.COLUMNS), ["RELEASED TO ICE", "exact", "to_ice", "", "none", ""],
              ["BOND-", "prefix", "bond", "pending", "none", "a family"],
              ["WARRANT WITHDRAWN", "exact", "", "", "lifted", ""]]
#: Charge lines a jail writes: the detainer itself (code 4200) and charges, with their dispositions.
CHARGE_CELL = st.one_of(text_cell(), st.sampled_from(["4200", "ICE DETAINER", "RELEASED TO ICE", "BOND-SURETY",
                                                      "WARRANT WITHDRAWN", "ERROR IN ENTRY", "SENTENCE COMPLETE",
                                                      "F", "MA", "F3", "X", "30 days", "Charge", "Charge Literal",
                                                      "Booking No", "Booking Date", "Disposition Type"]))


@FUZZ
@given(table=st.sampled_from(SAMPLES).flatmap(
           lambda rows: mutated_table(rows, cell=CHARGE_CELL, header_rows=(0, 3, 5), max_ops=8)),
       data=st.data(), state=st.sampled_from([None, "TX", "NC", " tx ", "\u202e"]))
def test_report(table, data, state):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.csv"
        path.write_bytes(data.draw(encoded(to_csv(table))))
        options = IngestOptions(jurisdiction_id="tx-example", state=state)
        extract = reads_cleanly(lambda: jail_report.read(path, options), path)
        if extract is not None:
            assert_dates_in_bounds(extract.rows)


@FUZZ
@given(table=mutated_table(TABLE_ROWS, header_rows=(0,)), data=st.data())
def test_dispositions_table(table, data):
    """A user's dispositions table (`--mapping` for jail-report): read, or refused naming the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dispositions.csv"
        path.write_bytes(data.draw(encoded(to_csv(table))))
        dispositions.load_table.cache_clear()
        try:
            table_read = reads_cleanly(lambda: dispositions.table(path), path)
        finally:
            dispositions.load_table.cache_clear()
        if table_read is not None:
            for text in ("RELEASED TO ICE", "", None, "bond-x", "\u202e"):
                table_read.lookup(text)


@FUZZ
@given(text=text_cell(200))
def test_disposition_words(text):
    """Any text looks up to a meaning or to None; as_written and normalize never fail."""
    meaning = dispositions.table().lookup(text)
    assert meaning is None or meaning.charge_stage in ("pending", "convicted", "dismissed", "unknown")
    dispositions.as_written(text)
    dispositions.normalize(text)
    assert jail_report.charge_level(text, text, "TX") in ("felony", "misdemeanor", "infraction", "unknown")
    jail_report.looks_texan([text], [text])
