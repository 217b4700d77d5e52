"""The fast paths of large loads give exactly what the plain paths give.

Large packages are read on several cores (`reader.PARALLEL_FROM`), and a first load links detainers
to the bookings it holds in memory instead of reading them back. Both are checked here against the
plain path on the same input: the same rows, problems and warnings, the same stored database.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from detainers.datapackage import importer, reader
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.errors import InputError
from detainers.store.db import open_store
from detainers.store.schema import detainers
from tests.conftest import fresh_database


def _read(path: Path, parallel: bool, monkeypatch) -> reader.Package:
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0 if parallel else 1 << 62)
    return reader.read_package(path)


def test_parallel_reading_gives_the_same_package(tmp_path, monkeypatch):
    write_demo_package(tmp_path / "demo")
    (tmp_path / "demo" / "notes.csv").write_text("a\n1\n")  # a warning, to compare too
    one_by_one = _read(tmp_path / "demo", False, monkeypatch)
    parallel = _read(tmp_path / "demo", True, monkeypatch)
    assert parallel.sha256 == one_by_one.sha256
    assert parallel.warnings == one_by_one.warnings and parallel.warnings
    assert list(parallel.files) == list(one_by_one.files)
    for name, f in one_by_one.files.items():
        assert parallel.files[name].rows == f.rows, name
        assert parallel.files[name].sha256 == f.sha256
    assert sum(len(f.rows) for f in parallel.files.values()) > 1000


def _spoil(path: Path, name: str, column: str, count: int, value: str) -> None:
    """Put `value` in `column` of `count` rows spread over one file."""
    with (path / name).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows[::len(rows) // count][:count]:
        row[column] = value
    with (path / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_parallel_reading_gives_the_same_problems_in_the_same_order(tmp_path, monkeypatch):
    """Problems in several files, more than the cap: the same list and the same count of the rest."""
    write_demo_package(tmp_path / "bad")
    _spoil(tmp_path / "bad", "people.csv", "birth_year", 10, "19x0")
    _spoil(tmp_path / "bad", "bookings.csv", "booked_on", 30, "31/02/2019")
    _spoil(tmp_path / "bad", "detainers.csv", "lodged_on", 30, "not a day")
    errors = []
    for parallel in (False, True):
        with pytest.raises(InputError) as caught:
            _read(tmp_path / "bad", parallel, monkeypatch)
        errors.append(caught.value)
    one_by_one, parallel = errors
    assert len(one_by_one.problems) == reader.MAX_PROBLEMS and one_by_one.more > 0
    assert [p.file for p in one_by_one.problems].count("people.csv") == 10
    assert len({p.file for p in one_by_one.problems}) >= 2  # the cap is reached in a later file
    assert parallel.problems == one_by_one.problems
    assert parallel.more == one_by_one.more
    assert str(parallel) == str(one_by_one)


def test_an_import_that_links_where_it_reads_tells_the_problems_reading_alone_tells(engine, tmp_path, monkeypatch):
    """Bookings and detainers read (and linked) by one process of their own: a package with problems in
    both files is refused with the problems, and the count of the rest, that reading it here gives."""
    from detainers.datapackage import parallel

    write_demo_package(tmp_path / "bad")
    _spoil(tmp_path / "bad", "bookings.csv", "booked_on", 3, "31/02/2019")
    _spoil(tmp_path / "bad", "detainers.csv", "lodged_on", 60, "not a day")
    with pytest.raises(InputError) as alone:
        _read(tmp_path / "bad", False, monkeypatch)
    assert {p.file for p in alone.value.problems} == {"bookings.csv", "detainers.csv"} and alone.value.more
    streamed = []
    real_stream = parallel.Stream
    monkeypatch.setattr(parallel, "Stream", lambda fn, *args: streamed.append(fn.__name__) or real_stream(fn, *args))
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    with pytest.raises(InputError) as imported:
        import_package(engine, tmp_path / "bad")
    assert streamed == ["_read_linked"]
    assert imported.value.problems == alone.value.problems and imported.value.more == alone.value.more


def _detainers(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(detainers).order_by(detainers.c.detainer_id)).all()


def test_first_load_links_detainers_as_reading_back_would(db_url, sqlite_template, engine, tmp_path, monkeypatch):
    """Into an empty database the booking index is built from the package; the stored outcomes, links
    and rules are those the index read back from the database gives."""
    write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    in_memory = _detainers(engine)
    assert len(in_memory) > 100

    engine.dispose()
    fresh_database(db_url, sqlite_template)
    engine = open_store(db_url)
    used = []
    plain = importer._detainer_deriver

    def read_back(conn, rows, written_bookings, *rest):
        used.append(written_bookings is not None)
        return plain(conn, rows, None, *rest)

    monkeypatch.setattr(importer, "_detainer_deriver", read_back)
    import_package(engine, tmp_path / "demo")
    assert used == [True]  # the first load would have used the package's bookings
    assert _detainers(engine) == in_memory
    engine.dispose()


def test_a_load_into_a_database_with_bookings_reads_them_back(engine, tmp_path, monkeypatch):
    """A second package's detainers may belong to bookings stored before it: those are read back."""
    from tests.pkg import write_package
    from tests.scenario import scenario

    files = scenario()
    import_package(engine, write_package(tmp_path / "first", files))
    used = []
    plain = importer._detainer_deriver

    def spy(conn, rows, written_bookings, *rest):
        used.append(written_bookings)
        return plain(conn, rows, written_bookings, *rest)

    monkeypatch.setattr(importer, "_detainer_deriver", spy)
    again = dict(files, **{"detainers.csv": [dict(d, detainer_id=d["detainer_id"] + "-again")
                                             for d in files["detainers.csv"]]})
    import_package(engine, write_package(tmp_path / "second", again))
    assert used == [None]
    stored = {d.detainer_id: d for d in _detainers(engine)}
    for d in files["detainers.csv"]:  # linked to the stored bookings just as the first ones were
        first, second = stored[d["detainer_id"]], stored[d["detainer_id"] + "-again"]
        assert (second.booking_id, second.outcome, second.ended_on) == (first.booking_id, first.outcome,
                                                                        first.ended_on)


