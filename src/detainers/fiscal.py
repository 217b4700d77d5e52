"""U.S. federal fiscal years: FY2017 runs from 2016-10-01 to 2017-09-30."""

from __future__ import annotations

from datetime import date


def fiscal_year(day: date) -> int:
    """The federal fiscal year a date falls in (October starts the next year's FY)."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """First and last day of fiscal year `fy`, both inclusive."""
    return date(fy - 1, 10, 1), date(fy, 9, 30)
