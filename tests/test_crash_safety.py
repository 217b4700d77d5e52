"""Killed with SIGKILL at random points, an import, an ingest and a re-classification leave the
database either as it was or fully updated — never half — and the next command says what happened.

`DETAINERS_KILL_POINTS` (default 3) sets how many kill points each operation gets per backend;
`make crash` runs many more.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.ingest_lesa import write_csv
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.store.db import open_store
from detainers.store.schema import installation, metadata
from tests.conftest import BACKENDS, fresh_database

KILL_POINTS = int(os.environ.get("DETAINERS_KILL_POINTS", "3"))
TABLES = [t for t in metadata.sorted_tables if t.name != "installation"]


def dump(engine) -> str:
    """Every row of every table but `installation` (where markers and secrets live), as one checksum."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES
                if t.name not in ("audit_log",)}


def markers(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(installation)
                            .where(installation.c.key.like("running:%"))).scalar_one()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    where = tmp_path_factory.mktemp("crash")
    write_demo_package(where / "package", scale=15000)
    write_csv(where / "ice-release.csv", 40000)
    overrides = where / "overrides.csv"
    overrides.write_text("match,value,category\ncode,3599,other\ncode,1399,other\n", encoding="utf-8")
    return where


def _command(operation: str, inputs: Path, db_url: str) -> list[str]:
    base = [sys.executable, "-m", "detainers"]
    if operation == "import":
        return [*base, "import", str(inputs / "package"), "--db", db_url, "--quiet"]
    if operation == "ingest":
        return [*base, "ingest", "ice-lesa", str(inputs / "ice-release.csv"), "--db", db_url, "--quiet"]
    return [*base, "reclassify", "--db", db_url]


def _prepare(operation: str, inputs: Path, db_url: str) -> None:
    """What must be in the database before the operation (re-classification needs charges)."""
    if operation == "reclassify":
        engine = open_store(db_url)
        import_package(engine, inputs / "package")
        engine.dispose()


@pytest.mark.parametrize("operation", ["import", "ingest", "reclassify"])
def test_killed_at_random_points_nothing_is_half_written(db_url, sqlite_template, inputs, operation):
    rng = random.Random(f"{operation}-{db_url[:6]}")
    env = {**os.environ, "DETAINERS_OVERRIDES": str(inputs / "overrides.csv")} if operation == "reclassify" \
        else dict(os.environ)
    # The whole operation once, timed, for the finished state and the span to kill in.
    fresh_database(db_url, sqlite_template)
    _prepare(operation, inputs, db_url)
    engine = open_store(db_url)
    before = dump(engine)
    started = time.monotonic()
    subprocess.run(_command(operation, inputs, db_url), env=env, check=True, capture_output=True)
    duration = time.monotonic() - started
    after, after_counts = dump(engine), counts(engine)
    assert after != before
    engine.dispose()

    outcomes = {"unchanged": 0, "complete": 0}
    for point in range(KILL_POINTS):
        fresh_database(db_url, sqlite_template)
        _prepare(operation, inputs, db_url)
        engine = open_store(db_url)
        before = dump(engine)
        process = subprocess.Popen(_command(operation, inputs, db_url), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, duration * 0.95))
        process.send_signal(signal.SIGKILL)
        process.wait()
        left_marker = markers(engine) > 0
        # The next command: says whether something was stopped, and clears the note.
        nxt = subprocess.run([sys.executable, "-m", "detainers", "sources", "--db", db_url], env=env,
                             capture_output=True, text=True)
        assert nxt.returncode == 0, nxt.stderr
        said = "did not finish" in nxt.stderr
        assert said == left_marker, (point, nxt.stderr)
        assert markers(engine) == 0
        state = dump(engine)
        if state == before:
            outcomes["unchanged"] += 1
        else:
            # Not as before: then entirely done (same rows as the uninterrupted run; ids and times aside).
            assert counts(engine) == after_counts, (operation, point)
            assert not said, "a finished operation was reported as stopped"
            outcomes["complete"] += 1
        engine.dispose()
    assert sum(outcomes.values()) == KILL_POINTS


def test_a_failed_import_leaves_no_marker_and_no_note(engine, db_url, tmp_path):
    """An ordinary failure (bad input) says so itself and leaves no 'did not finish' note behind."""
    from detainers.errors import InputError
    from tests.pkg import write_package
    from tests.scenario import scenario

    files = scenario()
    files["detainers.csv"][0]["lodged_on"] = "2019-02-30"
    with pytest.raises(InputError):
        import_package(engine, write_package(tmp_path / "bad", files))
    assert markers(engine) == 0
    from detainers.interrupted import stopped

    assert stopped(engine) == []


def test_a_marker_of_a_running_process_is_left_alone(engine):
    """Another command still at work (its process is alive) is not reported as stopped."""
    from detainers.interrupted import guard, stopped

    with guard(engine, "import", "somewhere") as mark:
        assert stopped(engine) == []  # this very process is alive
        assert markers(engine) == 1
        with engine.begin() as conn:
            mark.done(conn)
    assert markers(engine) == 0


_KILLED_WITH_A_FORKED_CHILD = """
import os, sys, time
from detainers.datapackage import parallel
from detainers.store.db import make_engine

engine = make_engine(sys.argv[1])
conn = engine.connect()
backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
conn.exec_driver_sql("BEGIN")
conn.exec_driver_sql("CREATE TEMPORARY TABLE held (i int)")
conn.exec_driver_sql("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
child = parallel.Child(time.sleep, 120)  # forked work, as an import's reading processes are
print(backend, child._process.pid, flush=True)
os.kill(os.getpid(), 9)  # killed in the middle of its transaction
"""


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (DETAINERS_TEST_BACKENDS has no postgresql)")
def test_a_killed_client_s_session_ends_though_its_forked_processes_live_on(pg_database, tmp_path):
    """A process killed mid-transaction while processes it forked still run: the server sees it go (its
    session ends, its locks are let go) at once, not when they end. The forked processes do not keep
    its connections' sockets."""
    from sqlalchemy import create_engine, text

    script = tmp_path / "killed.py"
    script.write_text(_KILLED_WITH_A_FORKED_CHILD)
    # (Its output is read line by line: the forked process holds the pipe open after it is killed.)
    killed = subprocess.Popen([sys.executable, str(script), pg_database], stdout=subprocess.PIPE, text=True)
    line = killed.stdout.readline()
    assert killed.wait(timeout=60) == -signal.SIGKILL
    killed.stdout.close()
    backend, child = (int(v) for v in line.split())
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    try:
        os.kill(child, 0)  # the forked process lives on
        deadline = time.monotonic() + 10
        with admin.connect() as conn:
            while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": backend}).scalar():
                assert time.monotonic() < deadline, "the killed client's session is still open"
                time.sleep(0.1)
        os.kill(child, 0)  # ... and still did when the session had ended
    finally:
        admin.dispose()
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
