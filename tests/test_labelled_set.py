"""The hand-labelled charge set (tests/data/charges/labelled.csv) is well formed.

This checks the file only. The classifier's accuracy on it is measured by
benchmarks/classifier_eval.py, never asserted here.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from detainers.offenses import CATEGORIES

LABELLED = Path(__file__).parent / "data" / "charges" / "labelled.csv"
COLUMNS = ["text", "code", "state", "category", "level", "note"]
LEVELS = {"", "felony", "misdemeanor", "infraction", "unknown"}
VIOLENT = [c.id for c in sorted(CATEGORIES, key=lambda c: c.rank)[:7]]
COMMON = ["assault", "drug_possession", "theft_fraud", "court_supervision", "traffic", "dui",
          "public_order", "drug_trafficking"]
MIN_TOTAL = 1100
MIN_EACH = 25
MIN_VIOLENT = 40
MIN_COMMON = 50


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with LABELLED.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_columns() -> None:
    with LABELLED.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == COLUMNS
        for n, record in enumerate(reader, start=2):
            assert len(record) == len(COLUMNS), f"line {n}: {record}"


def test_size(rows) -> None:
    assert len(rows) >= MIN_TOTAL


def test_no_duplicate_texts(rows) -> None:
    keys = Counter(" ".join(r["text"].split()).casefold() for r in rows)
    assert [k for k, n in keys.items() if n > 1] == []


def test_texts_are_trimmed_and_nonempty(rows) -> None:
    for r in rows:
        assert r["text"] and r["text"] == r["text"].strip(), r


def test_categories_valid(rows) -> None:
    ids = {c.id for c in CATEGORIES}
    assert len(ids) == 20
    assert {r["category"] for r in rows} - ids == set()


def test_every_category_has_its_minimum(rows) -> None:
    counts = Counter(r["category"] for r in rows)
    for c in CATEGORIES:
        assert counts[c.id] >= MIN_EACH, (c.id, counts[c.id])


def test_violent_categories_have_40(rows) -> None:
    assert len(VIOLENT) == 7
    counts = Counter(r["category"] for r in rows)
    for cat in VIOLENT:
        assert counts[cat] >= MIN_VIOLENT, (cat, counts[cat])


def test_common_categories_have_more(rows) -> None:
    counts = Counter(r["category"] for r in rows)
    for cat in COMMON:
        assert counts[cat] >= MIN_COMMON, (cat, counts[cat])


def test_levels_valid(rows) -> None:
    assert {r["level"] for r in rows} <= LEVELS


def test_states_and_codes_well_formed(rows) -> None:
    for r in rows:
        assert r["state"] == "" or re.fullmatch(r"[A-Z]{2}", r["state"]), r
        assert r["code"] == "" or re.fullmatch(r"\d{4}|\d{8}", r["code"]), r


def test_several_sources_are_represented(rows) -> None:
    states = Counter(r["state"] for r in rows if r["state"])
    for st in ("TX", "NC", "CA", "FL", "GA", "AZ", "WA", "NY", "IL", "PA"):
        assert states[st] >= 10, (st, states[st])


def test_detainer_lines_are_immigration(rows) -> None:
    detainers = [r for r in rows if r["note"].lower().startswith("detainer line")]
    assert len(detainers) >= 10
    assert {r["category"] for r in detainers} == {"immigration"}
