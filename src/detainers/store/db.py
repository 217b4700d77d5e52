"""Opening a store: engine with the right settings per backend, migrated to head."""

from __future__ import annotations

import os
import time
import weakref
from importlib import resources
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine.base import OptionEngine
from sqlalchemy.exc import OperationalError

from detainers.errors import StoreError

# How long a write waits for another one to finish before giving up (SQLite's busy timeout, and the
# wait for PostgreSQL's writer lock); DETAINERS_BUSY_SECONDS changes it. An import of a large package
# can take longer than this; the second writer then stops with `DatabaseBusy` and changes nothing.
BUSY_SECONDS = 30.0


def _busy_seconds() -> float:
    raw = os.environ.get("DETAINERS_BUSY_SECONDS", "")
    try:
        return float(raw) if raw else BUSY_SECONDS
    except ValueError:
        return BUSY_SECONDS


# The PostgreSQL advisory lock every write transaction holds (transaction-scoped): one writer at a
# time, as on SQLite. The number is arbitrary but fixed ("detainers" in ASCII, truncated).
WRITER_LOCK = 0x64657461696E65


class DatabaseBusy(StoreError):
    """Another process kept writing for longer than `BUSY_SECONDS`; nothing was changed."""


class _Connection(Connection):
    """A Connection that tells a transaction begun by its first statement (`engine.connect()`: a
    read) from one begun on purpose (`engine.begin()`, `conn.begin()`: a write; see make_engine)."""

    _detainers_implicit_begin = False

    def _autobegin(self) -> None:
        self._detainers_implicit_begin = True
        try:
            super()._autobegin()
        finally:
            self._detainers_implicit_begin = False


class _OptionEngine(OptionEngine):
    _connection_cls = _Connection  # engine.execution_options(...) keeps the distinction


def _tell_reads_from_writes(engine: Engine) -> None:
    engine._connection_cls = _Connection  # noqa: SLF001 - see _Connection
    engine._option_cls = _OptionEngine  # noqa: SLF001


def _implicit(conn: Connection) -> bool:
    return bool(getattr(conn, "_detainers_implicit_begin", False))


def _busy() -> DatabaseBusy:
    return DatabaseBusy(f"The database is busy: another write (an import or ingest, say) has been running for "
                        f"{_busy_seconds():g} seconds. Nothing was changed; run this again when it has finished.")


def _begin_sqlite(conn: Connection) -> None:
    # A read (autobegin) takes a snapshot and never waits. A write takes the write lock up front, so
    # it waits (busy_timeout) for a running writer instead of reading an old snapshot first and then
    # failing at once with "database is locked" (SQLITE_BUSY_SNAPSHOT) when it tries to write.
    if _implicit(conn):
        conn.exec_driver_sql("BEGIN")
        return
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise _busy() from exc
        raise


def _begin_postgresql(conn: Connection) -> None:
    # A read (autobegin) sees one snapshot from its first statement to its end, as on SQLite, so a
    # report built from several queries never mixes the data before and after an import. A write
    # stays READ COMMITTED and takes the writer lock first: writers run one after the other, so one
    # that reads then writes (the audit chain, the checks before an import) sees what the last
    # writer committed, and a write transaction's reads are consistent too.
    if _implicit(conn):
        if not conn.connection.driver_connection.autocommit:  # else each statement is its own transaction
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return
    deadline = time.monotonic() + _busy_seconds()
    while not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({WRITER_LOCK})").scalar():
        if time.monotonic() > deadline:
            raise _busy()
        time.sleep(0.05)


def _migrations_dir() -> str:
    return str(resources.files("detainers.store") / "migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", _migrations_dir())
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on during an import; foreign keys are off by default in SQLite.
    # synchronous=FULL: an import that reported success survives a power cut too.
    dbapi_connection.isolation_level = None  # transactions are begun explicitly (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(_busy_seconds() * 1000)}")
    cursor.close()


#: This process's open PostgreSQL connections (`_forget_server_sockets`).
_SERVER_CONNECTIONS: weakref.WeakSet = weakref.WeakSet()


def _remember_server_connection(dbapi_connection, _record) -> None:
    _SERVER_CONNECTIONS.add(dbapi_connection)


