"""Importing a data package: all or nothing, precise errors, idempotent, round trip."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from sqlalchemy import func, select, text

from detainers.datapackage.exporter import export_package
from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.store.schema import charges, detainers, metadata, person_identities, people, sources
from tests.pkg import write_package
from tests.scenario import scenario


def dump(engine) -> str:
    """A checksum of every row of every table: equal dumps mean an unchanged database."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


def test_import_scenario_counts_and_derived_outcomes(engine, tmp_path):
    result = import_package(engine, write_package(tmp_path / "pkg", scenario()))
    assert result.files["detainers.csv"].added == 8
    assert result.without_booking == ["d7"]
    assert result.claim_disagreements == [{"detainer_id": "d8", "claimed": "declined", "derived": "honored"}]
    assert result.detainer_lines_in_charges == 1
    with engine.connect() as conn:
        got = dict(conn.execute(select(detainers.c.detainer_id, detainers.c.outcome)).all())
        link = conn.execute(select(detainers.c.booking_id, detainers.c.booking_link)
                            .where(detainers.c.detainer_id == "d2")).one()
        rows = conn.execute(select(detainers.c.source_id, detainers.c.source_row)
                            .where(detainers.c.detainer_id == "d3")).one()
    assert got == {"d1": "in_custody", "d2": "in_custody", "d3": "declined", "d4": "lifted",
                   "d5": "in_custody", "d6": "in_custody", "d7": "unknown", "d8": "honored"}
    assert tuple(link) == ("b2", "matched")
    assert rows.source_row == 4  # header is row 1; d3 is the third record


