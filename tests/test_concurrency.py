"""Concurrency, on every backend, with real processes: two writers at once, readers during a write,
a write transaction that read first, and many web requests at once.

The rules under test (docs/architecture.md, "Concurrency"): a write transaction (`engine.begin()`)
waits for a running writer and then holds the right to write until it ends (SQLite's BEGIN
IMMEDIATE, PostgreSQL's writer lock), so writers run one after the other; a read (`engine.connect()`)
never waits and sees one state of the data from its first statement to its end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Integer, func, insert, select

from detainers import audit
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.store.db import DatabaseBusy, open_store
from detainers.store.schema import audit_log, charges, detainers, installation, metadata, sources
from tests.conftest import BACKENDS, fresh_database
from tests.pkg import write_package
from tests.test_import import dump
from tests.scenario import scenario

CLI = [sys.executable, "-m", "detainers"]
LESA = Path(__file__).parent / "data" / "ice-lesa-detainers-sample.xlsx"
# Tables whose rows are the data; the others hold accounts, sessions, markers and secrets.
DATA_TABLES = [t for t in metadata.sorted_tables
               if t.name not in ("audit_log", "installation", "login_failures", "users", "web_sessions")]


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("concurrency")
    write_demo_package(where / "demo")  # about 5,500 detainers: a few seconds to import
    write_demo_package(where / "big", scale=10000)
    write_package(where / "scenario", scenario())
    return {"demo": where / "demo", "big": where / "big", "scenario": where / "scenario", "lesa": LESA}


def _env(**extra: str) -> dict:
    return {**os.environ, "COLUMNS": "200", **extra}


def _start(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def _write_command(kind: str, path: Path, db_url: str) -> list[str]:
    if kind == "lesa":
        return ["ingest", "ice-lesa", str(path), "--db", db_url, "--quiet"]
    return ["import", str(path), "--db", db_url, "--quiet"]


def _wait_until_writing(engine, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the process has committed its "running" marker (it begins its write right after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(installation)
                            .where(installation.c.key.like("running:%"))).scalar_one():
                return
        assert process.poll() is None, _finish(process)[1]
        time.sleep(0.02)
    raise AssertionError("the writer never started")


def fingerprint(engine) -> dict:
    """The data, without what depends only on the order the writes committed in: numbers handed out
    in insertion order, load times, and source numbers (replaced by the source's sha256)."""
    with engine.connect() as conn:
        digest = dict(conn.execute(select(sources.c.source_id, sources.c.sha256)).all())
        result: dict = {}
        for table in DATA_TABLES:
            numbered = {c.name for c in table.primary_key.columns
                        if isinstance(c.type, Integer) and len(table.primary_key.columns) == 1}
            names = [c.name for c in table.columns if c.name not in numbered | {"loaded_at"}]
            rows = []
            for row in conn.execute(select(table)).mappings():
                rows.append(repr(tuple(digest.get(row[n]) if n == "source_id" else row[n] for n in names)))
            result[table.name] = sorted(rows)
        result["audit"] = sorted(
            (r.action, json.loads(r.detail).get("path")) for r in conn.execute(select(audit_log)))
    return result


def _chain_ok(db_url: str) -> None:
    code, output = _finish(_start("audit", "verify", "--db", db_url))
    assert code == 0, output


def _commit_order(engine) -> list[str]:
    with engine.connect() as conn:
        return [json.loads(d).get("path") for d in conn.execute(
            select(audit_log.c.detail).where(audit_log.c.action.in_(("import", "ingest")))
            .order_by(audit_log.c.entry_id)).scalars()]


# ------------------------------------------------------------------ two writers at once

@pytest.mark.parametrize("first,second", [("demo", "lesa"), ("demo", "scenario")])
def test_two_writers_at_once_end_as_if_run_one_after_the_other(db_url, sqlite_template, packages, first, second):
    """Both succeed, or (demo then scenario: their policies for the same county overlap) the one that
    came second is refused with its reason and exit 2, exactly as it is when run after the other."""
    engine = open_store(db_url)
    try:
        a = _start(*_write_command(first, packages[first], db_url))
        _wait_until_writing(engine, a)
        b = _start(*_write_command(second, packages[second], db_url))  # begins while the first is writing
        results = {first: _finish(a), second: _finish(b)}
        for code, output in results.values():
            assert code in (0, 2), output
            assert "internal error" not in output and "database is locked" not in output
        assert any(code == 0 for code, _ in results.values())
        _chain_ok(db_url)
        with engine.connect() as conn:
            assert not conn.execute(select(installation.c.key).where(installation.c.key.like("running:%"))).all()
        together = fingerprint(engine)
        by_path = {str(packages[first]): first, str(packages[second]): second}
        order = [by_path[p] for p in _commit_order(engine)]
        order += [name for name in (first, second) if name not in order]  # refused: after the other
        if first == "demo" and second == "lesa":
            assert sorted(order) == sorted([first, second]) and all(c == 0 for c, _ in results.values())

        # The same two writes, one after the other, in the order they committed.
        fresh_database(db_url, sqlite_template)
        for name in order:
            code, output = _finish(_start(*_write_command(name, packages[name], db_url)))
            assert code == results[name][0], output
            if code:
                assert output == results[name][1]
        assert fingerprint(engine) == together
    finally:
        engine.dispose()


def test_a_writer_that_waits_too_long_stops_cleanly_and_changes_nothing(db_url, packages):
    """Another write transaction stays open (here: held by the test) longer than the writer will wait."""
    engine = open_store(db_url)
    holder = open_store(db_url)
    try:
        before = dump(engine)
        with holder.begin() as held:
            held.execute(insert(installation).values(key="test:holding", value="a write in progress"))
            started = time.monotonic()
            code, output = _finish(_start(*_write_command("scenario", packages["scenario"], db_url),
                                          DETAINERS_BUSY_SECONDS="1"))
            assert code == 2, output
            assert "The database is busy" in output and "Nothing was changed" in output
            assert "internal error" not in output
            assert time.monotonic() - started < 30
            held.rollback()
        assert dump(engine) == before
        with engine.connect() as conn:
            assert not conn.execute(select(installation.c.key).where(installation.c.key.like("running:%"))).all()
        # Once nothing holds the database, the same command goes through.
        code, output = _finish(_start(*_write_command("scenario", packages["scenario"], db_url)))
        assert code == 0, output
        _chain_ok(db_url)
    finally:
        holder.dispose()
        engine.dispose()


# ------------------------------------------------------------------ readers during a write

def _state(conn) -> tuple[int, int, int]:
    """Several statements in one read transaction, as a report runs them."""
    return (conn.execute(select(func.count()).select_from(detainers)).scalar_one(),
            conn.execute(select(func.count()).select_from(charges)).scalar_one(),
            conn.execute(select(func.count()).select_from(sources)).scalar_one())


def _base(db_url: str, packages) -> None:
    """Data that was there before (an ingest: it does not overlap the demo package)."""
    code, output = _finish(_start(*_write_command("lesa", packages["lesa"], db_url)))
    assert code == 0, output


def test_readers_see_the_state_before_or_after_an_import_never_between(db_url, packages):
    engine = open_store(db_url)
    try:
        _base(db_url, packages)
        with engine.connect() as conn:
            before = _state(conn)
        writer = _start(*_write_command("big", packages["big"], db_url))
        _wait_until_writing(engine, writer)
        seen = []
        while writer.poll() is None:
            with engine.connect() as conn:
                first = _state(conn)
                time.sleep(0.01)  # a report's later statements, a moment after its first
                seen.append((first, _state(conn)))
        code, output = _finish(writer)
        assert code == 0, output
        with engine.connect() as conn:
            after = _state(conn)
        assert after[0] > before[0] and after[2] == before[2] + 1
        assert {first for first, _ in seen} <= {before, after}
        assert all(first == later for first, later in seen), "a read transaction saw two states"
        assert sum(first == before for first, _ in seen) >= 3, "too few reads overlapped the import"
    finally:
        engine.dispose()


def test_a_read_transaction_keeps_its_snapshot_while_another_process_commits(db_url, packages):
    engine = open_store(db_url)
    try:
        _base(db_url, packages)
        with engine.connect() as conn:
            before = _state(conn)
            # The reader is open (mid-report); a writer in another process does not wait for it...
            code, output = _finish(_start(*_write_command("demo", packages["demo"], db_url)), timeout=300)
            assert code == 0, output
            # ...and the reader's later statements still see the data its first one saw.
            assert _state(conn) == before
        with engine.connect() as conn:
            assert _state(conn)[2] == before[2] + 1
    finally:
        engine.dispose()


# ------------------------------------------------------------------ a write transaction that read first

OTHER_WRITER = textwrap.dedent("""
    import sys
    from detainers import audit
    from detainers.store.db import open_store
    engine = open_store(sys.argv[1])
    with engine.begin() as conn:
        audit.record(conn, "other", {})
    print("written")
""")


def test_a_write_transaction_that_read_first_is_not_overtaken(db_url):
    """The known bug: a write transaction that read (the audit chain's last hash) and then wrote
    failed at once with "database is locked" on SQLite when another connection had committed in
    between (a stale WAL snapshot cannot be upgraded; busy_timeout does not help), and on PostgreSQL
    two such transactions could chain two entries to the same predecessor. Now the other writer
    waits until this transaction ends."""
    engine = open_store(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(select(audit_log.c.hash).order_by(audit_log.c.entry_id.desc()).limit(1)).scalar()
            other = subprocess.Popen([sys.executable, "-c", OTHER_WRITER, db_url], env=_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2.0)
            assert other.poll() is None, f"the other writer did not wait: {_finish(other)[1]}"
            audit.record(conn, "mine", {})
        code, output = _finish(other, timeout=60)
        assert code == 0 and "written" in output, output
        with engine.connect() as conn:
            assert [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.entry_id))] == \
                ["mine", "other"]
            assert audit.verify(conn) == []
    finally:
        engine.dispose()