def _stored(engine) -> dict[str, list]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all()
                for t in ("people", "bookings", "detainers", "charges", "person_identities")}


def _without_sources(stored: dict[str, list]) -> dict[str, list]:
    """The rows without their source ids (numbered by the database, so they may differ between loads)."""
    return {t: [tuple(v for k, v in r._mapping.items() if k != "source_id") for r in rows]
            for t, rows in stored.items()}


def _imported_plainly_then_fresh(db_url, sqlite_template, tmp_path) -> tuple:
    """The demo package (written to tmp_path/demo) imported the plain way: its result and what is stored
    (less source ids); then an empty database again."""
    write_demo_package(tmp_path / "demo")
    engine = open_store(db_url)
    plain = import_package(engine, tmp_path / "demo")
    here = _without_sources(_stored(engine))
    engine.dispose()
    fresh_database(db_url, sqlite_template)
    return plain, here


def _stored_plainly_then_fresh(db_url, sqlite_template, tmp_path, monkeypatch) -> dict[str, list]:
    """The demo package imported the plain way (what is stored, less source ids), then an empty database
    again, with large-load paths (reading on several cores, linking in a forked process) from any size."""
    _, here = _imported_plainly_then_fresh(db_url, sqlite_template, tmp_path)
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(importer, "DERIVE_ELSEWHERE_FROM", 0)
    return here


