"""Opening a store: engine with the right settings per backend, migrated to head."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from detainers.errors import StoreError


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
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with per-backend settings; no schema work."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"Cannot open database {url}: folder {parent} does not exist.")
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite commits DDL on its own and begins transactions lazily; take over so that every
        # transaction — a migration's schema changes included — is one BEGIN … COMMIT, all or nothing.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    return create_engine(url, pool_pre_ping=True)


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


def open_store(url: str) -> Engine:
    """Open the database at `url`, creating or upgrading its schema as needed."""
    try:
        engine = make_engine(url)
        migrate(engine)
    except StoreError:
        raise
    except Exception as exc:  # connection refused, bad URL, permissions
        raise StoreError(f"Cannot open database {_safe(url)}: {_first_line(exc)}") from exc
    return engine


def _safe(url: str) -> str:
    from detainers.config import redact_url

    return redact_url(url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def retry_when_busy(engine: Engine, work, *, seconds: float = 30.0):
    """Run `work(conn)` in a write transaction, starting it again while SQLite says the database is
    locked (another process is writing). A transaction that began by reading cannot wait for the
    writer in WAL mode, so it is retried whole; PostgreSQL waits by itself and runs it once."""
    import time

    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + seconds
    while True:
        try:
            with engine.begin() as conn:
                return work(conn)
        except OperationalError as exc:
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(exc.orig)
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