def _forget_server_sockets() -> None:
    """In a process just forked: the sockets of the PostgreSQL connections it inherited now lead
    nowhere (/dev/null). A forked process never uses them (an import's reading processes touch no
    database). Kept open there, they would keep the server from seeing a killed client go for as long
    as the forked process lives: a stopped import's session would stay in the middle of its COPY,
    holding the tables whose indexes it dropped, locked against every reader. (Nothing is sent on
    them: a forked process ends without closing its parent's connections.)"""
    if not _SERVER_CONNECTIONS:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for connection in list(_SERVER_CONNECTIONS):
            try:
                os.dup2(null, connection.pgconn.socket)
            except psycopg.Error:  # closed already
                continue
    finally:
        os.close(null)


os.register_at_fork(after_in_child=_forget_server_sockets)


def make_engine(url: str, *, pool_size: int | None = None, max_overflow: int | None = None) -> Engine:
    """Create an engine for `url` with per-backend settings; no schema work.

    Transactions: `engine.connect()` and reading begins a read transaction (one snapshot until the
    connection is closed; it never waits for a writer). `engine.begin()` (or `conn.begin()`) begins
    a write transaction, which waits for a running writer (up to BUSY_SECONDS) and then holds the
    right to write until it ends: SQLite's BEGIN IMMEDIATE, PostgreSQL's writer lock. See
    docs/architecture.md, "Concurrency".

    `pool_size`/`max_overflow` size PostgreSQL's connection pool (the web process sets them).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"Cannot open database {url}: folder {parent} does not exist.")
        engine = create_engine(url)
        _tell_reads_from_writes(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite commits DDL on its own and begins transactions lazily; take over (SQLAlchemy's
        # pysqlite recipe) so that every transaction — a migration's schema changes included — is one
        # BEGIN … COMMIT, all or nothing, and a write one begins with BEGIN IMMEDIATE.
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    options: dict = {"pool_pre_ping": True, "pool_recycle": 1800}
    if url.startswith("postgresql"):
        if pool_size is not None:
            options["pool_size"] = pool_size
        if max_overflow is not None:
            options["max_overflow"] = max_overflow
    engine = create_engine(url, **options)
    if engine.dialect.name == "postgresql":
        _tell_reads_from_writes(engine)
        event.listen(engine, "begin", _begin_postgresql)
        event.listen(engine, "connect", _remember_server_connection)
    return engine


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration revision shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there)."""
    if current_revision(engine) == head_revision():
        return
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str) -> None:
    """Run migrations up to `revision` in one transaction."""
    cfg = alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # SQLite alters a table by copying it; with foreign keys on, dropping the old copy fails.
            # The pragma only takes effect outside a transaction, so it is set before the migration begins.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.connection.driver_connection.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"Migration to {revision} left {len(broken)} broken references; "
                                         "the database was not changed.")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def open_store(url: str, **pool) -> Engine:
    """Open the database at `url`, creating or upgrading its schema as needed (`pool`: see make_engine)."""
    try:
        engine = make_engine(url, **pool)
        migrate(engine)
        _person_key_secret(engine)
    except StoreError:
        raise
    except Exception as exc:  # connection refused, bad URL, permissions
        raise StoreError(f"Cannot open database {_safe(url)}: {_first_line(exc)}") from exc
    return engine


def _person_key_secret(engine: Engine) -> None:
    """Make the person-key secret once, in a write that commits: reads (public reports) never commit,
    so a secret first made inside one would differ from run to run, and so would the pseudonyms."""
    from detainers.privacy import _SECRET_KEY, installation_secret
    from detainers.store.schema import installation

    with engine.connect() as conn:
        if conn.execute(select(installation.c.value).where(installation.c.key == _SECRET_KEY)).first():
            return
    with engine.begin() as conn:
        installation_secret(conn)


def _safe(url: str) -> str:
    from detainers.config import redact_url

    return redact_url(url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def retry_when_busy(engine: Engine, work, *, seconds: float | None = None):
    """Run `work(conn)` in a write transaction, trying again while the database stays busy.

    A write transaction already waits BUSY_SECONDS for a running writer (see make_engine); this
    waits up to `seconds` more, for small bookkeeping writes (an interrupted-work marker, the audit
    entry of a backup) that had better be written late than not at all."""
    deadline = time.monotonic() + (_busy_seconds() if seconds is None else seconds)
    while True:
        try:
            with engine.begin() as conn:
                return work(conn)
        except DatabaseBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