@pytest.mark.parametrize("where", ["where-read", "own-process"])
def test_a_large_first_load_derives_on_another_core_what_it_derives_here(
        db_url, sqlite_template, tmp_path, monkeypatch, where):
    """Read on several cores, written as read, detainers linked on another core — by the process that
    read bookings.csv and detainers.csv (when the bookings are staged), or else by a forked process
    of its own: the same database as linking them here."""
    from detainers.datapackage import parallel

    here = _stored_plainly_then_fresh(db_url, sqlite_template, tmp_path, monkeypatch)
    if where == "own-process":  # nothing staged: the reading processes send every file whole
        monkeypatch.setattr(importer, "_staging", lambda engine, scratch: (None, frozenset(), ""))
    forked, streamed = [], []
    real_child, real_stream = parallel.in_child, parallel.Stream

    def spy(fn, *args):
        forked.append(fn.__name__)
        return real_child(fn, *args)

    def stream_spy(fn, *args):
        streamed.append(fn.__name__)
        return real_stream(fn, *args)

    monkeypatch.setattr(parallel, "in_child", spy)
    monkeypatch.setattr(parallel, "Stream", stream_spy)
    engine = open_store(db_url)
    result = import_package(engine, tmp_path / "demo")
    if where == "own-process":
        assert (forked, streamed) == (["_derive_all"], [])
    else:
        assert (forked, streamed) == ([], ["_read_linked"])
    assert result.files["detainers.csv"].added == len(here["detainers"]) > 100
    assert _without_sources(_stored(engine)) == here
    engine.dispose()


def test_a_large_first_load_copies_rows_staged_on_other_cores(db_url, sqlite_template, tmp_path, monkeypatch):
    """Staged by the processes that read the files and link the detainers, copied in by SQLite or sent to
    PostgreSQL as COPY text: the same database as writing each row from here; the staging files are
    gone after."""
    from detainers.datapackage import stored
    from detainers.store import bulk

    plain, here = _imported_plainly_then_fresh(db_url, sqlite_template, tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(importer, "DERIVE_ELSEWHERE_FROM", 0)
    monkeypatch.setattr(stored, "STAGE_FROM", 0)
    copied = []
    real_insert = bulk.insert_staged

    def spy(conn, table, *args):
        copied.append(table.name)
        return real_insert(conn, table, *args)

    monkeypatch.setattr(bulk, "insert_staged", spy)
    engine = open_store(db_url)
    result = import_package(engine, tmp_path / "demo")
    assert sorted(copied) == ["bookings", "charges", "detainers", "people", "person_identities"]
    assert result.files["charges.csv"].added == len(here["charges"]) > 100
    assert result.detainer_lines_in_charges == plain.detainer_lines_in_charges > 0
    assert _without_sources(_stored(engine)) == here
    if db_url.startswith("sqlite"):
        with engine.connect() as conn:  # nothing is left attached to the connection
            assert [r[1] for r in conn.exec_driver_sql("PRAGMA database_list")] == ["main"]
    assert list(scratch.iterdir()) == []
    engine.dispose()


#: How `_read_one_in_order` and `_read_linked_in_order` run in the forked processes (set before they fork).
_IN_ORDER: dict = {}


def _wait_for_the_first(then: float = 0) -> None:
    import time

    deadline = time.monotonic() + 60
    while not _IN_ORDER["marker"].exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(then)


def _read_one_in_order(name, *args):  # module level: the reading pool is sent it by name
    if name == "charges.csv" and not _IN_ORDER["charges_first"]:
        _wait_for_the_first(then=1)
    return _IN_ORDER["read_one"](name, *args)


def _read_linked_in_order(*args):
    for sent in _IN_ORDER["read_linked"](*args):
        if sent[0] == "detainers.csv" and _IN_ORDER["charges_first"]:
            _wait_for_the_first()
        yield sent
        if sent[0] == "detainers.csv" and not _IN_ORDER["charges_first"]:
            _IN_ORDER["marker"].touch()


def _charges_read_first(tmp_path: Path, monkeypatch, charges_first: bool) -> None:
    """Make one of charges.csv (read by a pool process) and detainers.csv (read, and linked, after
    bookings.csv by a process of its own) come to the import first. Charges first: the linking process
    sends the detainers once the importing process has seen the charges read (when it is about to
    choose). Detainers first: the pool process reads the charges a second after the detainers are
    sent (the importing process looks for them every 20 ms)."""
    from concurrent import futures

    monkeypatch.setitem(_IN_ORDER, "marker", tmp_path / "first-sent")
    monkeypatch.setitem(_IN_ORDER, "charges_first", charges_first)
    monkeypatch.setitem(_IN_ORDER, "read_one", reader._read_one)
    monkeypatch.setitem(_IN_ORDER, "read_linked", reader._read_linked)
    monkeypatch.setattr(reader, "_read_one", _read_one_in_order)
    monkeypatch.setattr(reader, "_read_linked", _read_linked_in_order)
    if charges_first:
        real_first_ready = reader.PackageReading.first_ready

        def first_ready(self, names, *args):
            futures.wait([self._futures["charges.csv"]], timeout=60)
            _IN_ORDER["marker"].touch()
            return real_first_ready(self, names, *args)

        monkeypatch.setattr(reader.PackageReading, "first_ready", first_ready)


@pytest.mark.parametrize("charges_first", [True, False], ids=["charges-ahead", "in-turn"])
def test_charges_read_before_the_detainers_are_linked_are_written_first_to_the_same_database(
        db_url, sqlite_template, tmp_path, monkeypatch, charges_first):
    """A first load whose charges are staged while its detainers are still being linked writes the charges
    first (rather than waiting), their references to the detainers checked once those are in; when the
    detainers come first, the files are written in turn. Either way: the database of a plain import,
    with its foreign keys, and the files told in file order."""
    from detainers.datapackage import stored
    from detainers.store import bulk

    plain, here = _imported_plainly_then_fresh(db_url, sqlite_template, tmp_path)
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(stored, "STAGE_FROM", 0)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 10)
    _charges_read_first(tmp_path, monkeypatch, charges_first)
    copied = []
    real_insert = bulk.insert_staged
    monkeypatch.setattr(bulk, "insert_staged",
                        lambda conn, table, *args: copied.append(table.name) or real_insert(conn, table, *args))
    engine = open_store(db_url)
    keys_before = _foreign_keys(engine)
    result = import_package(engine, tmp_path / "demo")
    order = [t for t in copied if t in ("detainers", "charges")]
    assert order == (["charges", "detainers"] if charges_first else ["detainers", "charges"])
    assert list(result.files) == list(plain.files)
    assert {n: vars(f) for n, f in result.files.items()} == {n: vars(f) for n, f in plain.files.items()}
    assert _without_sources(_stored(engine)) == here
    assert _foreign_keys(engine) == keys_before
    if db_url.startswith("sqlite"):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA defer_foreign_keys").scalar() == 0  # ended with the transaction
    engine.dispose()