def test_a_writer_waits_for_an_open_write_transaction(db_url, packages):
    engine = open_store(db_url)
    try:
        with engine.begin() as conn:
            audit.record(conn, "holding", {})
            writer = _start(*_write_command("scenario", packages["scenario"], db_url))
            time.sleep(2.0)
            assert writer.poll() is None, f"the writer did not wait: {_finish(writer)[1]}"
        code, output = _finish(writer, timeout=120)
        assert code == 0, output
        _chain_ok(db_url)
        assert _commit_order(engine) == [str(packages["scenario"])]
    finally:
        engine.dispose()


def test_waiting_too_long_raises_database_busy(db_url, monkeypatch):
    monkeypatch.setenv("DETAINERS_BUSY_SECONDS", "0.5")
    holder, waiter = open_store(db_url), open_store(db_url)
    try:
        with holder.begin() as conn:
            audit.record(conn, "holding", {})
            started = time.monotonic()
            with pytest.raises(DatabaseBusy, match="The database is busy"):
                with waiter.begin() as other:
                    audit.record(other, "never", {})
            assert time.monotonic() - started < 10
        with waiter.connect() as conn:
            assert [r.action for r in conn.execute(select(audit_log))] == ["holding"]
    finally:
        holder.dispose()
        waiter.dispose()