def test_identity_fields_live_in_the_restricted_table(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    with engine.connect() as conn:
        assert "name" not in people.c
        names = dict(conn.execute(select(person_identities.c.person_id, person_identities.c.name)).all())
    assert names["p1"] == "Quillon Varstrade"
    assert "p4" not in names  # no identity given, no row


def test_reimporting_the_same_package_is_a_no_op(engine, tmp_path):
    path = write_package(tmp_path / "pkg", scenario())
    import_package(engine, path)
    before = dump(engine)
    again = import_package(engine, path)
    assert again.already_imported
    assert dump(engine) == before


def test_changed_package_updates_only_what_changed(engine, tmp_path):
    files = scenario()
    import_package(engine, write_package(tmp_path / "v1", files))
    files["bookings.csv"][0].update(released_on="2019-07-01", release_reason="to_ice")
    result = import_package(engine, write_package(tmp_path / "v2", files))
    assert (result.files["bookings.csv"].changed, result.files["bookings.csv"].added) == (1, 0)
    assert result.files["bookings.csv"].unchanged == len(files["bookings.csv"]) - 1
    assert result.files["people.csv"].changed == 0
    with engine.connect() as conn:
        outcome = conn.execute(select(detainers.c.outcome, detainers.c.ended_on)
                               .where(detainers.c.detainer_id == "d1")).one()
    assert outcome.outcome == "honored" and str(outcome.ended_on) == "2019-07-01"


@pytest.mark.parametrize("file,row_index,column,value,message", [
    ("detainers.csv", 5, "lodged_on", "13/45/2019", "is not a date (expected YYYY-MM-DD)"),
    ("detainers.csv", 2, "lodged_on", "2019-02-30", "is not a date (expected YYYY-MM-DD)"),
    ("bookings.csv", 3, "release_reason", "BONDED OUT", "is not allowed (expected one of: to_ice"),
    ("people.csv", 7, "birth_year", "19x0", "is not a year"),
    ("detainers.csv", 7, "facility_id", "nowhere-jail", "is not in facilities.csv or the database"),
    ("charges.csv", 1, "booking_id", "b99", "is not in bookings.csv or the database"),
    ("charges.csv", 2, "category", "bad_category", "is not a category id"),
    ("policies.csv", 1, "stance", "cooperates", "is not allowed (expected one of: honors, limited, declines)"),
    ("jurisdictions.csv", 1, "fips", "3706", "is not a county FIPS code"),
])
def test_a_bad_cell_anywhere_changes_nothing(engine, tmp_path, file, row_index, column, value, message):
    import_package(engine, write_package(tmp_path / "good", {"jurisdictions.csv": scenario()["jurisdictions.csv"]}))
    before = dump(engine)
    files = scenario()
    files[file][row_index][column] = value
    with pytest.raises(InputError) as info:
        import_package(engine, write_package(tmp_path / "bad", files))
    text_ = info.value.message()
    assert f"{file}, row {row_index + 2}, column {column}: {value!r} {message}" in text_
    assert dump(engine) == before


def test_bad_relations_are_reported_with_their_rows(engine, tmp_path):
    files = scenario()
    files["bookings.csv"][0].update(released_on="2019-04-01", release_reason="bond")  # before booked_on
    files["detainers.csv"][0]["booking_id"] = "b2"  # p2's booking, not p1's
    files["detainers.csv"][3]["lifted_on"] = "2019-01-01"  # before lodged_on
    files["detainers.csv"][2]["lodged_on"] = "2019-06-05"  # after b3 ended on 2019-06-01
    files["policies.csv"][2]["effective_from"] = "2009-01-01"  # fine; then overlap for nc-franklin:
    files["policies.csv"][0]["effective_to"] = "2019-02-01"
    before = dump(engine)
    with pytest.raises(InputError) as info:
        import_package(engine, write_package(tmp_path / "bad", files))
    msg = info.value.message()
    assert "bookings.csv, row 2, column released_on: '2019-04-01' is before booked_on 2019-05-01" in msg
    assert "detainers.csv, row 2, column booking_id: 'b2' belongs to person p2, not p1" in msg
    assert "detainers.csv, row 5, column lifted_on: '2019-01-01' is before lodged_on 2019-04-02" in msg
    assert "detainers.csv, row 4, column lodged_on: '2019-06-05' is after booking b3 ended on 2019-06-01" in msg
    assert "policies.csv, row 3, column effective_from: '2019-01-01' overlaps the nc-franklin policy" in msg
    assert dump(engine) == before


def test_duplicate_ids_and_missing_columns(engine, tmp_path):
    files = scenario()
    files["people.csv"].append(dict(files["people.csv"][0]))
    with pytest.raises(InputError) as info:
        import_package(engine, write_package(tmp_path / "dup", files))
    assert "people.csv, row 10, column person_id: 'p1' appears twice (first on row 2)" in info.value.message()
    path = write_package(tmp_path / "nohdr", scenario())
    (path / "detainers.csv").write_text("detainer_id,person_id\nd1,p1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_package(engine, path)
    assert "detainers.csv, row 1, column facility_id, lodged_on: missing from the header" in info.value.message()


def test_not_a_package(engine, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        import_package(engine, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no package files"):
        import_package(engine, tmp_path / "empty")
    path = write_package(tmp_path / "latin", {"jurisdictions.csv": scenario()["jurisdictions.csv"]})
    (path / "jurisdictions.csv").write_bytes("jurisdiction_id,name,state,kind\nx,Do\xf1a Ana County,NM,county\n"
                                             .encode("latin-1"))
    with pytest.raises(InputError, match=r"jurisdictions.csv, row 2: .* is not UTF-8 text"):
        import_package(engine, path)


def test_extra_columns_warn_and_blank_rows_are_skipped(engine, tmp_path):
    path = write_package(tmp_path / "pkg", {"jurisdictions.csv": []})
    (path / "jurisdictions.csv").write_text(
        "\ufeffjurisdiction_id,name,state,kind,sheriff\n\nnc-wake,Wake County,nc,county,Someone\n,,,,\n",
        encoding="utf-8")
    result = import_package(engine, path)
    assert result.files["jurisdictions.csv"].added == 1
    assert any("sheriff" in w for w in result.warnings)


def test_failure_during_write_rolls_back(engine, tmp_path, monkeypatch):
    import_package(engine, write_package(tmp_path / "a", {"jurisdictions.csv": scenario()["jurisdictions.csv"]}))
    before = dump(engine)

    from detainers.store import bulk

    real_insert = bulk.insert_rows

    def insert_then_fail(conn, table, columns, rows):
        real_insert(conn, table, columns, rows)
        if table.name == "detainers":  # the last table written: everything else is in by now
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(bulk, "insert_rows", insert_then_fail)
    with pytest.raises(RuntimeError):
        import_package(engine, write_package(tmp_path / "b", scenario()))
    assert dump(engine) == before


def test_export_then_import_gives_the_same_answers(engine, tmp_path, db_url):
    from detainers.reports.noncooperative import NonCooperativeQuery, build
    from detainers.store.db import open_store

    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    export_package(engine, tmp_path / "export")
    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    second = open_store(second_url)
    result = import_package(second, tmp_path / "export")
    assert result.without_booking == ["d7"]
    q = NonCooperativeQuery(__import__("datetime").date(2019, 6, 1), audience="restricted")
    with engine.begin() as a, second.begin() as b:
        ra, rb = build(a, q), build(b, q)
        oa = dict(a.execute(select(detainers.c.detainer_id, detainers.c.outcome)).all())
        ob = dict(b.execute(select(detainers.c.detainer_id, detainers.c.outcome)).all())
        ca = a.execute(select(charges.c.charge_id, charges.c.category).order_by(charges.c.charge_id)).all()
        cb = b.execute(select(charges.c.charge_id, charges.c.category).order_by(charges.c.charge_id)).all()
    strip = lambda r: [(j["jurisdiction_id"], [{k: v for k, v in p.items() if k != "person_key"}  # noqa: E731
                                               for p in j["people"]]) for j in r["jurisdictions"]]
    assert strip(ra) == strip(rb)
    assert oa == ob and ca == cb
    # exporting the re-imported data gives byte-identical files
    export_package(second, tmp_path / "export2")
    for name in ("people.csv", "bookings.csv", "charges.csv", "detainers.csv", "policies.csv"):
        assert (tmp_path / "export" / name).read_bytes() == (tmp_path / "export2" / name).read_bytes(), name
    second.dispose()


def test_public_export_has_no_identity_fields_or_raw_ids(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    export_package(engine, tmp_path / "public", audience="public")
    blob = "".join(p.read_text("utf-8") for p in (tmp_path / "public").iterdir())
    assert "Quillon" not in blob and "1980-02-03" not in blob
    header = (tmp_path / "public" / "people.csv").read_text("utf-8").splitlines()[0]
    assert header == "person_id,birth_year,sex,citizenship"
    assert ",p1," not in blob and "\np1," not in blob
    # and it imports on its own
    from detainers.store.db import open_store

    other = open_store(f"sqlite:///{tmp_path / 'pub.db'}")
    assert import_package(other, tmp_path / "public").files["detainers.csv"].added == 8
    other.dispose()


def test_export_neutralises_formulas_and_reads_them_back(engine, tmp_path):
    files = scenario()
    files["charges.csv"][3]["description"] = "=HYPERLINK(\"http://x\")"
    import_package(engine, write_package(tmp_path / "pkg", files))
    export_package(engine, tmp_path / "out")
    assert "'=HYPERLINK" in (tmp_path / "out" / "charges.csv").read_text("utf-8")
    from detainers.store.db import open_store

    other = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    import_package(other, tmp_path / "out")
    with other.connect() as conn:
        desc = conn.execute(select(charges.c.description).where(charges.c.charge_id == "c4")).scalar_one()
    assert desc == "=HYPERLINK(\"http://x\")"
    other.dispose()


def test_sources_record_provenance(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario(), synthetic=True))
    with engine.connect() as conn:
        src = conn.execute(select(sources)).one()
        n = conn.execute(select(func.count()).select_from(detainers).where(detainers.c.source_id == src.source_id))
        assert n.scalar_one() == 8
    assert src.kind == "package" and src.synthetic and len(src.sha256) == 64
    assert src.rows_read == sum(len(v) for v in scenario().values())


def test_a_later_booking_links_a_stored_detainer(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "v1", scenario()))
    later = {"bookings.csv": [{"booking_id": "b7", "person_id": "p7", "facility_id": "nc-franklin-jail",
                               "booked_on": "2019-05-09", "released_on": "2019-07-01",
                               "release_reason": "sentence_served"}]}
    import_package(engine, write_package(tmp_path / "v2", later))
    with engine.connect() as conn:
        d7 = conn.execute(select(detainers).where(detainers.c.detainer_id == "d7")).one()
    assert (d7.booking_id, d7.booking_link, d7.outcome, str(d7.ended_on)) == ("b7", "matched", "declined",
                                                                              "2019-07-01")
    assert d7.ended_fy == 2019 and d7.lodged_fy == 2019


def test_likely_duplicates_are_flagged_not_dropped(engine, tmp_path):
    files = scenario()
    files["detainers.csv"].append({"detainer_id": "d1-again", "person_id": "p1", "facility_id": "nc-franklin-jail",
                                   "lodged_on": "2019-05-02", "booking_id": "b1"})
    import_package(engine, write_package(tmp_path / "pkg", files))
    with engine.connect() as conn:
        flags = dict(conn.execute(select(detainers.c.detainer_id, detainers.c.duplicate_of)).all())
    assert flags["d1-again"] == "d1" and flags["d1"] is None
    assert sum(1 for v in flags.values() if v) == 1


@pytest.mark.parametrize("value", ["2019-11-01", '"2019-11-01"'])
def test_a_package_says_which_day_it_describes(engine, tmp_path, value):
    path = write_package(tmp_path / "pkg", scenario())
    (path / "package.toml").write_text(f"as_of = {value}\n", encoding="utf-8")
    import_package(engine, path)
    with engine.connect() as conn:
        as_of = conn.execute(select(sources.c.as_of)).scalar_one()
    assert as_of.date().isoformat() == "2019-11-01"


@pytest.mark.parametrize("value", ['"2019-02-30"', '"last week"', "12"])
def test_a_package_day_that_is_not_a_date_is_refused(engine, tmp_path, value):
    path = write_package(tmp_path / "pkg", scenario())
    (path / "package.toml").write_text(f"as_of = {value}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_package(engine, path)
    assert "package.toml" in caught.value.message() and "as_of" in caught.value.message()
    assert "is not a date (YYYY-MM-DD)" in caught.value.message()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sources)).scalar_one() == 0


def test_a_blank_cell_after_an_exported_quoted_blank_is_still_blank(tmp_path):
    """Each distinct spelling of a year is read once and remembered; a quoted cell of spaces (as our export
    writes a cell that starts with a tab) is read as its text, and must not make a later blank cell of
    the same spaces read as anything but blank."""
    from detainers.datapackage import reader
    from tests.pkg import write_package

    people = [{"person_id": "p1", "birth_year": "'\t"}, {"person_id": "p2", "birth_year": "\t"},
              {"person_id": "p3", "birth_year": "1980"}, {"person_id": "p4", "birth_year": "1980"}]
    with pytest.raises(InputError) as caught:
        reader.read_package(write_package(tmp_path / "both", {"people.csv": people}))
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(2, "birth_year", "\t")]
    alone = reader.read_package(write_package(tmp_path / "alone", {"people.csv": people[1:]}))
    assert [(r["person_id"], r["birth_year"]) for r in alone.rows("people.csv")] == [
        ("p2", None), ("p3", 1980), ("p4", 1980)]