def _foreign_keys(engine) -> list[tuple]:
    """The foreign keys of the tables a first load fills (PostgreSQL's constraints; SQLite's are in the
    table definitions, never dropped)."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        keys = conn.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text IN ('people', 'bookings', 'detainers', 'charges') "
            "ORDER BY 1, 2")).all()
    assert len(keys) >= 6
    return [tuple(k) for k in keys]


def test_charges_written_ahead_of_a_detainer_they_name_wrongly_are_still_refused_by_the_database(
        engine, tmp_path, monkeypatch):
    """Written before the detainers, a charge naming no detainer is still refused at the end of the load —
    even with the package checks that would have told it turned off — and nothing is changed."""
    from detainers.datapackage import checks, stored
    from detainers.store import bulk

    write_demo_package(tmp_path / "bad")
    _spoil(tmp_path / "bad", "charges.csv", "detainer_id", 2, "no-such-detainer")
    before = _stored(engine)
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(stored, "STAGE_FROM", 0)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 10)
    _charges_read_first(tmp_path, monkeypatch, True)
    monkeypatch.setattr(importer, "check_package", lambda conn, pkg, **kw: checks.ProblemList())
    ahead = []
    real_ahead = importer._charges_ahead
    monkeypatch.setattr(importer, "_charges_ahead", lambda *a: ahead.append(real_ahead(*a)) or ahead[-1])
    with pytest.raises(bulk.DATABASE_ERRORS) as caught:
        import_package(engine, tmp_path / "bad")
    assert ahead == [True]
    assert "foreign key" in str(caught.value).lower()
    assert _stored(engine) == before


@pytest.mark.parametrize("staged", [False, True], ids=["written-here", "staged"])
def test_a_large_load_that_fails_its_checks_changes_nothing_and_says_what_reading_first_said(
        engine, tmp_path, monkeypatch, staged):
    """Written as read, then refused: rolled back, the problems those of checking before writing, the
    forked work stopped and the staging files gone."""
    import multiprocessing

    from detainers.datapackage import stored
    from detainers.datapackage.checks import check_package

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(stored, "STAGE_FROM", 0 if staged else 1 << 62)

    write_demo_package(tmp_path / "bad")
    _spoil(tmp_path / "bad", "detainers.csv", "lifted_on", 3, "2000-01-01")  # lifted before lodged
    _spoil(tmp_path / "bad", "charges.csv", "detainer_id", 2, "no-such-detainer")  # refused by a foreign key
    before = _stored(engine)
    with engine.connect() as conn:  # what checking before writing says
        expected = check_package(conn, reader.read_package(tmp_path / "bad")).items
    assert {p.column for p in expected} == {"lifted_on", "detainer_id"}
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(importer, "DERIVE_ELSEWHERE_FROM", 0)
    with pytest.raises(InputError) as caught:
        import_package(engine, tmp_path / "bad")
    assert caught.value.problems == expected
    assert _stored(engine) == before
    assert multiprocessing.active_children() == []
    assert list(scratch.iterdir()) == []


def test_a_large_load_checked_beside_its_writes_finds_what_checking_first_finds(engine, tmp_path, monkeypatch):
    """A second large load, checked on a connection of its own while it is written (SQLite) or in its
    transaction (PostgreSQL): references to stored rows resolve, broken ones are told as before, and a
    refused load changes nothing."""
    import threading

    from detainers.datapackage.checks import check_package
    from tests.pkg import write_package
    from tests.scenario import scenario

    files = scenario()
    import_package(engine, write_package(tmp_path / "first", files))
    second = {"detainers.csv": [dict(d, detainer_id=d["detainer_id"] + "-again") for d in files["detainers.csv"]]}
    second["detainers.csv"][0]["person_id"] = "nobody"
    before = _stored(engine)
    with engine.connect() as conn:
        expected = check_package(conn, reader.read_package(write_package(tmp_path / "bad", second))).items
    assert ("detainers.csv", "person_id", "nobody") in [(p.file, p.column, p.value) for p in expected]
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    threads = []
    real_thread = threading.Thread

    def spy(*args, **kwargs):
        threads.append(kwargs.get("name"))
        return real_thread(*args, **kwargs)

    monkeypatch.setattr(importer.threading, "Thread", spy)
    with pytest.raises(InputError) as caught:
        import_package(engine, tmp_path / "bad")
    assert caught.value.problems == expected
    assert _stored(engine) == before
    second["detainers.csv"][0]["person_id"] = files["detainers.csv"][0]["person_id"]
    result = import_package(engine, write_package(tmp_path / "good", second))
    assert result.files["detainers.csv"].added == len(second["detainers.csv"])
    assert threads == ["package check"] * 2


@pytest.mark.parametrize("broken", [False, True], ids=["good", "broken"])
def test_checks_locked_out_of_a_table_the_load_holds_are_made_in_its_transaction(
        engine, tmp_path, monkeypatch, broken):
    """PostgreSQL: a large load holds the tables whose indexes it dropped until it ends. A check that
    must read one of them (here: people, for a detainer of a person stored earlier) stops waiting after
    `LOCKED_OUT` and is made again in the load's transaction: the same answer, and no load waits for
    a check that waits for it."""
    from detainers.datapackage.checks import check_package
    from detainers.store import bulk
    from tests.pkg import write_package
    from tests.scenario import scenario

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's checking connection reads a snapshot; nothing locks it out")
    files = scenario()
    import_package(engine, write_package(tmp_path / "first", files))
    stored_person = files["people.csv"][0]["person_id"]
    newcomers = [dict(files["people.csv"][1], person_id=f"new-{n}", name=None, date_of_birth=None) for n in range(40)]
    # The detainer's person is stored: the checks must read people. Broken: lifted before it was lodged,
    # which the database accepts (a reference it refuses would end the load, and the hold, at once).
    again = dict(files["detainers.csv"][0], detainer_id="again", booking_id=None, person_id=stored_person,
                 lodged_on="2020-02-02", lifted_on="2020-01-01" if broken else None)
    second = {"people.csv": newcomers, "detainers.csv": [again]}
    before = _stored(engine)
    with engine.connect() as conn:
        expected = check_package(conn, reader.read_package(write_package(tmp_path / "plain", second))).items
    assert bool(expected) == broken
    monkeypatch.setattr(reader, "PARALLEL_FROM", 0)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 10)  # 40 new people: their indexes are dropped and held
    monkeypatch.setattr(importer._PackageCheck, "LOCKED_OUT", "100ms")
    calls = []
    real_check = importer.check_package

    def spy(conn, pkg, **kwargs):
        try:
            problems = real_check(conn, pkg, **kwargs)
        except Exception as exc:
            calls.append(("thread" if conn is not checking else "load", type(getattr(exc, "orig", exc)).__name__))
            raise
        calls.append(("thread" if conn is not checking else "load", "checked"))
        return problems

    checking = None
    real_write = importer._write_files

    def write_files(conn, *args, **kwargs):
        nonlocal checking
        checking = conn
        return real_write(conn, *args, **kwargs)

    monkeypatch.setattr(importer, "check_package", spy)
    monkeypatch.setattr(importer, "_write_files", write_files)
    if broken:
        with pytest.raises(InputError) as caught:
            import_package(engine, write_package(tmp_path / "second", second))
        assert caught.value.problems == expected
        assert _stored(engine) == before
    else:
        result = import_package(engine, write_package(tmp_path / "second", second))
        assert result.files["people.csv"].added == 40 and result.files["detainers.csv"].added == 1
    assert calls[:2] == [("thread", "LockNotAvailable"), ("load", "checked")]


def test_work_in_a_forked_process_gives_its_answer_or_its_error(tmp_path):
    from detainers.datapackage import parallel

    rows = [{"n": n} for n in range(1000)]
    assert parallel.in_child(lambda rs, k: sum(r["n"] for r in rs) * k, rows, 2).result() == 999_000
    with pytest.raises(ZeroDivisionError):
        parallel.in_child(lambda: 1 / 0).result()


def _counted(n):
    for k in range(n):
        yield [{"k": k}] * 1000
    raise ValueError(f"no more than {n}")


def test_a_forked_stream_sends_each_value_as_it_is_made_then_its_error(tmp_path):
    import multiprocessing
    import time

    from detainers.datapackage import parallel

    stream = parallel.Stream(_counted, 2)
    assert stream.next() == [{"k": 0}] * 1000
    assert stream.next() == [{"k": 1}] * 1000
    with pytest.raises(ValueError, match="no more than 2"):
        stream.next()
    stream.stop()
    assert multiprocessing.active_children() == []

    slow = parallel.Stream(lambda: iter([time.sleep(60)]))
    assert len(multiprocessing.active_children()) == 1
    slow.stop()  # stopped while working: ended, not left to sleep its minute out
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 137])
def test_a_staging_file_holds_every_row_in_order(tmp_path, count):
    """Rows go into a staging file several to a statement; those left over at the end one by one."""
    import sqlite3

    from detainers.datapackage import stored
    from detainers.datapackage.spec import FILES_BY_NAME

    rows = [{"source_row": n + 2, "person_id": f"p{n}", "birth_year": 1950 + n % 50, "sex": None,
             "citizenship": "MX", "name": f"Name {n}" if n % 3 == 0 else None, "date_of_birth": None}
            for n in range(count)]
    hashes = [f"h{n}" for n in range(count)]
    staged = stored.stage(tmp_path / "people.db", FILES_BY_NAME["people.csv"], rows, hashes)
    db = sqlite3.connect(tmp_path / "people.db")
    back = db.execute(f'SELECT person_id, birth_year, sex, citizenship, source_row, row_hash FROM "{stored.ROWS}" '
                      "ORDER BY rowid").fetchall()
    names = db.execute(f'SELECT person_id, name FROM "{stored.IDENTITIES}" ORDER BY rowid').fetchall()
    db.close()
    assert back == [(r["person_id"], r["birth_year"], None, "MX", r["source_row"], h) for r, h in zip(rows, hashes)]
    assert names == [(r["person_id"], r["name"]) for r in rows if r["name"]]
    assert (staged.rows, staged.identities) == (count, len(names))


def test_stopping_forked_work_ends_its_process(tmp_path):
    import multiprocessing
    import signal
    import time

    from detainers.datapackage import parallel

    child = parallel.in_child(time.sleep, 60)
    assert len(multiprocessing.active_children()) == 1
    child.stop()
    assert multiprocessing.active_children() == []
    assert child.exitcode == -signal.SIGKILL  # ended, not left to sleep its minute out


def test_a_staged_file_whose_table_was_written_meanwhile_is_merged_from_all_its_columns(
        db_url, sqlite_template, tmp_path, monkeypatch):
    """The reading processes send back only some columns of a staged file; if its table is no longer
    empty when the file's turn comes, the file is read again whole and merged row by row: the same
    database as writing it from here."""
    from detainers.datapackage import stored

    here = _stored_plainly_then_fresh(db_url, sqlite_template, tmp_path, monkeypatch)
    monkeypatch.setattr(stored, "STAGE_FROM", 0)
    real_staging, kept = importer._staging, []

    def staging(engine, scratch):
        answer = real_staging(engine, scratch)
        # From now on every table looks written to by someone else.
        monkeypatch.setattr(importer, "_empty", lambda conn, table: False)
        return answer

    monkeypatch.setattr(importer, "_staging", staging)
    engine = open_store(db_url)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(reader.PackageReading, "whole", _counting_whole(kept))
        result = import_package(engine, tmp_path / "demo")
    # Sent back slim (people without birth years, bookings without release reasons, detainers without
    # forms, charges without descriptions), then read again whole.
    assert {"people.csv": (False, True), "bookings.csv": (False, True), "detainers.csv": (False, True),
            "charges.csv": (False, True)}.items() <= set(kept)
    assert result.files["charges.csv"].added == len(here["charges"]) > 100
    assert _without_sources(_stored(engine)) == here
    engine.dispose()


def _counting_whole(calls: list):
    real = reader.PackageReading.whole

    column = {"people.csv": "birth_year", "bookings.csv": "release_reason", "detainers.csv": "form",
              "charges.csv": "description"}

    def whole(self, name):
        before = column.get(name, "source_row") in self.rows(name)[0]
        rows, hashes = real(self, name)
        calls.append((name, (before, column.get(name, "source_row") in rows[0] and hashes is not None)))
        return rows, hashes

    return whole


def test_a_bulk_load_turns_the_cycle_collector_off_and_back_on(engine, tmp_path):
    import gc

    from detainers.datapackage import parallel

    assert gc.isenabled()
    with parallel.bulk_objects():
        assert not gc.isenabled()
        with parallel.bulk_objects():  # a second load at once (another thread)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first still runs
        assert parallel.Child(gc.isenabled).result() is False  # forked work starts with it off
    assert gc.isenabled()
    write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    assert gc.isenabled()
    gc.disable()
    try:
        with parallel.bulk_objects():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
