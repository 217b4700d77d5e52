"""Test fixtures: real databases on every backend the run asks for.

`DETAINERS_TEST_BACKENDS` (default `sqlite,postgresql`) names the backends; tests
that take the `engine` or `db_url` fixture run once on each. PostgreSQL comes
from `DETAINERS_TEST_PG` (default: the server this machine kind starts). If a
backend was asked for and cannot be reached, the run stops with an error: it is
never skipped silently.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from detainers.store.db import make_engine, migrate, open_store
from detainers.store.schema import metadata

BACKENDS = [b.strip() for b in os.environ.get("DETAINERS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
PG_ADMIN_URL = os.environ.get("DETAINERS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SAMPLES = Path(__file__).parent / "data"


def pytest_report_header(config):
    return f"detainers test backends: {', '.join(BACKENDS)}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(make_engine(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database():
    """A throw-away PostgreSQL database for this test session, migrated once."""
    if "postgresql" not in BACKENDS:
        yield None
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - the message is the point
        pytest.exit(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({type(exc).__name__}). Start it (see .ci/run) "
            "or run only SQLite with DETAINERS_TEST_BACKENDS=sqlite.", returncode=3)
    name = f"detainers_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def fresh_database(db_url: str, sqlite_template: Path) -> None:
    """Back to an empty, migrated database (the SQLite file and its WAL replaced, PostgreSQL truncated)."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copy(sqlite_template, path)
    else:
        _truncate_all(db_url)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template, pg_database) -> str:
    """The URL of an empty, migrated database on one backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if request.param == "postgresql":
        _truncate_all(pg_database)
        return pg_database
    raise ValueError(f"unknown backend {request.param!r} in DETAINERS_TEST_BACKENDS")


@pytest.fixture
def engine(db_url):
    engine = open_store(db_url)
    yield engine
    engine.dispose()