def test_sqlite_write_transactions_begin_immediate_and_reads_deferred(tmp_path):
    """What make_engine emits on SQLite (the pysqlite recipe: the driver's own transaction handling
    off, BEGIN sent by the `begin` event)."""
    from sqlalchemy import event, text

    engine = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *a: sent.append(statement))
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        with engine.begin() as conn:
            conn.execute(text("select 1"))
        with engine.connect() as conn, conn.begin():
            with conn.begin_nested():
                conn.execute(text("select 1"))
        begins = [s for s in sent if s.startswith("BEGIN")]
        assert begins == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
        assert any(s.startswith("SAVEPOINT") for s in sent)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (DETAINERS_TEST_BACKENDS has no postgresql)")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_reads_are_repeatable_read_and_writes_hold_the_writer_lock(db_url):
    from sqlalchemy import text

    engine = open_store(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("show transaction_isolation")).scalar() == "repeatable read"
        with engine.execution_options(logging_token="x").connect() as conn:
            assert conn.execute(text("show transaction_isolation")).scalar() == "repeatable read"
        with engine.begin() as conn:
            assert conn.execute(text("show transaction_isolation")).scalar() == "read committed"
            held = conn.execute(text("select count(*) from pg_locks where locktype = 'advisory' "
                                     "and pid = pg_backend_pid() and granted")).scalar()
            assert held == 1
    finally:
        engine.dispose()


# ------------------------------------------------------------------ the web process

def test_fifty_api_requests_at_once_all_answer(db_url, packages, monkeypatch):
    from detainers.web.app import create_app
    from detainers.web.settings import from_environment

    engine = open_store(db_url)
    import_package(engine, packages["scenario"])
    engine.dispose()
    monkeypatch.setenv("DETAINERS_DB_POOL_SIZE", "3")
    monkeypatch.setenv("DETAINERS_DB_MAX_OVERFLOW", "2")
    settings = from_environment(db_url)
    assert (settings.db_pool_size, settings.db_max_overflow) == (3, 2)
    app = create_app(settings)
    try:
        if db_url.startswith("postgresql"):
            assert app.state.engine.pool.size() == 3
        paths = ["/api/v1/stats/outcomes", "/api/v1/stats/outcomes?by=fy&by=stance",
                 "/api/v1/reports/declined?from=2018-10-01&to=2019-09-30", "/api/v1/detainers?limit=5"]
        with TestClient(app) as client, ThreadPoolExecutor(max_workers=25) as pool:
            answers = list(pool.map(lambda i: client.get(paths[i % len(paths)]), range(50)))
        assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200]
        first = answers[0].json()["rows"]
        assert all(a.json()["rows"] == first for a in answers[::len(paths)])
    finally:
        app.state.engine.dispose()


def test_pool_settings_from_the_environment_are_checked(monkeypatch):
    from detainers.errors import InputError
    from detainers.web.settings import from_environment

    monkeypatch.setenv("DETAINERS_DB_POOL_SIZE", "many")
    with pytest.raises(InputError, match="DETAINERS_DB_POOL_SIZE"):
        from_environment("sqlite://")
    monkeypatch.setenv("DETAINERS_DB_POOL_SIZE", "0")
    with pytest.raises(InputError, match="at least 1"):
        from_environment("sqlite://")
    monkeypatch.delenv("DETAINERS_DB_POOL_SIZE")
    assert (from_environment("sqlite://").db_pool_size, from_environment("sqlite://").db_max_overflow) == (10, 10)
