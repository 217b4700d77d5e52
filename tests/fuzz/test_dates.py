"""Dates, the way every reader parses them: a real date within 1900–2100, None for empty, or ValueError."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from detainers.ingest.base import parse_date, parse_datetime
from tests.fuzz.support import EARLIEST, FUZZ, LATEST, date_text, no_hang, text_cell, typed_cell


@FUZZ
@given(value=st.one_of(date_text(), text_cell(), typed_cell))
def test_parse_date(value):
    with no_hang(2.0):
        try:
            day = parse_date(value)
        except ValueError:
            return
    if day is None:
        assert value is None or not str(value).strip()
        return
    assert type(day) is date and EARLIEST <= day <= LATEST


@FUZZ
@given(value=st.one_of(date_text(), text_cell(), typed_cell))
def test_parse_datetime(value):
    with no_hang(2.0):
        try:
            moment = parse_datetime(value)
        except ValueError:
            return
    if moment is None:
        return
    assert type(moment) is datetime and EARLIEST <= moment.date() <= LATEST and moment.microsecond == 0


@FUZZ
@given(day=st.dates(min_value=EARLIEST, max_value=LATEST))
def test_every_real_date_is_read(day):
    """Every day of the accepted years, ISO or US, reads as itself."""
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}") == day
    assert parse_date(f"{day.month:02d}/{day.day:02d}/{day.year} 11:59 PM") == day
