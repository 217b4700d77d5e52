"""Overrides win over the rules; reclassifying after a change is one command that says what moved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.offenses import active_version, classify, use_overrides
from detainers.offenses.overrides import NONE, load
from detainers.reclassify import reclassify
from detainers.store.schema import charges
from tests.pkg import write_package
from tests.scenario import scenario


@pytest.fixture
def overrides_file(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text("match,value,category,note\ntext,  dwi ,traffic,county counts DWI first offence as traffic\n"
                    "code,4242,weapons,local code\n", encoding="utf-8")
    yield path
    use_overrides(NONE)


def test_overrides_win_and_explain_themselves(overrides_file):
    assert classify("DWI").category == "dui"
    use_overrides(load(overrides_file))
    c = classify("DWI  ")
    assert (c.category, c.rule, c.runner_up) == ("traffic", "override:text", "dui")
    assert classify("SOMETHING LOCAL", code="4242").category == "weapons"
    assert classify("ICE DETAINER").is_detainer  # a detainer line is never overridden into a charge
    assert active_version().endswith("+overrides-" + load(overrides_file).digest)


def test_bad_overrides_file_names_the_cell(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("match,value,category\nphrase,X,assault\ntext,Y,violence\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load(path)
    msg = info.value.message()
    assert "row 2, column match: 'phrase' is not allowed" in msg
    assert "row 3, column category: 'violence' is not a category id" in msg


def test_reclassify_reports_what_changed(engine, tmp_path, overrides_file):
    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    with engine.begin() as conn:
        assert reclassify(conn)["updated"] == 0
    use_overrides(load(overrides_file))
    with engine.begin() as conn:
        result = reclassify(conn)
    assert result["category_changes"] == [{"from": "dui", "to": "traffic", "charges": 1}]
    assert result["updated"] == 6  # every charge now carries the new version
    with engine.connect() as conn:
        row = conn.execute(select(charges).where(charges.c.charge_id == "c2")).one()
    assert (row.category, row.classifier_rule, row.classifier_version) == ("traffic", "override:text", active_version())
