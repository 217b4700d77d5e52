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


@FUZZ
@given(year=st.integers(1800, 2200), month=st.integers(0, 13), day=st.integers(0, 32), hour=st.integers(0, 25),
       minute=st.integers(0, 61), second=st.integers(0, 61), iso=st.booleans())
def test_the_common_moments_read_in_one_step_as_the_general_way_reads_them(year, month, day, hour, minute, second,
                                                                           iso):
    """'MM/DD/YYYY HH:MM' and 'YYYY-MM-DD HH:MM:SS' take a shorter way; a trailing space takes the general
    one (which strips it): the same moment, or the same refusal."""
    text = (f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}" if iso
            else f"{month:02d}/{day:02d}/{year:04d} {hour:02d}:{minute:02d}")

    def read(value):
        try:
            return parse_datetime(value)
        except ValueError:
            return "refused"

    assert read(text) == read(text + " ")
