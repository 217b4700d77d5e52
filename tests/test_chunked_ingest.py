"""A large CSV release is ingested in chunks: the same database, result and errors as a whole file.

`chunked.CHUNKED_FROM` and `chunked.CHUNK_ROWS` are lowered here so that a file of a few hundred rows
crosses many chunk boundaries, with people, facilities, likely duplicates and numbered ids spread
over several chunks, a facility matched to a stored one in an early chunk, and a newer release of
the same series.
"""

from __future__ import annotations

import random
import signal
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.ingest import chunked as chunked_ingest
from detainers.ingest import ice_lesa, load
from detainers.ingest.base import IngestOptions
from detainers.store.db import open_store
from detainers.store.schema import metadata, sources
from tests.conftest import fresh_database
from tests.pkg import write_package
from tests.test_ingest_ice_lesa import HEADER, MARK, record, write_csv

CHUNK = 37
#: Columns that differ between two loads of the same data: when, and the audit chain's hashes.
_WHEN = {"loaded_at", "at", "created_at", "started_at", "finished_at", "hash", "prev_hash"}


def _release(path: Path, count: int, seed: int = 7, drop: frozenset[int] = frozenset(),
             changed: frozenset[int] = frozenset()) -> Path:
    """`count` detainer rows drawn from small pools, so that everything repeats across chunks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    start = datetime(2019, 1, 14, 18, 37)
    facilities = [("WAKECNC", "WAKE COUNTY JAIL", "RALEIGH", "NORTH CAROLINA"),
                  ("DURHMNC", "DURHAM COUNTY JAIL", "DURHAM", "NORTH CAROLINA"),
                  ("", "FRANKLIN COUNTY JAIL", "COLUMBUS", "OHIO"),
                  ("FRNKLNC", "FRANKLIN COUNTY DETENTION", "LOUISBURG", "NC")]
    rows = []
    for i in range(count):
        code, name, city, state = facilities[rng.randrange(len(facilities))]
        if i > 3 * CHUNK and code == "WAKECNC" and rng.random() < 0.5:
            # another code, first seen in a later chunk, with the same name, city and state: a facility of its own
            code = "WAKE2NC"
        moment = start + timedelta(days=rng.randrange(40), minutes=rng.choice((0, 0, 5)))
        values = {
            "Detainer Prepare Date": moment.strftime("%m/%d/%Y %H:%M"), "Detention Facility Code": code,
            "Detention Facility": name, "Facility City": city, "Facility State": state,
            # a pool of people: the same person appears in many chunks (and now and then with another sex)
            "Unique Identifier": rng.choice([f"a{rng.randrange(60):09d}", "", MARK]),
            "Gender": rng.choice(["Male", "Male", "Female", "Unknown"]),
            "Birth Year": rng.choice([1981, 1990, "", "19x1"]),
            "Detainer Prep Threat Level": rng.choice(["1", "2", "3", "", "9"]),
            "Most Serious Conviction (MSC) Charge": rng.choice(["Assault", "", "Driving Under Influence"]),
            "MSC Charge Code": rng.choice(["1399", "5404", ""]),
            "Detainer Lift Reason": rng.choice(["", "Booked into Detention", "Released"]),
            "Detainer Lift Date": rng.choice(["", (moment + timedelta(days=3)).strftime("%Y-%m-%d")]),
        }
        if i in changed:
            values["Detainer Lift Reason"] = "Other"
        if i not in drop:
            rows.append(record(**values))
    return write_csv(path, rows, header=[*HEADER, "Detainer Lift Date"])


def _tables(engine) -> dict[str, list]:
    """Every table's rows, in a stable order, without the columns that say when."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.c if c.name not in _WHEN]
            rows = [tuple(r) for r in conn.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    out.pop("installation", None)  # the records version is a random token
    return out


def _ingest(engine, path: Path, chunked: bool, monkeypatch, **kw):
    monkeypatch.setattr(chunked_ingest, "CHUNKED_FROM", 0 if chunked else 1 << 62)
    monkeypatch.setattr(chunked_ingest, "CHUNK_ROWS", CHUNK)
    return load.ingest(engine, "ice-lesa", path, IngestOptions(), **kw)


def _stored_facility(engine, tmp_path: Path) -> None:
    """A facility already stored under another id with the code the release uses: matched by code."""
    import_package(engine, write_package(tmp_path / "places", {
        "jurisdictions.csv": [{"jurisdiction_id": "nc-durham", "name": "Durham County", "state": "NC",
                               "kind": "county", "fips": "37063"}],
        "facilities.csv": [{"facility_id": "durham-jail", "name": "Durham County Detention Facility",
                            "jurisdiction_id": "nc-durham", "kind": "county_jail", "city": "Durham",
                            "state": "NC", "code": "DURHMNC"}]}))


def _both_ways(db_url, sqlite_template, monkeypatch, tmp_path, load_steps):
    """Run `load_steps(engine, chunked)` on a fresh database each way; the results and tables of each."""
    outcomes = []
    for chunked in (False, True):
        fresh_database(db_url, sqlite_template)
        engine = open_store(db_url)
        try:
            results = load_steps(engine, chunked)
            outcomes.append((results, _tables(engine)))
        finally:
            engine.dispose()
    return outcomes


def test_the_reader_hands_over_chunks_that_add_up_to_the_whole_file(tmp_path):
    path = _release(tmp_path / "release.csv", 400)
    whole = ice_lesa.read(path, IngestOptions())
    handed = []
    rest = ice_lesa.read(path, IngestOptions(), chunks=lambda ex: handed.append(
        {name: list(rows) for name, rows in ex.rows.items()}), chunk_rows=CHUNK)
    handed.append(rest.rows)
    assert len(handed) == 400 // CHUNK + 1
    for name, rows in whole.rows.items():
        assert [r for chunk in handed for r in chunk.get(name, [])] == rows, name
    assert (rest.records, rest.quality, rest.notes) == (whole.records, whole.quality, whole.notes)
    assert whole.quality["detainers: likely duplicate"] > 0
    assert whole.quality["detainers: same person, facility and prepare time (id numbered)"] > 0
    assert whole.quality["people: same identifier, different sex"] > 0


def test_a_chunked_ingest_stores_what_a_whole_file_ingest_stores(db_url, sqlite_template, monkeypatch, tmp_path):
    path = _release(tmp_path / "release.csv", 500)

    def steps(engine, chunked):
        _stored_facility(engine, tmp_path)
        stages = []
        result = _ingest(engine, path, chunked, monkeypatch, stage=stages.append).as_dict()
        again = _ingest(engine, path, chunked, monkeypatch).as_dict()
        return result, again, stages

    (whole, whole_db), (chunked, chunked_db) = _both_ways(db_url, sqlite_template, monkeypatch, tmp_path, steps)
    assert chunked[0] == whole[0]
    assert chunked[1] == whole[1] and chunked[1]["already_ingested"]
    assert chunked_db == whole_db
    assert any(s.startswith("reading, checking and writing") for s in chunked[2])
    result = whole[0]
    assert result["files"]["detainers.csv"]["added"] == 500
    assert result["detainers_without_booking"] == 500
    assert result["quality"]["detainers: likely duplicate"] > 0
    # the stored facility was matched by its code in an early chunk, and kept for the later ones; a new
    # facility of a later chunk is not matched to one an earlier chunk added
    facility_ids = {r[2] for r in whole_db["detainers"]}
    assert {"ice-fac:WAKECNC", "ice-fac:WAKE2NC"} <= facility_ids
    assert "durham-jail" in facility_ids and "ice-fac:DURHMNC" not in facility_ids
    assert sum(1 for r in whole_db["detainers"] if r[2] == "durham-jail") > CHUNK


def test_a_newer_release_in_chunks_lists_what_it_no_longer_has(db_url, sqlite_template, monkeypatch, tmp_path):
    first = _release(tmp_path / "one" / "detainers.csv", 300)
    newer = _release(tmp_path / "two" / "detainers.csv", 320, drop=frozenset(range(0, 300, 17)),
                     changed=frozenset(range(5, 300, 23)))

    def steps(engine, chunked):
        _ingest(engine, first, False, monkeypatch)
        return _ingest(engine, newer, chunked, monkeypatch).as_dict()

    (whole, whole_db), (chunked, chunked_db) = _both_ways(db_url, sqlite_template, monkeypatch, tmp_path, steps)
    assert chunked == whole
    assert chunked_db == whole_db
    assert whole["previous_source_id"] is not None
    assert whole["removed"]["detainers.csv"] == len(range(0, 300, 17))
    assert whole["files"]["detainers.csv"]["changed"] > 0 and whole["files"]["detainers.csv"]["unchanged"] > 0


def test_an_unreadable_row_in_a_late_chunk_changes_nothing(engine, monkeypatch, tmp_path):
    _stored_facility(engine, tmp_path)
    path = _release(tmp_path / "release.csv", 300)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[250] = "31/31/2019" + lines[250][lines[250].index(","):]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _tables(engine)
    with pytest.raises(InputError) as caught:
        _ingest(engine, path, True, monkeypatch)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (251, "Detainer Prepare Date", "31/31/2019")
    assert _tables(engine) == before
    with engine.connect() as conn:  # nothing of the temporary work is left either
        assert conn.execute(select(sources.c.source_id).where(sources.c.kind == "ice-lesa")).first() is None
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE tablename = 'detainers'")).scalar() > 1


def test_a_problem_the_checks_find_in_a_late_chunk_changes_nothing(engine, monkeypatch, tmp_path):
    path = _release(tmp_path / "release.csv", 300)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    # a prepare date in the future (and no lift date, which would be before it)
    lines[280] = "01/02/2099 10:00" + lines[280][lines[280].index(","):lines[280].rindex(",")] + ","
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _tables(engine)
    with pytest.raises(InputError) as caught:
        _ingest(engine, path, True, monkeypatch)
    problem = caught.value.problems[0]
    assert (problem.row, problem.value) == (281, "2099-01-02")
    assert "lodged_on" in problem.column
    assert _tables(engine) == before


def test_a_file_refused_at_the_end_by_its_thresholds_changes_nothing(engine, monkeypatch, tmp_path):
    """Most threat levels unreadable: the file is refused when the last chunk is read, and rolled back."""
    rows = [record(**{"Detainer Prepare Date": datetime(2019, 2, 1) + timedelta(hours=i),
                      "Detainer Prep Threat Level": "HIGH" if i % 3 else "1", "Unique Identifier": f"p{i}"})
            for i in range(200)]
    path = write_csv(tmp_path / "shifted.csv", rows)
    before = _tables(engine)
    with pytest.raises(InputError) as caught:
        _ingest(engine, path, True, monkeypatch)
    assert "could not be read in 133 of 200 rows" in str(caught.value)
    assert _tables(engine) == before


def test_an_identifier_on_every_row_is_read_alike_and_in_linear_time(tmp_path):
    """A release whose identifier column holds the same stand-in value on every row: one person with thousands
    of days (kept by day, not looked through row by row), the same rows whole or in chunks."""
    start = datetime(2015, 10, 1, 8, 0)
    rows = [record(**{"Detainer Prepare Date": start + timedelta(hours=7 * i), "Unique Identifier": "UNKNOWN"})
            for i in range(6000)]
    rows += [record(**{"Detainer Prepare Date": start + timedelta(hours=7 * i), "Unique Identifier": "UNKNOWN"})
             for i in range(0, 6000, 500)]  # the same minute again: numbered ids
    path = write_csv(tmp_path / "one-identifier.csv", rows)
    whole = ice_lesa.read(path, IngestOptions())
    handed = []
    rest = ice_lesa.read(path, IngestOptions(), chunks=lambda ex: handed.append(ex.rows), chunk_rows=1000)
    handed.append(rest.rows)
    for name, stored in whole.rows.items():
        assert [r for chunk in handed for r in chunk.get(name, [])] == stored, name
    assert rest.quality == whole.quality
    assert len(whole.rows["people.csv"]) == 1
    assert whole.quality["detainers: same person, facility and prepare time (id numbered)"] == 12
    ids = [r["detainer_id"] for r in whole.rows["detainers.csv"]]
    assert len(set(ids)) == len(ids) == 6012 and sum(i.endswith("-2") for i in ids) == 12


def test_the_reader_process_is_stopped_when_the_writer_fails_first(engine, monkeypatch, tmp_path):
    """A problem in the second chunk: the reader, still reading (its chunks fill the pipe long before the
    end of the file), is stopped, and nothing is stored."""
    path = _release(tmp_path / "release.csv", 20_000)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[50] = "01/02/2099 10:00" + lines[50][lines[50].index(","):lines[50].rindex(",")] + ","
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    readers = []
    enter = chunked_ingest._Reader.__enter__

    def spy(self):
        readers.append(self)
        return enter(self)

    monkeypatch.setattr(chunked_ingest._Reader, "__enter__", spy)
    before = _tables(engine)
    with pytest.raises(InputError) as caught:
        _ingest(engine, path, True, monkeypatch)
    assert caught.value.problems[0].row == 51
    [reader] = readers
    assert reader.process.poll() == -signal.SIGKILL  # stopped, not left reading
    assert _tables(engine) == before


def _write(conn, pkg, chunks):
    """Write `pkg` whole (`chunks` None) or chunk by chunk with the ChunkedWriter; the result, and what the
    write tells of links: how many detainers match no booking, and the claimed outcomes that differ."""
    from detainers.datapackage.importer import ChunkedWriter, SourceInfo, write_package

    if chunks is None:
        result = write_package(conn, pkg)
        return result, (len(result.without_booking), result.claim_disagreements)
    writer = ChunkedWriter(conn, pkg.path, pkg.sha256, SourceInfo(), expected_rows=100)
    for chunk in chunks:
        writer.write(chunk)
    result = writer.finish(synthetic=pkg.synthetic, notes=pkg.warnings, quality={},
                           rows_read=sum(len(f.rows) for f in pkg.files.values()))
    return result, (writer.without_booking, result.claim_disagreements)


def test_the_chunked_writer_stores_a_package_with_bookings_as_a_whole_write_does(db_url, sqlite_template,
                                                                                 tmp_path):
    """The writer is not only for ICE releases: the demo package (bookings, charges, identities, places)
    written in chunks of a few people each stores what one whole write stores — outcomes included, which
    depend on bookings read back from earlier chunks."""
    from detainers.datapackage.reader import Package, PackageFile, read_package
    from detainers.demo import write_demo_package

    write_demo_package(tmp_path / "demo")
    pkg = read_package(tmp_path / "demo")
    people = sorted({r["person_id"] for r in pkg.rows("people.csv")})
    bucket = {person: i * 5 // len(people) for i, person in enumerate(people)}  # five chunks of people
    detainer_person = {r["detainer_id"]: r["person_id"] for r in pkg.rows("detainers.csv")}
    booking_person = {r["booking_id"]: r["person_id"] for r in pkg.rows("bookings.csv")}

    def chunk_of(name: str, row: dict) -> int:
        if name in ("people.csv", "bookings.csv", "detainers.csv"):
            return bucket[row["person_id"]]
        if name == "charges.csv":
            return bucket[booking_person[row["booking_id"]] if row["booking_id"] else detainer_person[row["detainer_id"]]]
        return 0  # places, policies, facilities: with the first chunk

    chunks = [Package(pkg.path, {}, pkg.sha256, pkg.synthetic) for _ in range(5)]
    for name, f in pkg.files.items():
        for row in f.rows:
            files = chunks[chunk_of(name, row)].files
            files.setdefault(name, PackageFile(f.spec, [], f.sha256)).rows.append(row)
    assert all(len(c.rows("detainers.csv")) > 10 for c in chunks)

    tables, told = [], []
    for chunked in (False, True):
        fresh_database(db_url, sqlite_template)
        engine = open_store(db_url)
        with engine.begin() as conn:
            told.append(_write(conn, pkg, chunks if chunked else None)[1])
        stored = _tables(engine)
        stored.pop("sources")  # the package's own as_of is a package's, not given to the writer here
        tables.append(stored)
        engine.dispose()
    whole, in_chunks = tables
    assert in_chunks == whole
    # what the load tells: how many detainers match no booking, and each claimed outcome that differs
    assert told[1] == told[0]
    assert told[0][0] > 0 and told[0][1]
    assert len(whole["detainers"]) == len(pkg.rows("detainers.csv"))
    assert len(whole["bookings"]) == len(pkg.rows("bookings.csv")) > 50
    assert whole["outcome_counts"] and whole["person_identities"]


def test_the_chunked_writer_tells_the_links_of_unchanged_and_changed_detainers_as_a_whole_write(
        db_url, sqlite_template, tmp_path):
    """A second write of a package is mostly unchanged rows, which the chunked writer reads back, and a few
    changed ones, which it counts as it writes them: what it tells is what a whole write tells."""
    import csv

    from detainers.datapackage.importer import write_package as write_whole
    from detainers.datapackage.reader import Package, PackageFile, read_package
    from detainers.demo import write_demo_package

    write_demo_package(tmp_path / "demo")
    write_demo_package(tmp_path / "again")
    with (tmp_path / "again" / "detainers.csv").open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    claims = ["honored", "declined", ""]
    changed = {}
    for i, line in enumerate(lines):
        if i % 7 == 0:  # another claim: a changed row, whose claim may now differ from the derived outcome
            was = line["outcome"]
            line["outcome"] = claims[(claims.index(was) + 1) % 3] if was in claims else ""
            changed[line["detainer_id"]] = line["outcome"] or None
    with (tmp_path / "again" / "detainers.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(lines[0]))
        out.writeheader()
        out.writerows(lines)
    first, second = read_package(tmp_path / "demo"), read_package(tmp_path / "again")
    assert first.sha256 != second.sha256 and len(changed) > 10

    def in_chunks(pkg: Package) -> list[Package]:
        chunks = [Package(pkg.path, {}, pkg.sha256, pkg.synthetic) for _ in range(3)]
        for name, f in pkg.files.items():
            for i, row in enumerate(f.rows):
                part = chunks[i % 3 if name == "detainers.csv" else 0].files  # detainers after their people
                part.setdefault(name, PackageFile(f.spec, [], f.sha256)).rows.append(row)
        return chunks

    told = []
    for chunked in (False, True):
        fresh_database(db_url, sqlite_template)
        engine = open_store(db_url)
        with engine.begin() as conn:
            write_whole(conn, first)
        with engine.begin() as conn:
            result, links = _write(conn, second, in_chunks(second) if chunked else None)
            told.append(links)
            assert result.files["detainers.csv"].changed == len(changed)
            assert result.files["detainers.csv"].unchanged == len(lines) - len(changed)
        engine.dispose()
    assert told[1] == told[0]
    assert told[0][0] > 0
    # both kinds are told: claims of changed rows (counted as written) and of unchanged ones (read back)
    claimed = {d["detainer_id"] for d in told[0][1]}
    assert claimed & changed.keys() and claimed - changed.keys()
